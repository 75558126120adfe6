/**
 * The temp file an atomic write fills beside its destination, named so that it is
 * recognisably ours: `.<name>.pi-cluster-runner.XXXXXX`. The write script's trap removes it
 * on any exit it sees; a power cut or a `kill -9` gives it none, and the temp stays beside
 * the intact original. So the next write of that destination first removes the temps that
 * carry our marker and that destination's name, and only those nobody is still filling: a
 * live writer holds a flock(1) lock on its temp for as long as it runs. Without flock on the
 * target nothing is removed (the safe way to fail).
 */
import { sh } from "../../shell/quote.ts";
import { REMOVE_TEMP_ON_EXIT } from "./upload.ts";

/** The fixed part of every temp name we make; nothing else on a node carries it. */
export const TEMP_MARKER = "pi-cluster-runner";

/** The name before mktemp's six random letters and digits, for destination basename `base`. */
function tempPrefix(base: string): string {
  return `.${base}.${TEMP_MARKER}.`;
}

/**
 * Shell lines that remove stale temps of "$d"/`base`, make "$t" (0600, by mktemp) in "$d",
 * remove it on whatever exit the script sees, and lock it for the life of the script.
 * The caller sets `d`. Example: `[sh\`d=\${dir}\`, makeWriteTemp("hosts"), receiveScript('"$t"')]`.
 */
export function makeWriteTemp(base: string): string {
  const prefix = tempPrefix(base);
  return [
    // Only names of exactly our shape (mktemp's suffix is [A-Za-z0-9]{6}), regular files, not
    // symlinks, and not locked by a writer still at work.
    sh`for s in "$d"/${prefix}??????; do case \${s##*.} in *[!A-Za-z0-9]*) continue ;; esac; [ -f "$s" ] && [ ! -L "$s" ] && flock -n "$s" rm -f -- "$s"; done 2>/dev/null`,
    sh`t=$(mktemp "$d"/${prefix}XXXXXX) || exit 1`,
    REMOVE_TEMP_ON_EXIT,
    // The lock lives on fd 9 until the script ends. Another run may have removed the temp
    // between mktemp and the lock (it then held the lock itself): the temp is gone, so stop.
    `exec 9<"$t" && { flock -n 9 2>/dev/null; [ -f "$t" ]; } || { echo "the temp file $t was removed by another run writing the same file; run again" >&2; exit 1; }`,
  ].join("\n");
}
