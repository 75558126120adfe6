/**
 * An air-gap folder shaped like a k3s release (`k3s`, `k3s-arm64`, `sha256sum-amd64.txt`,
 * `sha256sum-arm64.txt`, optionally `k3s-airgap-images-<arch>.tar.gz`) whose binaries are the
 * lab's k3s STAND-IN (k3s.py beside this file). The k3s roles take it through `k3s_airgap_dir`
 * exactly as they take a real release, so the lab proves the air-gap path users run.
 * Output is deterministic: the same version gives the same bytes (re-runs change nothing).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { UserError, ExitCode } from "../../errors.ts";

/** The k3s release the stand-in imitates unless told otherwise. */
export const STANDIN_DEFAULT_VERSION = "v1.31.4+k3s1";

export type StandinArch = "amd64" | "arm64";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "k3s.py");
const VERSION_LINE = /^STANDIN_VERSION = ".*"$/m;
const ARCH_LINE = /^STANDIN_ARCH = None$/m;

/** k3s release names: v1.31.4+k3s1, v1.30.0-rc1+k3s1. */
export function validateK3sVersion(version: string): void {
  if (!/^v\d+\.\d+\.\d+(-rc\d+)?\+k3s\d+$/.test(version)) {
    throw new UserError(`Not a k3s release version: "${version}"`, {
      hint: `k3s versions look like ${STANDIN_DEFAULT_VERSION}`,
      exitCode: ExitCode.badOptions,
    });
  }
}

/** The stand-in program for one release version and architecture (it refuses other arches). */
export function standinProgram(version: string, arch: StandinArch): string {
  validateK3sVersion(version);
  const source = readFileSync(SOURCE, "utf8");
  if (!VERSION_LINE.test(source) || !ARCH_LINE.test(source)) throw new Error(`${SOURCE}: the version/arch lines the air-gap writer replaces are missing`);
  return source.replace(VERSION_LINE, `STANDIN_VERSION = "${version}"`).replace(ARCH_LINE, `STANDIN_ARCH = "${arch}"`);
}

/** The release file name of the binary for an architecture (install.sh's naming). */
export function binaryName(arch: StandinArch): string {
  return arch === "amd64" ? "k3s" : `k3s-${arch}`;
}

export interface AirgapResult {
  dir: string;
  version: string;
  /** File names written, in order. */
  files: string[];
}

/**
 * Writes the air-gap folder `dir` (created if missing). `images` adds a small images tarball
 * per arch (a tar.gz holding a note: the stand-in runs no containers).
 */
export function writeStandinAirgapDir(dir: string, version: string = STANDIN_DEFAULT_VERSION, options: { images?: boolean } = {}): AirgapResult {
  validateK3sVersion(version);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, content: string | Buffer, mode: number) => {
    const path = join(dir, name);
    // unchanged bytes are left alone (a re-run keeps mtimes)
    if (!(existsSync(path) && readFileSync(path).equals(Buffer.from(content)))) {
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, content, { mode });
      renameSync(tmp, path);
    }
    files.push(name);
  };
  for (const arch of ["amd64", "arm64"] as const) {
    const sums: string[] = [];
    const program = standinProgram(version, arch);
    put(binaryName(arch), program, 0o755);
    sums.push(`${sha256(program)}  ${binaryName(arch)}`);
    if (options.images) {
      const name = `k3s-airgap-images-${arch}.tar.gz`;
      const tarball = gzipSync(tarOf("STANDIN-IMAGES.txt", `k3s STAND-IN ${version} ${arch}: no container images; the stand-in runs no containers.\n`), { level: 9 });
      put(name, tarball, 0o644);
      sums.push(`${sha256(tarball)}  ${name}`);
    }
    put(`sha256sum-${arch}.txt`, `${sums.join("\n")}\n`, 0o644);
  }
  put(
    "README-STANDIN.txt",
    `This folder imitates a k3s ${version} release for air-gapped installs, but its binaries are the\n` +
      "pi-cluster-runner lab's k3s STAND-IN (a python3 program), NOT a real k3s. See\n" +
      "scripts/lib/lab/k3s-standin/README.md in pi-cluster-runner.\n",
    0o644,
  );
  return { dir, version, files };
}

function sha256(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** A ustar archive with one regular file (fixed mtime/owner: deterministic bytes). */
function tarOf(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, "ascii");
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, "0") + "\0";
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(body.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, "        ");
  field(156, 1, "0");
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}
