import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  entryMatches,
  fingerprint,
  hashHostName,
  hostKeyName,
  keyTypeOf,
  lookupHostKey,
  makeHostKeyCheck,
  parseKnownHosts,
  recordHostKey,
} from "../../../scripts/lib/transport/known-hosts.ts";

const dir = mkdtempSync(join(tmpdir(), "known-hosts-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string): { line: string; blob: Buffer; file: string } {
  const file = join(dir, name);
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file]);
  assert.equal(r.status, 0);
  const line = readFileSync(file + ".pub", "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
  return { line, blob: Buffer.from(line.split(" ")[1], "base64"), file };
}

const a = keygen("a");
const b = keygen("b");

describe("parseKnownHosts", () => {
  test("plain, [host]:port, comma lists, comments, markers, junk", () => {
    const entries = parseKnownHosts(
      [
        "# comment",
        "",
        `node1,10.0.0.5 ${a.line}`,
        `[10.0.0.6]:2222 ${a.line} trailing comment`,
        `@revoked * ${b.line}`,
        `@cert-authority *.lan ${b.line}`,
        `@bogus x ${b.line}`,
        "not-enough-fields ssh-ed25519",
      ].join("\n"),
      "kh",
    );
    assert.equal(entries.length, 4);
    assert.deepEqual(entries[0].patterns, ["node1", "10.0.0.5"]);
    assert.equal(entries[0].keyType, "ssh-ed25519");
    assert.ok(entries[0].key.equals(a.blob));
    assert.equal(entries[0].line, 3);
    assert.equal(entries[2].marker, "revoked");
    assert.equal(entries[3].marker, "cert-authority");
  });

  test("hostKeyName: port 22 bare, others bracketed", () => {
    assert.equal(hostKeyName("10.0.0.5", 22), "10.0.0.5");
    assert.equal(hostKeyName("10.0.0.5", 2222), "[10.0.0.5]:2222");
  });

  test("patterns: wildcards, negation, case-insensitive", () => {
    const [e] = parseKnownHosts(`*.lan,!bad.lan,10.0.0.? ${a.line}`);
    assert.ok(entryMatches(e, "pi1.lan"));
    assert.ok(entryMatches(e, "PI1.LAN"));
    assert.ok(!entryMatches(e, "bad.lan"));
    assert.ok(entryMatches(e, "10.0.0.7"));
    assert.ok(!entryMatches(e, "10.0.0.17"));
  });
});

describe("hashed entries", () => {
  test("a line hashed by ssh-keygen -H matches the host (HMAC-SHA1) and nothing else", () => {
    const file = join(dir, "hashed_known_hosts");
    writeFileSync(file, `[127.0.0.1]:2222 ${a.line}\n10.1.2.3 ${b.line}\n`);
    const r = spawnSync("ssh-keygen", ["-H", "-f", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(file, "utf8");
    assert.doesNotMatch(text, /127\.0\.0\.1|10\.1\.2\.3/, "ssh-keygen hashed the names");
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 2);
    assert.ok(entries.every((e) => e.hashed));
    assert.equal(lookupHostKey(entries, ["[127.0.0.1]:2222"], a.blob).status, "known");
    assert.equal(lookupHostKey(entries, ["10.1.2.3"], b.blob).status, "known");
    assert.equal(lookupHostKey(entries, ["[127.0.0.1]:2223"], a.blob).status, "unknown");
    assert.equal(lookupHostKey(entries, ["127.0.0.1"], a.blob).status, "unknown");
  });

  test("our hashHostName is what ssh-keygen -F finds", () => {
    const file = join(dir, "ours_known_hosts");
    recordHostKey(file, "[192.168.1.50]:22022", a.blob, true);
    const text = readFileSync(file, "utf8");
    assert.match(text, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    const r = spawnSync("ssh-keygen", ["-F", "[192.168.1.50]:22022", "-f", file], { encoding: "utf8" });
    assert.equal(r.status, 0, "ssh-keygen finds our hashed line");
    assert.ok(hashHostName("x", Buffer.alloc(20)).startsWith("|1|AAAAAAAAAAAAAAAAAAAAAAAAAAA=|"));
  });
});

describe("lookup", () => {
  const entries = parseKnownHosts([`10.0.0.5 ${a.line}`, `@revoked * ${b.line}`].join("\n"));
  test("known, changed, unknown, revoked", () => {
    assert.equal(lookupHostKey(entries, ["10.0.0.5"], a.blob).status, "known");
    assert.equal(lookupHostKey(entries, ["10.0.0.6"], a.blob).status, "unknown");
    const other = keygen("c").blob;
    assert.equal(lookupHostKey(entries, ["10.0.0.5"], other).status, "changed");
    assert.equal(lookupHostKey(entries, ["10.0.0.5"], b.blob).status, "revoked");
  });

  test("fingerprint is ssh-keygen -l's SHA256 form", () => {
    const r = spawnSync("ssh-keygen", ["-l", "-E", "sha256", "-f", a.file + ".pub"], { encoding: "utf8" });
    assert.equal(fingerprint(a.blob), r.stdout.split(/\s+/)[1]);
    assert.equal(keyTypeOf(a.blob), "ssh-ed25519");
  });
});

describe("makeHostKeyCheck", () => {
  test("unknown + yes: refused naming host, address, fingerprint and the opt-in; nothing written", async () => {
    const file = join(dir, "check1");
    const check = makeHostKeyCheck("pi1", { files: [file], strict: "yes", hashNew: false });
    const r = await check(a.blob, "10.0.0.5", 22);
    assert.equal(typeof r, "string");
    assert.match(r as string, /pi1 \(10\.0\.0\.5:22\) is not known: ssh-ed25519 SHA256:/);
    assert.match(r as string, /--accept-new-host-keys/);
    assert.match(r as string, /ssh-keyscan -p 22 -- 10\.0\.0\.5/);
  });

  test("unknown + accept-new: recorded plain (HashKnownHosts=no), then known", async () => {
    const file = join(dir, "check2");
    const warnings: string[] = [];
    const check = makeHostKeyCheck("pi1", { files: [file], strict: "accept-new", hashNew: false, warn: (m) => warnings.push(m) });
    assert.equal(await check(a.blob, "10.0.0.5", 2222), true);
    assert.equal(readFileSync(file, "utf8"), `[10.0.0.5]:2222 ${a.line}\n`);
    assert.match(warnings.join("\n"), /Permanently added/);
    const strict = makeHostKeyCheck("pi1", { files: [file], strict: "yes", hashNew: false });
    assert.equal(await strict(a.blob, "10.0.0.5", 2222), true);
    // changed key: refused even with accept-new
    const changed = await check(b.blob, "10.0.0.5", 2222);
    assert.match(changed as string, /HAS CHANGED[\s\S]*man-in-the-middle[\s\S]*check2:1/);
    // The way to accept it, quoted for the shell, then the flag that records the new key.
    assert.ok((changed as string).includes(`ssh-keygen -R '[10.0.0.5]:2222' -f ${file}, then run again with --accept-new-host-keys`), changed as string);
  });
});
