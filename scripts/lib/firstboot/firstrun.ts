/**
 * `firstrun.sh` for Raspberry Pi OS bookworm and older, the mechanism the Raspberry Pi Imager
 * uses: the script on the boot partition plus `systemd.run=/boot/firstrun.sh
 * systemd.run_success_action=reboot systemd.unit=kernel-command-line.target` on the kernel
 * command line. systemd runs it once as root early in the first boot, then reboots; the
 * script removes itself and those tokens. On bookworm the partition is mounted at
 * /boot/firmware: the image's initramfs (raspberrypi-sys-mods' imager_fixup) rewrites the
 * path in cmdline.txt and cuts the script at its first `rm ... firstrun.sh` line, appending
 * its own clean-up, so that line must come last and be the only one of its kind.
 *
 * The work is done by the OS's own tools, which know its details: raspberrypi-sys-mods'
 * `imager_custom` (hostname, SSH and keys, Wi-Fi, keymap, time zone) and userconf-pi's
 * `userconf` (renames the first user and sets its password hash). Every value is quoted.
 */
import { quote } from "../shell/quote.ts";
import { desiredContent, configPath } from "../modules/static_ip.ts";
import type { FirstbootSettings } from "./settings.ts";

/** Tokens the Imager puts on the kernel command line for firstrun.sh. */
export const FIRSTRUN_TOKENS = ["systemd.run=/boot/firstrun.sh", "systemd.run_success_action=reboot", "systemd.unit=kernel-command-line.target"];

const IMAGER = "/usr/lib/raspberrypi-sys-mods/imager_custom";
const USERCONF = "/usr/lib/userconf-pi/userconf";

export function renderFirstrun(s: FirstbootSettings): string {
  const lines = [
    "#!/bin/sh",
    `# Written by pi-cluster-runner (scripts/firstboot.ts) for ${s.hostname}. Runs once at the first`,
    "# boot (systemd.run= in cmdline.txt), then removes itself and those cmdline.txt tokens.",
    "# Keep going on errors: the clean-up at the end must run, or every boot would run this again.",
    "set +e",
    "",
    `IMAGER=${IMAGER}`,
    `USERCONF=${USERCONF}`,
    'for tool in "$IMAGER" "$USERCONF"; do',
    '  [ -x "$tool" ] || echo "firstrun.sh: $tool is missing: this image is not Raspberry Pi OS bookworm or older" >&2',
    "done",
    "",
    `"$IMAGER" set_hostname ${quote(s.hostname)}`,
    // enable_ssh -k writes the keys of the first user (uid 1000), which userconf then renames
    // and moves (home included): keys first, user second.
    `"$IMAGER" enable_ssh -k ${s.authorizedKeys.map((k) => quote(k)).join(" ")}`,
    `"$USERCONF" ${quote(s.user)} ${quote(s.passwordHash)}`,
  ];
  if (s.wifi) {
    const w = s.wifi;
    lines.push(`"$IMAGER" set_wlan ${w.hidden ? "-h " : ""}${quote(w.ssid)} ${quote(w.psk)} ${quote(w.country)}`);
  }
  if (s.keyboard) lines.push(`"$IMAGER" set_keymap ${quote(s.keyboard)}`);
  if (s.timezone) lines.push(`"$IMAGER" set_timezone ${quote(s.timezone)}`);
  if (s.locale) lines.push(`raspi-config nonint do_change_locale ${quote(s.locale)}`);
  if (s.staticIp) {
    // The same keyfile the static-ip role writes for NetworkManager (bookworm's stack), so the
    // role finds the address already configured and changes nothing.
    const ip = s.staticIp;
    const path = configPath("networkmanager", ip.interface);
    const content = desiredContent("networkmanager", ip.interface, { address: ip.address, gateway: ip.gateway, dns: ip.dns }, null);
    lines.push(
      "",
      `install -d -m 700 ${quote(path.slice(0, path.lastIndexOf("/")))}`,
      `cat > ${quote(path)} <<'PI_CLUSTER_EOF'`,
      content.trimEnd(),
      "PI_CLUSTER_EOF",
      `chmod 600 ${quote(path)}`,
    );
  }
  lines.push(
    "",
    "rm -f /boot/firstrun.sh",
    "sed -i 's| systemd\\.run[^ ]*||g; s| systemd\\.unit=kernel-command-line\\.target||g' /boot/cmdline.txt",
    "exit 0",
  );
  return `${lines.join("\n")}\n`;
}
