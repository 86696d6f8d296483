/**
 * The command line: commander wiring only. Each action parses its flags into the options object
 * of one library function, calls it, renders the result, and returns an exit code. Each
 * command's work is imported inside its action, so `--help` loads no crypto and no YAML.
 */
import { Command, CommanderError } from "commander";
import { availableParallelism } from "node:os";
import { IO_THREADS, KEYS_IN_FLIGHT_PER_CORE } from "./defaults.js";
import { EXIT, errnoCode, fileSystemError, isMtlsError, isSystemError } from "./errors.js";
import { escapeControlCharacters } from "./control-characters.js";
import { packageVersion } from "./package-files.js";
import { asInvoked, invokedCommand } from "./cli/invocation.js";
import { registerCheckCommand } from "./cli/check.js";
import { registerProbeCommand } from "./cli/probe.js";
import { registerRenewCommand } from "./cli/renew.js";
import { registerCoreCommands } from "./cli/core.js";
import { registerDebugCommands } from "./cli/debug.js";
import { registerLeafCommands } from "./cli/leaves.js";
import { registerExportCommands } from "./cli/export.js";
import { registerRevocationCommands } from "./cli/revocation.js";
import type { CommandContext, Io } from "./cli/command-context.js";
import { helpConfiguration, withExamples } from "./cli/option-help.js";
import type { TreeFlags } from "./cli/tree-options.js";
import { registerLedgerCommands } from "./cli/ledger.js";

export type { Io } from "./cli/command-context.js";

export async function main(argv: string[]): Promise<void> {
  sizeThreadPool(argv);
  const { interruptRun, runInterruptCleanup } = await import("./store/cleanup.js");
  let stopping = false;
  // Waits for file writes already under way, then removes temp files and the lock.
  const stop = (signal: NodeJS.Signals, code: number) => async () => {
    if (stopping) {
      // The user insists, maybe while the first signal still waits for a write stuck in fsync(2)
      // on a hung disk. process.exit would join that thread; dying by the signal's default
      // action does not. Temp files and the lock go first (unlink, synchronous).
      runInterruptCleanup();
      process.stderr.write(`\nmtls-certs: ${signal} again: stopped at once; temp files and the lock removed\n`);
      process.removeAllListeners("SIGINT");
      process.removeAllListeners("SIGTERM");
      process.kill(process.pid, signal);
      return;
    }
    stopping = true;
    await interruptRun(signal);
    process.stderr.write(`\nmtls-certs: interrupted; temp files removed, nothing half-written\n`);
    // process.exit joins libuv's threads: an RSA key being generated there cannot be cancelled
    // and held the exit 4–5 s after "interrupted" (one stuck in open(2) would hold it forever).
    // With everything undone, die by the signal's default action instead, as a program that
    // cleaned up after SIGINT should: the kernel ends the threads, the shell sees 130/143 as it
    // would from exit(130/143), and key generation still queued is simply never started.
    process.removeAllListeners("SIGINT");
    process.removeAllListeners("SIGTERM");
    process.kill(process.pid, signal);
    // Only reached when the signal is ignored (inherited SIG_IGN): exit as before.
    process.exit(code);
  };
  process.on("SIGINT", stop("SIGINT", EXIT.sigint));
  process.on("SIGTERM", stop("SIGTERM", EXIT.sigterm));
  // `mtls-certs check | head`: the reader left early. Node gets EPIPE where a C tool gets
  // SIGPIPE; the rest of the output has nobody to read it, but the run (and its files) finish and
  // the exit code still tells the verdict, instead of a crash with a stack trace.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", ignoreClosedReader);
  process.exitCode = await run(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdin: process.stdin,
    command: invokedCommand({ script: process.argv[1], env: process.env, cwd: process.cwd() }),
  });
}

function ignoreClosedReader(e: Error): void {
  const code = errnoCode(e);
  if (code !== "EPIPE" && code !== "ERR_STREAM_DESTROYED") throw e;
}

/**
 * RSA key generation runs in libuv's thread pool (4 threads by default). Give it a thread for
 * every key in flight (--jobs, default 4 per core) plus a few for file I/O, before anything
 * touches the pool: libuv reads UV_THREADPOOL_SIZE once, at first use.
 */
function sizeThreadPool(argv: string[]): void {
  if (process.env.UV_THREADPOOL_SIZE) return;
  const i = argv.findIndex((a) => a === "--jobs" || a.startsWith("--jobs="));
  const jobs = i < 0 ? 0 : Number(argv[i]!.includes("=") ? argv[i]!.split("=")[1] : argv[i + 1]);
  const keysInFlight = Number.isInteger(jobs) && jobs > 0 ? jobs : KEYS_IN_FLIGHT_PER_CORE * availableParallelism();
  process.env.UV_THREADPOOL_SIZE = String(Math.min(128, Math.max(4, keysInFlight + IO_THREADS)));
}

/**
 * How `mtls-certs --help` groups the commands. A command not listed here (a new one) lands under
 * "Other commands:" until it is added.
 */
const COMMAND_GROUPS: Record<string, string> = {
  all: "Issue certificates:",
  ca: "Issue certificates:",
  gateway: "Issue certificates:",
  plugin: "Issue certificates:",
  server: "Issue certificates:",
  client: "Issue certificates:",
  https: "Issue certificates:",
  jwt: "Issue certificates:",
  sign: "Issue certificates:",
  check: "Check and renew:",
  probe: "Check and renew:",
  renew: "Check and renew:",
  revoke: "Check and renew:",
  crl: "Check and renew:",
  adopt: "Check and renew:",
  list: "Inspect:",
  inspect: "Inspect:",
  verify: "Inspect:",
  fingerprint: "Inspect:",
  export: "Export:",
  key: "Export:",
};

/** The whole command line, as data: `run` parses with it, and the help test walks it. */
export function buildProgram(io: Io, action: CommandContext["action"]): Command {
  const program = new Command("mtls-certs")
    .description(
      "A small CA for mutual TLS between a gateway and its plugins: writes certs/mcp/{ca,gateway,plugins/<name>}.\n" +
        "Start with `mtls-certs all`: the CA, the gateway's client cert and a server cert for every plugin in the config.",
    )
    .version(packageVersion(), "-v, --version")
    .configureHelp(helpConfiguration())
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  withExamples(program, "mtls-certs all", "mtls-certs check --within 30", "mtls-certs export env --gateway");

  const context: CommandContext = { program, io, action };
  // One line per command group; each module wires its commands and imports their work lazily.
  registerCoreCommands(context);
  registerLeafCommands(context);
  registerCheckCommand(context);
  registerProbeCommand(context);
  registerRenewCommand(context);
  registerRevocationCommands(context);
  registerLedgerCommands(context);
  registerExportCommands(context);
  registerDebugCommands(context);

  for (const command of program.commands) command.helpGroup(COMMAND_GROUPS[command.name()] ?? "Other commands:");
  // Help lists the groups in this order (commander keeps the order of first appearance).
  const order = [...new Set([...Object.values(COMMAND_GROUPS), "Other commands:"])];
  (program.commands as Command[]).sort((a, b) => order.indexOf(a.helpGroup()) - order.indexOf(b.helpGroup()));
  program.addHelpCommand(false);
  forEachCommand(program, (command) => command.configureOutput({ outputError: usageError(command, io) }));
  return program;
}

/** Every command and subcommand below `command`, itself included. */
export function forEachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const sub of command.commands) forEachCommand(sub, visit);
}

/**
 * commander's own errors in the one error style: `mtls-certs: <what>`, `hint: <what to do>`, then
 * the usage of the command that was mistyped.
 */
function usageError(command: Command, io: Io): (message: string) => void {
  return (message) => {
    const lines = message.trim().split("\n");
    const what = lines[0]!.replace(/^error: /, "");
    const suggestion = lines
      .slice(1)
      .join(" ")
      .match(/\(Did you mean (.*)\?\)/)?.[1];
    const path = commandPath(command);
    const hint = suggestion ? `did you mean ${suggestion}? ` : "";
    io.stderr.write(
      `mtls-certs: ${path === "mtls-certs" ? "" : `${path.slice("mtls-certs ".length)}: `}${what}\n` +
        `hint: ${hint}run \`${path} --help\` for its options and examples\n` +
        `usage: ${path} ${command.usage()}\n`,
    );
  };
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Runs one command line; returns the exit code. Tests call this in process. */
export async function run(argv: string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  let json = false;
  const action =
    <A extends unknown[]>(work: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      const flags = args.find(
        (a): a is TreeFlags => typeof a === "object" && a !== null && !Array.isArray(a) && !(a instanceof Command),
      );
      json = Boolean(flags?.json);
      exitCode = await work(...args);
    };
  const program = buildProgram(io, action);

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    return reportError(e, io, json);
  }
}

/** The one place an error becomes a message and an exit code. No stack: it could hold secrets. */
function reportError(e: unknown, io: Io, json: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT.ok;
    // No command (`mtls-certs` alone, `mtls-certs export`): the help went to stderr; a mistyped
    // cron line must not pass.
    if (e.code === "commander.help") return EXIT.problem;
    return EXIT.usage; // commander already printed the message, in our style (usageError)
  }
  if (isMtlsError(e)) {
    const hint = e.hint === undefined ? undefined : asInvoked(e.hint, io.command ?? "mtls-certs");
    io.stderr.write(`mtls-certs: ${printable(e.message)}\n${hint ? `hint: ${printable(hint)}\n` : ""}`);
    if (json)
      io.stdout.write(
        JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null } }, null, 2) + "\n",
      );
    return e.exitCode;
  }
  // A file-system error no module wrapped (an fs.rm or mkdir on a read-only or full disk): it
  // still names the file and the reason, exit 2, never "internal error".
  if (isSystemError(e) && typeof e.path === "string")
    return reportError(fileSystemError(e.path, SYSCALL_ACTION[e.syscall] ?? e.syscall, e), io, json);
  const message = e instanceof Error ? e.message : String(e);
  io.stderr.write(`mtls-certs: internal error: ${printable(message)}\n`);
  if (json) io.stdout.write(JSON.stringify({ error: { code: "E_INTERNAL", message, hint: null } }, null, 2) + "\n");
  return EXIT.problem;
}

/**
 * A message for the terminal: a path or subject in it may come from a leaf directory, so its
 * control characters are escaped (no ESC sequence reaches the terminal); its own lines stay lines.
 */
function printable(message: string): string {
  return message.split("\n").map(escapeControlCharacters).join("\n");
}

/** What a syscall was doing, for "<path>: cannot <action>: <reason>". */
const SYSCALL_ACTION: Record<string, string> = {
  open: "open",
  read: "read",
  write: "write",
  mkdir: "create the directory",
  rmdir: "remove the directory",
  unlink: "remove",
  rm: "remove",
  rename: "rename",
  link: "link",
  chmod: "change the mode of",
  fchmod: "change the mode of",
  chown: "change the owner of",
  fchown: "change the owner of",
  fsync: "sync",
  scandir: "list",
  lstat: "read",
  stat: "read",
  copyfile: "copy",
};
