/**
 * The start-up bundle (scripts/build.mjs -> dist/play.mjs) as users reach it through the
 * repository's `run` file (`npx zx run ...`): it builds, it prints exactly what the tsx path
 * prints, and a bundle older than the sources is never used as is. Hermetic: the bundle is
 * built into <temp>/dist (PI_RUNNER_DIST), the repository's dist/ is left alone. A bundle finds
 * npm packages and the repository (scripts/schemas/, roles/) by walking up from itself, so the
 * temp dir mirrors the repository's root with symbolic links.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bundle-test-"));
const outdir = join(dir, "dist");
after(() => rmSync(dir, { recursive: true, force: true }));
copyFileSync(join(root, "package.json"), join(dir, "package.json"));
for (const name of ["node_modules", "scripts", "roles"]) symlinkSync(join(root, name), join(dir, name));

const SITE = "test/unit/playbook/fixtures/site/playbooks/all.yml";
const INVENTORY = "test/unit/playbook/fixtures/site/inventory/hosts.yml";
const BAD = "test/unit/playbook/fixtures/errors/unknown-option.yml";

/** `zx run <args>` from the repository root, loaded the way `loader` says. */
function zxRun(args: string[], env: Record<string, string>) {
  const r = spawnSync(join(root, "node_modules", ".bin", "zx"), ["run", ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, CI: "true", NO_COLOR: "1", PI_RUNNER_LOADER_TRACE: "1", PI_RUNNER_DIST: outdir, ...env },
  });
  const trace = r.stderr.split("\n").filter((l) => l.startsWith("run: loaded via "));
  const stderr = r.stderr.split("\n").filter((l) => !l.startsWith("run: loaded via ")).join("\n");
  return { status: r.status, stdout: r.stdout, stderr, loadedVia: trace.map((l) => l.slice("run: loaded via ".length)).join(",") };
}

describe("start-up bundle", () => {
  test("scripts/build.mjs --outdir builds play.mjs and its chunks", () => {
    const r = spawnSync(process.execPath, [join(root, "scripts", "build.mjs"), "--outdir", outdir, "--strict"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(outdir, "play.mjs")));
    assert.ok(existsSync(join(outdir, "chunks")));
    const help = spawnSync(process.execPath, [join(outdir, "play.mjs"), "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: run <playbook\.yml>/);
  });

  for (const args of [
    ["--syntax-check", SITE, "-i", INVENTORY],
    ["--list-tasks", SITE, "-i", INVENTORY],
    ["--list-tasks", "--tags", "ntp", SITE, "-i", INVENTORY],
    ["--syntax-check", BAD, "-i", "localhost,"],
    ["--version", "", "", ""],
  ]) {
    test(`run ${args[0]} ${args.at(-3)}: the bundle prints what tsx prints`, () => {
      const viaBundle = zxRun(args.filter(Boolean), {});
      const viaTsx = zxRun(args.filter(Boolean), { PI_RUNNER_LOADER: "tsx" });
      assert.equal(viaBundle.loadedVia, "bundle");
      assert.equal(viaTsx.loadedVia, "tsx");
      assert.equal(viaBundle.status, viaTsx.status);
      assert.equal(viaBundle.stdout, viaTsx.stdout);
      assert.equal(viaBundle.stderr, viaTsx.stderr);
      assert.ok(viaBundle.stdout.length + viaBundle.stderr.length > 20, "some output to compare");
      assert.doesNotMatch(viaBundle.stdout, /^unknown$/m, "package.json found from the bundle");
    });
  }

  test("a bundle older than a source file is rebuilt before use, never run as is", () => {
    const entry = join(outdir, "play.mjs");
    const longAgo = new Date(Date.now() - 3600_000 * 24 * 365 * 20);
    utimesSync(entry, longAgo, longAgo); // as if a file under scripts/ had been saved since
    // A marker the rebuild must replace: proves the stale file itself was not imported.
    writeFileSync(entry, 'export async function main() { console.log("STALE BUNDLE"); return 0; }\n');
    utimesSync(entry, longAgo, longAgo);
    const r = zxRun(["--list-tasks", SITE, "-i", INVENTORY], {});
    assert.equal(r.loadedVia, "rebuilt bundle");
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /STALE BUNDLE/);
    assert.match(r.stdout, /play #1/);
    assert.ok(statSync(entry).mtimeMs > longAgo.getTime());
    assert.equal(zxRun(["--version"], {}).loadedVia, "bundle");
  });

  test("no usable bundle (cannot be built there): falls back to tsx", () => {
    const notADir = join(dir, "file");
    writeFileSync(notADir, "");
    const r = zxRun(["--list-tasks", SITE, "-i", INVENTORY], { PI_RUNNER_DIST: join(notADir, "dist") });
    assert.equal(r.loadedVia, "tsx");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /play #1/);
  });
});
