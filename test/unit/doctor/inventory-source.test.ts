/**
 * The doctor finds its inventory as the runner does: -i, else ANSIBLE_INVENTORY, else
 * ansible.cfg's inventory, else inventory/hosts.yml. Inventories without hosts make it stop
 * before any connection, naming the inventory it read (so the test needs no SSH).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../scripts/doctor.ts";

const dir = mkdtempSync(join(tmpdir(), "doctor-inventory-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function doctorIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const code = await main(args, { cwd, env: { HOME: dir, ...env }, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
  return { code, out, err };
}

test("the inventory: -i beats ANSIBLE_INVENTORY, which beats ansible.cfg's, which beats inventory/hosts.yml", async () => {
  mkdirSync(join(dir, "inventory"));
  for (const f of ["cfg.yml", "env.yml", "flag.yml", "inventory/hosts.yml"]) writeFileSync(join(dir, f), "all: {}\n");
  const read = (r: { err: string }) => /no hosts to check in (\S+)/.exec(r.err)?.[1];
  assert.equal(read(await doctorIn(dir, [])), join(dir, "inventory", "hosts.yml"));
  writeFileSync(join(dir, "ansible.cfg"), "[defaults]\ninventory = cfg.yml\n");
  assert.equal(read(await doctorIn(dir, [])), join(dir, "cfg.yml"));
  const fromEnv = await doctorIn(dir, [], { ANSIBLE_INVENTORY: "env.yml" });
  assert.equal(fromEnv.code, 1, fromEnv.err);
  assert.equal(read(fromEnv), join(dir, "env.yml"));
  assert.equal(read(await doctorIn(dir, ["-i", "flag.yml"], { ANSIBLE_INVENTORY: "env.yml" })), join(dir, "flag.yml"));
});
