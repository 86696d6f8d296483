/**
 * What a command module is handed: the program to add to, the streams (so tests run the CLI in
 * process), and the wrapper that turns an action's exit code into the process's. Every file of
 * cli/ starts from this.
 */
import type { Command } from "commander";
import type { Readable, Writable } from "node:stream";

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Read only by `--key-passphrase-stdin`. */
  stdin?: Readable & { isTTY?: boolean };
  /** How the user ran us (cli/invocation.ts), for hints that run when pasted; default `mtls-certs`. */
  command?: string;
}

/** The command hints name: as the user ran the program. */
export function commandOf(io: Io): string {
  return io.command ?? "mtls-certs";
}

/** Wraps an action: returns its exit code through `setExit`. */
export type Action = <A extends unknown[]>(work: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;

/** What a command module gets: the program to add to, the streams, and the action wrapper. */
export interface CommandContext {
  program: Command;
  io: Io;
  action: Action;
}

/** Adds one `export <format>` subcommand to `parent` (cli/export.ts lists them). */
export type ExportFormat = (parent: Command, context: CommandContext) => void;
