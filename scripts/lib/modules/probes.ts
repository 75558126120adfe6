/**
 * Every named probe (probe.ts), for the tests that hold them to account: the module fixtures
 * may answer only these names, and test/e2e/probes.test.ts runs each on a real shell.
 */
import type { Probe } from "./types.ts";
import { FILE_PROBE } from "./remote-file.ts";
import { PUT_FILE_PROBE } from "./support/put-file.ts";
import { BOOT_FILES_PROBE } from "./support/rpi-boot.ts";
import { FILE_PATHS_PROBE } from "./file.ts";
import { COPY_TREE_PROBE } from "./copy.ts";
import { KEY_FILE_PROBE } from "./authorized_key.ts";
import { DOWNLOAD_PROBE } from "./get_url.ts";
import { LOCALES_PROBE } from "./locale_gen.ts";
import { MODULE_PROBE } from "./modprobe.ts";
import { MOUNT_PROBE } from "./mount.ts";
import { SYSCTL_PROBE } from "./sysctl.ts";
import { ACCOUNT_PROBE } from "./user.ts";
import { GROUP_PROBE } from "./group.ts";
import { HOSTNAME_PROBE } from "./hostname.ts";
import { ALTERNATIVES_PROBE } from "./alternatives.ts";
import { SELECTION_PROBE } from "./dpkg_selections.ts";
import { SIGNATURE_PROBE } from "./filesystem.ts";
import { DISK_PROBE } from "./parted.ts";
import { BOOTLOADER_PROBE } from "./rpi_eeprom.ts";
import { TIMEZONE_PROBE } from "./timezone.ts";
import { ANSWERS_PROBE, PASSWORD_PROBE } from "./debconf.ts";
import { CRONTAB_PROBE } from "./cron.ts";
import { KNOWN_HOSTS_PROBE } from "./known_hosts.ts";
import { APT_SOURCES_PROBE } from "./apt_repository.ts";

export const ALL_PROBES: ReadonlyArray<Probe<any, unknown>> = [
  FILE_PROBE,
  PUT_FILE_PROBE,
  BOOT_FILES_PROBE,
  FILE_PATHS_PROBE,
  COPY_TREE_PROBE,
  KEY_FILE_PROBE,
  DOWNLOAD_PROBE,
  LOCALES_PROBE,
  MODULE_PROBE,
  MOUNT_PROBE,
  SYSCTL_PROBE,
  ACCOUNT_PROBE,
  GROUP_PROBE,
  HOSTNAME_PROBE,
  ALTERNATIVES_PROBE,
  SELECTION_PROBE,
  SIGNATURE_PROBE,
  DISK_PROBE,
  BOOTLOADER_PROBE,
  TIMEZONE_PROBE,
  ANSWERS_PROBE,
  PASSWORD_PROBE,
  CRONTAB_PROBE,
  KNOWN_HOSTS_PROBE,
  APT_SOURCES_PROBE,
];
