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

export const ALL_PROBES: ReadonlyArray<Probe<any, unknown>> = [FILE_PROBE, PUT_FILE_PROBE, BOOT_FILES_PROBE, FILE_PATHS_PROBE, COPY_TREE_PROBE];
