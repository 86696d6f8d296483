/**
 * The vocabulary every `export` kind shares: `--out DIR` is the tree, `-o/--output FILE` (with
 * `--force`) the file written, and an old-style `--out FILE` still works with a notice; the result
 * goes to stdout or that file, and never a private key to a terminal. New export kinds start from
 * `exportCommand` (or `configExport`) and end in `deliver`, so they follow it from the start.
 */
import { type Command, Option } from "commander";
import { statSync } from "node:fs";
import { DEFAULT_OUT } from "../defaults.js";
import { EXIT, MtlsError } from "../errors.js";
import type { ExportResult } from "../export/sources.js";
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

/** `paths`: the output names files (not so for k8s and istio, which carry their bytes). */
export function configExport(parent: Command, io: Io, name: string, description: string, paths = true): Command {
  const command = exportCommand(parent, io, name, description, "write the config to this file instead of stdout");
  return paths
    ? command.addOption(
        documented(
          new Option("--prefix <dir>", "where the tree is mounted in a container (e.g. /app/certs/mcp)"),
          "the tree's real paths",
        ),
      )
    : command;
}

/** Prints or writes an export. Private keys never go to a terminal. */
export async function deliver(
  result: ExportResult,
  flags: ExportFlags,
  target: { tree: string; output?: string },
  io: Io,
): Promise<number> {
  for (const note of result.notes) io.stderr.write(`note: ${note}\n`);
  if (!flags.quiet) for (const file of result.written) io.stderr.write(`wrote ${file}\n`);
  if (target.output !== undefined) {
    const { saveExport } = await import("../export/sources.js");
    await saveExport(target.output, result, { tree: target.tree, force: flags.force });
    if (!flags.quiet)
      io.stderr.write(`wrote ${target.output}${result.secret ? " (mode 600: it holds private keys)" : ""}\n`);
    if (flags.json)
      io.stdout.write(
        JSON.stringify(
          { output: target.output, written: result.written, notes: result.notes, secret: result.secret },
          null,
          2,
        ) + "\n",
      );
    return EXIT.ok;
  }
  if (result.secret && io.stdout.isTTY) {
    throw new MtlsError(
      "E_USAGE",
      "this output holds private keys and stdout is a terminal",
      "write it with -o FILE, or pipe it: ... | kubectl apply -f -",
    );
  }
  io.stdout.write(
    flags.json
      ? JSON.stringify(
          { text: result.text, written: result.written, notes: result.notes, secret: result.secret },
          null,
          2,
        ) + "\n"
      : result.text,
  );
  return EXIT.ok;
}
