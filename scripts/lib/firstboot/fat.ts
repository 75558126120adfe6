/**
 * Reading and writing files in the FAT boot partition WITHOUT mounting it: mtools works on
 * the image file or block device at a byte offset (`mcopy -i disk.img@@4194304`). Files
 * travel through stdin/stdout, so nothing lands in a temporary file on the controller.
 */
import { spawnSync } from "node:child_process";
import { ExitCode, UserError } from "../errors.ts";

// mtools refuses some geometries Pi images have ("not a multiple of sectors per track") unless
// told to skip the check; a user's ~/.mtoolsrc must not change what we write.
const ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1", MTOOLSRC: "/dev/null" };

export class FatVolume {
  constructor(
    readonly device: string,
    readonly offset: number,
  ) {}

  get #drive(): string {
    return `${this.device}@@${this.offset}`;
  }

  #mtools(command: string, args: string[], input?: Uint8Array): Buffer {
    const r = spawnSync(command, ["-i", this.#drive, ...args], { env: ENV, input, maxBuffer: 64 * 1024 * 1024 });
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UserError(`${command} is not installed: firstboot reads and writes the boot partition with mtools`, {
        exitCode: ExitCode.error,
        hint: "Install it: apt-get install mtools (scripts/setup.sh does).",
      });
    }
    if (r.status !== 0) {
      const why = String(r.stderr ?? r.error?.message ?? "").trim() || `exit ${r.status}`;
      throw new UserError(`${command} failed on ${this.device}: ${why}`, { exitCode: ExitCode.error });
    }
    return r.stdout as Buffer;
  }

  /** Names of the files and folders in the root folder (long names where there are some). */
  list(): string[] {
    return this.#mtools("mdir", ["-b", "::/"])
      .toString("utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("::/"))
      .map((l) => l.slice(3).replace(/\/$/, ""))
      .filter(Boolean);
  }

  /** A root file's bytes; FAT names are case-insensitive, so `names` (from list()) decides. */
  read(name: string, names: string[]): Buffer | undefined {
    const actual = names.find((n) => n.toLowerCase() === name.toLowerCase());
    return actual === undefined ? undefined : this.#mtools("mcopy", ["-n", `::/${actual}`, "-"]);
  }

  /** Writes (or replaces) a root file from memory. */
  write(name: string, content: Uint8Array): void {
    this.#mtools("mcopy", ["-o", "-", `::/${name}`], content);
  }
}
