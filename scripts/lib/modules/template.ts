/**
 * ansible.builtin.template: render a Jinja2 file from the role's templates/ (or the
 * playbook's directory) with the host's variables, then put it like copy: compared by
 * sha1, written atomically with validate/backup, owner/group/mode as changes.
 */
import { readFileSync } from "node:fs";
import type { ModuleContext, ModuleDefinition } from "./types.ts";
import { ModuleFailure } from "./types.ts";
import { UserError } from "../errors.ts";
import { FILE_ATTRIBUTE_PROPERTIES } from "./support/text-edit.ts";
import type { PutFileRequest, PutFileState } from "./support/put-file.ts";
import { applyPutFile, planPutFile, putFileOptions } from "./support/put-file.ts";
import { Secret } from "../shell/secret.ts";

export interface TemplateArgs {
  src: string;
  dest: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  backup?: boolean;
  force?: boolean;
  validate?: string;
  newline_sequence?: "\n" | "\r" | "\r\n";
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
  output_encoding?: string;
  follow?: boolean;
}

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "template",
  description: "Renders a Jinja2 template to a file on the target.",
  type: "object",
  additionalProperties: false,
  properties: {
    src: { type: "string", description: "Template path (role templates/ or the playbook's directory)." },
    dest: { type: "string", description: "Target path." },
    backup: { type: "boolean", default: false },
    force: { type: "boolean", default: true, description: "false: only create the file when it does not exist." },
    validate: { type: "string", description: "Command to validate the file before use (%s is the temp file)." },
    newline_sequence: { type: "string", enum: ["\n", "\r", "\r\n"], default: "\n" },
    trim_blocks: { type: "boolean", default: true, description: "Remove the first newline after a block tag (Jinja's trim_blocks)." },
    lstrip_blocks: { type: "boolean", default: false, description: "Strip spaces and tabs before a block tag on its line (Jinja's lstrip_blocks)." },
    output_encoding: { type: "string", enum: ["utf-8", "utf8"], default: "utf-8" },
    follow: { type: "boolean", default: false },
    block_start_string: { type: "string" },
    block_end_string: { type: "string" },
    variable_start_string: { type: "string" },
    variable_end_string: { type: "string" },
    comment_start_string: { type: "string" },
    comment_end_string: { type: "string" },
    ...FILE_ATTRIBUTE_PROPERTIES,
  },
  required: ["src", "dest"],
};

function request(args: TemplateArgs, ctx: ModuleContext): PutFileRequest {
  const local = ctx.findFile("templates", args.src);
  let text: string;
  let secret = false;
  try {
    const rendered = ctx.renderTemplate(readFileSync(local, "utf8"), local, { trimBlocks: args.trim_blocks, lstripBlocks: args.lstrip_blocks });
    // A template that read a secret is secret content: no diff of it, created 0600 (see put-file).
    secret = rendered instanceof Secret;
    text = rendered instanceof Secret ? rendered.reveal() : rendered;
  } catch (e) {
    // Errors that already say where (UserError from the renderer) pass through unchanged.
    if (e instanceof ModuleFailure || e instanceof UserError) throw e;
    throw new ModuleFailure(`Cannot render ${args.src}: ${(e as Error).message}`);
  }
  const nl = args.newline_sequence ?? "\n";
  if (nl !== "\n") text = text.replace(/\r\n|\r|\n/g, nl);
  return {
    ...putFileOptions(args),
    // An existing directory (or a trailing /) as dest gets the template's own file name.
    basename: args.src.split("/").pop()!,
    content: secret ? new Secret(text) : text,
    afterHeader: args.src,
  };
}

function requestWithoutRendering(args: TemplateArgs): PutFileRequest {
  return { ...putFileOptions(args), content: "", afterHeader: args.src };
}

export const template: ModuleDefinition<TemplateArgs, PutFileState> = {
  name: "template",
  aliases: [],
  schema,
  plan: (args, ctx) => planPutFile(ctx, request(args, ctx)),
  // apply writes the content rendered by plan (plan.state.content): no second rendering.
  apply: (plan, args, ctx) => applyPutFile(ctx, { ...requestWithoutRendering(args), content: plan.state!.content }, plan),
};
