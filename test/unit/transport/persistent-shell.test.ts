import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFrameEnd, shellFrame } from "../../../scripts/lib/transport/persistent-shell.ts";

const NONCE = "0123456789abcdef";

test("the frame runs the command quoted in a subshell with no stdin, then both end markers", () => {
  const frame = shellFrame("echo 'it''s'; exit 3", NONCE);
  assert.equal(
    frame,
    `( eval 'echo '\\''it'\\'''\\''s'\\''; exit 3'\n) </dev/null\nprintf '\\n@@PI_END_${NONCE} %d\\n' "$?"\nprintf '\\n@@PI_END_${NONCE}\\n' >&2\n`,
  );
});

test("the end marker gives the output before it and the status; anything else is not an end", () => {
  assert.deepEqual(parseFrameEnd(`abc\n@@PI_END_${NONCE} 7\n`, NONCE, true), { output: "abc", rc: 7 });
  assert.deepEqual(parseFrameEnd(`\n@@PI_END_${NONCE} 0\n`, NONCE, true), { output: "", rc: 0 });
  assert.deepEqual(parseFrameEnd(`line\n\n@@PI_END_${NONCE}\n`, NONCE, false), { output: "line\n", rc: undefined });
  assert.equal(parseFrameEnd(`abc\n@@PI_END_${NONCE} 7\nmore`, NONCE, true), undefined, "not at the end");
  assert.equal(parseFrameEnd(`abc\n@@PI_END_ffffffffffffffff 7\n`, NONCE, true), undefined, "another nonce");
  assert.equal(parseFrameEnd(`abc\n@@PI_END_${NONCE} 7`, NONCE, true), undefined, "incomplete");
});
