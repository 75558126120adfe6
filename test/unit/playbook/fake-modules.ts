/**
 * Modules with fixed schemas for loader tests, registered over any real module of the same
 * name (in this test process only), so the tests do not move when real schemas grow.
 */
import type { ModuleDefinition } from "../../../scripts/lib/modules/types.ts";
import { registerModule } from "../../../scripts/lib/modules/registry.ts";

const plan = async () => ({ changed: false, reason: "fake" });

export const fakeCopy: ModuleDefinition = {
  name: "copy",
  aliases: [],
  schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      src: { type: "string" },
      content: { type: "string" },
      dest: { type: "string" },
      force: { type: "boolean", default: true },
      mode: { type: ["string", "integer"] },
      backup: { type: "boolean", default: false },
    },
    required: ["dest"],
    not: { required: ["src", "content"] },
  },
  plan,
};

export const fakeApt: ModuleDefinition = {
  name: "apt",
  aliases: [],
  schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      name: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
      state: { type: "string", enum: ["present", "absent", "latest"], default: "present" },
      update_cache: { type: "boolean" },
      cache_valid_time: { type: "integer" },
    },
  },
  plan,
};

export const fakeSysctl: ModuleDefinition = {
  name: "sysctl",
  aliases: ["ansible.posix.sysctl"],
  schema: {
    type: "object",
    additionalProperties: false,
    properties: { name: { type: "string" }, value: { type: ["string", "number"] }, state: { type: "string", enum: ["present", "absent"], default: "present" } },
    required: ["name"],
    if: { properties: { state: { const: "present" } }, required: ["state"] },
    then: { required: ["value"] },
  },
  plan,
};

for (const m of [fakeCopy, fakeApt, fakeSysctl]) registerModule(m);
