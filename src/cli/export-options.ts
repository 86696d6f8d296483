/**
 * The vocabulary every `export` kind shares: `--out DIR` is the tree, `-o/--output FILE` (with
 * `--force`) the file written, and an old-style `--out FILE` still works with a notice. New export
 * kinds start from `exportCommand`, so they follow it from the start.
 */
import { type Command, Option } from "commander";
import { statSync } from "node:fs";
import { DEFAULT_OUT } from "../defaults.js";
import type { Io } from "./command-context.js";
import { deprecatedAlias, documented, required } from "./option-help.js";
import { treeOption } from "./tree-options.js";

/** `-o, --output FILE` and `--force`: where an export or a decrypted key is written. */
export function outputFileOptions(
  command: Command,
  what: string,
  o: { required?: boolean; default?: string } = {},
): Command {
  const output = new Option("-o, --output <file>", `${what}; never inside the tree's ca/`);
  if (o.required) required(output);
  if (o.default) documented(output, o.default);
  return command.addOption(output).option("--force", "replace an existing --output file");
}

/** The flags of every `export` kind: the tree, the file written, --json and -q. */
export interface ExportFlags {
  /** The tree. */
  out: string;
  output?: string;
  force?: boolean;
  /** Deprecated spelling of --out, from when --out was the file written. */
  tree?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * An `export` subcommand: `--out DIR` the tree, `-o/--output FILE` (+ `--force`) the file
 * written. New export kinds start here, so they follow the vocabulary from the start.
 */
export function exportCommand(parent: Command, io: Io, name: string, description: string, output: string): Command {
  const command = parent.command(name).description(description);
  treeOption(command);
  outputFileOptions(command, output);
  deprecatedAlias(command, io, "--tree <dir>", "--out", { redirect: false });
  return command.option("--json", "print one JSON document").option("-q, --quiet", "no `wrote …` lines on stderr");
}

/**
 * The tree and the output file of an export. Before issue 16, exports wrote `--out FILE` and
 * took the tree as `--tree`: an `--out` that names no directory (or comes with `--tree`) is
 * still taken as the file, with a notice, so old scripts keep working.
 */
export function exportTarget(flags: ExportFlags, command: Command, io: Io): { tree: string; output?: string } {
  const outGiven = command.getOptionValueSource("out") === "cli";
  if (outGiven && flags.output === undefined && (flags.tree !== undefined || !isDirectory(flags.out))) {
    io.stderr.write(
      "mtls-certs: --out FILE is deprecated for the file written; use -o/--output FILE (--out is the tree)\n",
    );
    return { tree: flags.tree ?? DEFAULT_OUT, output: flags.out };
  }
  return { tree: flags.tree ?? flags.out, output: flags.output };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
