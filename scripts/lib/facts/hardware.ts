/** Memory and CPU counts: memtotal_mb, memfree_mb, swaptotal_mb, processor_vcpus/nproc. */
import { keyValues, type Fact } from "./types.ts";

export const hardwareFact: Fact = {
  name: "hardware",
  command: "grep -E '^(MemTotal|MemFree|SwapTotal):' /proc/meminfo; echo nproc: $(nproc); echo cpus: $(grep -c '^processor' /proc/cpuinfo)",
  parse(output) {
    const kv = keyValues(output, /:/);
    const mb = (k: string) => Math.floor(Number.parseInt(kv.get(k) ?? "0", 10) / 1024);
    const nproc = Number.parseInt(kv.get("nproc") ?? "", 10);
    const cpus = Number.parseInt(kv.get("cpus") ?? "", 10);
    return {
      memtotal_mb: mb("MemTotal"),
      memfree_mb: mb("MemFree"),
      swaptotal_mb: mb("SwapTotal"),
      processor_nproc: Number.isFinite(nproc) ? nproc : null,
      processor_vcpus: Number.isFinite(cpus) && cpus > 0 ? cpus : Number.isFinite(nproc) ? nproc : null,
    };
  },
};
