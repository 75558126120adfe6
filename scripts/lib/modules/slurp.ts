/**
 * ansible.builtin.slurp: a file's content from the target, base64-encoded in `content`
 * (use `| b64decode`). Read-only; one round trip.
 */
import type { ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { sh } from "../shell/quote.ts";
import { maskSecrets } from "../shell/secret.ts";

interface SlurpArgs {
  src: string;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "slurp",
  description: "Reads a file from the target; its content is returned base64-encoded.",
  type: "object",
  additionalProperties: false,
  properties: {
    src: { type: "string", aliases: ["path"], description: "The file to read." },
  },
  required: ["src"],
};

export const slurp: ModuleDefinition<SlurpArgs> = {
  name: "slurp",
  aliases: [],
  schema,
  async plan(args, ctx) {
    const src = args.src;
    const r = await ctx.run(
      sh`p=${src}; if [ -d "$p" ]; then echo slurp.dir; elif [ ! -e "$p" ]; then echo slurp.missing; elif [ ! -r "$p" ]; then echo slurp.unreadable; else printf 'slurp.content '; base64 -w0 < "$p" && echo; fi`,
    );
    const out = r.stdout;
    if (r.rc !== 0) throw new ModuleFailure(`Cannot read ${src}: ${maskSecrets(r.stderr.trim())}`, { rc: r.rc });
    if (out.startsWith("slurp.dir")) throw new ModuleFailure(`source is a directory and must be a file: ${src}`);
    if (out.startsWith("slurp.missing")) throw new ModuleFailure(`file not found: ${src}`);
    if (out.startsWith("slurp.unreadable")) throw new ModuleFailure(`file is not readable: ${src}`);
    const m = /^slurp\.content (.*)$/m.exec(out);
    if (!m) throw new ModuleFailure(`Cannot read ${src}: unexpected output`);
    return { changed: false, reason: `${src} read`, result: { content: m[1].trim(), encoding: "base64", source: src } };
  },
};
