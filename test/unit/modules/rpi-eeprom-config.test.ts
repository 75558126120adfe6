/**
 * rpi_eeprom's pure parts: reading a bootloader config (which settings apply on every board),
 * the wanted settings checked against the bootloader's grammar, and the edit that changes only
 * what differs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { editEepromConfig, readEepromConfig, wantedSettings } from "../../../scripts/lib/modules/rpi_eeprom.ts";
import { ModuleFailure } from "../../../scripts/lib/modules/types.ts";

test("readEepromConfig: the top and [all] sections apply, other boards' sections and comments do not; the last one wins", () => {
  const text = "# comment\nBOOT_UART=0\n[pi400]\nBOOT_ORDER=0x4\n[all]\nBOOT_ORDER = 0xf41\nBOOT_ORDER=0xf21\n[cm4]\nTFTP_PREFIX=1\n";
  assert.deepEqual([...readEepromConfig(text)], [["BOOT_UART", "0"], ["BOOT_ORDER", "0xf21"]]);
  assert.deepEqual([...readEepromConfig("")], []);
});

test("wantedSettings: named options become the bootloader's names; hex lowercased", () => {
  assert.deepEqual([...wantedSettings({ boot_order: "0xF21", tftp_prefix: 2, tftp_prefix_str: "rack-a/", tftp_ip: "10.0.0.2", settings: { DHCP_TIMEOUT: 45000 } })], [
    ["DHCP_TIMEOUT", "45000"],
    ["BOOT_ORDER", "0xf21"],
    ["TFTP_PREFIX", "2"],
    ["TFTP_PREFIX_STR", "rack-a/"],
    ["TFTP_IP", "10.0.0.2"],
  ]);
});

test("wantedSettings: values outside the grammar are refused with the option and the value (a templated value is checked again)", () => {
  for (const [args, option] of [
    [{ boot_order: "0xf81" }, "boot_order"],
    [{ boot_order: "0x123456789" }, "boot_order"],
    [{ boot_order: "f21" }, "boot_order"],
    [{ settings: { BOOT_ORDER: "0x1\nBOOT_UART=1" } }, "settings.BOOT_ORDER"],
    [{ settings: { BOOT_ORDER: "0x9" } }, "settings.BOOT_ORDER"],
    [{ settings: { "A B": "1" } }, "settings"],
    [{ tftp_ip: "10.0.0.256" }, "tftp_ip"],
    [{ tftp_prefix_str: "a b" }, "tftp_prefix_str"],
  ] as const) {
    assert.throws(() => wantedSettings(args as never), (e: unknown) => e instanceof ModuleFailure && e.message.includes(`rpi_eeprom: ${option} `), JSON.stringify(args));
  }
});

test("editEepromConfig: only differing settings change, in place under [all]; missing ones are added there; equal hex is no change", () => {
  const text = "[all]\nBOOT_UART=0\nBOOT_ORDER=0xF41\n\n[pi400]\nBOOT_ORDER=0x4\n";
  assert.equal(editEepromConfig(text, new Map([["BOOT_ORDER", "0xf41"]])), undefined);
  const edit = editEepromConfig(text, new Map([["BOOT_ORDER", "0xf21"], ["BOOT_UART", "0"], ["TFTP_PREFIX", "2"]]));
  assert.deepEqual(edit, {
    content: "[all]\nBOOT_UART=0\nBOOT_ORDER=0xf21\nTFTP_PREFIX=2\n\n[pi400]\nBOOT_ORDER=0x4\n",
    changes: ["BOOT_ORDER 0xF41 -> 0xf21", "TFTP_PREFIX (unset) -> 2"],
  });
});
