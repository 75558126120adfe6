/** Mounted filesystems (Ansible's `mounts`: mount, device, fstype, options), from /proc/self/mounts. */
import { lines, type Fact } from "./types.ts";

/** /proc/mounts escapes space, tab, newline and backslash as \040 \011 \012 \134. */
export function unescapeMountField(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export const mountsFact: Fact = {
  name: "mounts",
  command: "cat /proc/self/mounts",
  parse(output) {
    const mounts = lines(output)
      .map((line) => line.split(" "))
      .filter((f) => f.length >= 4)
      .map(([device, mount, fstype, options]) => ({
        mount: unescapeMountField(mount),
        device: unescapeMountField(device),
        fstype,
        options,
      }));
    return { mounts };
  },
};
