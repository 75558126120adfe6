/** The stand-in's air-gap folder: shaped like a k3s release, checksums true, deterministic. */
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { STANDIN_DEFAULT_VERSION, standinProgram, writeStandinAirgapDir } from "../../../scripts/lib/lab/k3s-standin/airgap.ts";
import { UserError } from "../../../scripts/lib/errors.ts";
import { which } from "../../../scripts/lib/lab/preflight.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "k3s-airgap-"));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("k3s stand-in air-gap folder", () => {
  test("has a release's file names, and each checksum file matches its binary", () => {
    const dir = tempDir();
    const r = writeStandinAirgapDir(dir, "v1.30.2+k3s2", { images: true });
    for (const name of ["k3s", "k3s-arm64", "sha256sum-amd64.txt", "sha256sum-arm64.txt", "k3s-airgap-images-amd64.tar.gz", "k3s-airgap-images-arm64.tar.gz"]) {
      assert.ok(r.files.includes(name), `${name} missing from ${r.files.join(" ")}`);
    }
    for (const [arch, binary] of [["amd64", "k3s"], ["arm64", "k3s-arm64"]]) {
      const sums = readFileSync(join(dir, `sha256sum-${arch}.txt`), "utf8");
      assert.match(sums, new RegExp(`^${sha256(join(dir, binary))}  ${binary}$`, "m"));
      assert.match(sums, new RegExp(`^${sha256(join(dir, `k3s-airgap-images-${arch}.tar.gz`))}  k3s-airgap-images-${arch}.tar.gz$`, "m"));
      assert.equal(statSync(join(dir, binary)).mode & 0o777, 0o755);
      const program = readFileSync(join(dir, binary), "utf8");
      assert.match(program, /^STANDIN_VERSION = "v1\.30\.2\+k3s2"$/m);
      assert.match(program, new RegExp(`^STANDIN_ARCH = "${arch}"$`, "m"));
      assert.match(program, /STAND-IN/);
    }
    // the images tarball is a real tar.gz (ustar header, the note as its one member)
    const tar = gunzipSync(readFileSync(join(dir, "k3s-airgap-images-amd64.tar.gz")));
    assert.equal(tar.subarray(257, 262).toString(), "ustar");
    assert.equal(tar.subarray(0, 18).toString(), "STANDIN-IMAGES.txt");
  });

  test("the same version writes the same bytes; without images there is no tarball", () => {
    const a = tempDir();
    const b = tempDir();
    writeStandinAirgapDir(a);
    const r = writeStandinAirgapDir(b);
    assert.ok(!r.files.some((f) => f.includes("images")));
    for (const f of r.files) assert.equal(sha256(join(a, f)), sha256(join(b, f)), f);
    const before = statSync(join(b, "k3s")).mtimeMs;
    writeStandinAirgapDir(b);
    assert.equal(statSync(join(b, "k3s")).mtimeMs, before, "an unchanged file is not rewritten");
  });

  test("a version that is not a k3s release is refused with the expected shape", () => {
    assert.throws(() => writeStandinAirgapDir(tempDir(), "1.31"), (e: unknown) => e instanceof UserError && /"1\.31"/.test(e.message) && /v1\.31\.4\+k3s1/.test(e.hint ?? ""));
    assert.throws(() => standinProgram("v1.31.4+k3s1; rm -rf /", "amd64"), UserError);
  });

  test("the binary answers --version in k3s's format and refuses the other architecture", { skip: which("python3") ? false : "no python3" }, () => {
    const dir = tempDir();
    writeStandinAirgapDir(dir, STANDIN_DEFAULT_VERSION);
    const arch = process.arch === "arm64" ? "arm64" : "amd64";
    const own = join(dir, arch === "amd64" ? "k3s" : "k3s-arm64");
    const other = join(dir, arch === "amd64" ? "k3s-arm64" : "k3s");
    const v = spawnSync("python3", [own, "--version"], { encoding: "utf8" });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^k3s version v1\.31\.4\+k3s1 \(stand-in\)\ngo version go\S+ .*not a real k3s/);
    const w = spawnSync("python3", [other, "--version"], { encoding: "utf8" });
    assert.equal(w.status, 126);
    assert.match(w.stderr, /exec format error/);
  });

  test("npm run lab -- k3s-airgap DIR writes the folder and names the stand-in; a bad version is a usage error", () => {
    const dir = join(tempDir(), "airgap");
    const lab = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "scripts/lab.ts", ...args], { cwd: fileURLToPath(new URL("../../..", import.meta.url)), encoding: "utf8" });
    const ok = lab(["k3s-airgap", dir, "--version", "v1.30.2+k3s2", "--images"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /k3s STAND-IN v1\.30\.2\+k3s2, not a real k3s/);
    assert.match(readFileSync(join(dir, "k3s"), "utf8"), /^STANDIN_VERSION = "v1\.30\.2\+k3s2"$/m);
    const bad = lab(["k3s-airgap", dir, "--version", "latest"]);
    assert.equal(bad.status, 5);
    assert.match(bad.stderr, /Not a k3s release version: "latest"\n  hint: k3s versions look like v1\.31\.4\+k3s1/);
    const none = lab(["k3s-airgap"]);
    assert.equal(none.status, 5);
    assert.match(none.stderr, /k3s-airgap needs a folder/);
  });
});
