/**
 * Raspberry Pi identity: model from the device tree (/sys/firmware/devicetree/base/model is
 * where /proc/device-tree points on a real Pi; the lab can only provide the former), then
 * /proc/cpuinfo; serial as the netboot TFTP folder name (last 8 hex digits, lowercase);
 * revision code; which folder holds cmdline.txt (bookworm: /boot/firmware, older: /boot).
 */
import { keyValues, type Fact } from "./types.ts";

export interface PiFacts extends Record<string, unknown> {
  pi: { is_pi: boolean; model: string | null; serial: string | null; revision: string | null };
  boot_firmware_dir: string | null;
}

export const piFact: Fact<PiFacts> = {
  name: "pi",
  command: [
    "for f in /sys/firmware/devicetree/base/model /proc/device-tree/model; do if [ -r $f ]; then printf 'dt_model: %s\\n' \"$(tr -d '\\000' < $f)\"; break; fi; done",
    "for f in /sys/firmware/devicetree/base/serial-number /proc/device-tree/serial-number; do if [ -r $f ]; then printf 'dt_serial: %s\\n' \"$(tr -d '\\000' < $f)\"; break; fi; done",
    "grep -E '^(Hardware|Revision|Serial|Model)[[:space:]]*:' /proc/cpuinfo",
    "for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]; then echo \"boot_dir: $d\"; break; fi; done",
  ].join("; "),
  parse(output) {
    const kv = keyValues(output, /:/);
    const model = kv.get("dt_model") || kv.get("Model") || null;
    const serialRaw = (kv.get("dt_serial") || kv.get("Serial") || "").toLowerCase();
    const hex = /^[0-9a-f]+$/.test(serialRaw) ? serialRaw : "";
    // The bootloader asks TFTP for <last 8 hex digits>/start4.elf.
    const serial = hex ? hex.slice(-8).padStart(8, "0") : null;
    const isPi = !!model && /raspberry pi/i.test(model);
    return {
      pi: {
        is_pi: isPi,
        model,
        serial: isPi ? serial : null,
        revision: isPi ? (kv.get("Revision")?.toLowerCase() ?? null) : null,
      },
      boot_firmware_dir: kv.get("boot_dir") ?? null,
    };
  },
};
