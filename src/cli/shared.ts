/**
 * What every command's wiring shares: the tree flags, their resolution (flag, then env var,
 * then default), progress on stderr, and how an issuing result is printed.
 */
import { type Command, Option } from "commander";
import type { Readable, Writable } from "node:stream";
import { DEFAULT_CONFIG, DEFAULT_DAYS, DEFAULT_KEY_TYPE, DEFAULT_LOCK_WAIT_MS, DEFAULT_OUT, ENV } from "../defaults.js";
import { EXIT, MtlsError } from "../errors.js";
import type { IssueReport, TreeOptions } from "../store/tree.js";

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Read only by `--key-passphrase-stdin`. */
  stdin?: Readable & { isTTY?: boolean };
}

/** Flags shared by every command that writes certificates. */
export interface TreeFlags {
  out?: string;
  days?: string;
  keyType?: string;
  jobs?: string;
  keyPassphraseEnv?: string;
  keyPassphraseStdin?: boolean;
  lockWait?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Wraps an action: returns its exit code through `setExit`. */
export type Action = <A extends unknown[]>(work: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;

/** What a command module gets: the program to add to, the streams, and the action wrapper. */
export interface CommandContext {
  program: Command;
  io: Io;
  action: Action;
}

export function treeCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option("--out <dir>", "root of the tree", DEFAULT_OUT)
    .option("--days <n>", `validity of new certificates in days (env ${ENV.days}, default ${DEFAULT_DAYS})`)
    .option("--key-type <type>", `rsa4096, rsa3072, rsa2048, ecdsa-p256 or ecdsa-p384 (default ${DEFAULT_KEY_TYPE})`)
    .option("--jobs <n>", "keys generated at once (default: 4 per core)")
    .option(
      "--key-passphrase-env <VAR>",
      "encrypt new keys (and open an encrypted CA key) with the passphrase in this env var",
    )
    .option("--key-passphrase-stdin", "the same, with the passphrase on the first line of stdin")
    .option(
      "--lock-wait <seconds>",
      `how long to wait for another mtls-certs writing the same tree (env ${ENV.lockWait}, default ${DEFAULT_LOCK_WAIT_MS / 1000})`,
    )
    .option("--json", "print one JSON document of what was created and kept")
    .option("-q, --quiet", "no progress messages");
}

export function configOption(): Option {
  return new Option("--config <file>", `plugin config (env ${ENV.config}, default ${DEFAULT_CONFIG})`);
}

/** A passphrase named by `--…-env VAR`: never a command-line argument, which `ps` would show. */
export function passphraseFromEnv(variable: string | undefined, flag: string, io: Io): string | undefined {
  if (variable === undefined) return undefined;
  const value = io.env[variable];
  if (!value) throw new MtlsError("E_PASSPHRASE", `${flag}: the variable ${variable} is unset or empty`);
  return value;
}

/** Longer than any passphrase; a file piped in by mistake is refused, not read into memory. */
const MAX_PASSPHRASE_BYTES = 4096;

/**
 * The key passphrase from `--key-passphrase-env VAR` or `--key-passphrase-stdin` (the first line,
 * as openssl's `-passin stdin` reads it): never from a command-line argument.
 */
export async function keyPassphraseFrom(
  flags: { keyPassphraseEnv?: string; keyPassphraseStdin?: boolean },
  io: Io,
): Promise<string | undefined> {
  if (!flags.keyPassphraseStdin) return passphraseFromEnv(flags.keyPassphraseEnv, "--key-passphrase-env", io);
  if (flags.keyPassphraseEnv !== undefined)
    throw new MtlsError(
      "E_USAGE",
      "--key-passphrase-env and --key-passphrase-stdin both give the passphrase",
      "give one of them",
    );
  const flag = "--key-passphrase-stdin";
  if (!io.stdin || io.stdin.isTTY)
    throw new MtlsError(
      "E_PASSPHRASE",
      `${flag}: stdin is a terminal`,
      `pipe the passphrase in: printf '%s\\n' "$PASSPHRASE" | mtls-certs … ${flag}`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_PASSPHRASE_BYTES)
      throw new MtlsError(
        "E_PASSPHRASE",
        `${flag}: stdin holds more than ${MAX_PASSPHRASE_BYTES} bytes, not a passphrase`,
      );
    chunks.push(bytes);
  }
  const passphrase = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  if (passphrase === "") throw new MtlsError("E_PASSPHRASE", `${flag}: the first line of stdin is empty`);
  return passphrase;
}

/** Flags → library options. A flag beats the env var, which beats the default. */
export async function treeOptions(flags: TreeFlags, io: Io): Promise<TreeOptions> {
  const { parseDays, parseWholeNumber } = await import("../pki/names.js");
  const { parseKeyType } = await import("../pki/keys.js");
  const envDays = io.env[ENV.days];
  const days =
    flags.days !== undefined
      ? parseDays(flags.days, "--days")
      : envDays !== undefined && envDays !== ""
        ? parseDays(envDays, ENV.days)
        : DEFAULT_DAYS;
  const keyPassphrase = await keyPassphraseFrom(flags, io);
  const lockWait = flags.lockWait ?? (io.env[ENV.lockWait] || undefined);
  return {
    out: flags.out ?? DEFAULT_OUT,
    days,
    keyType: flags.keyType === undefined ? DEFAULT_KEY_TYPE : parseKeyType(flags.keyType),
    jobs: flags.jobs === undefined ? undefined : parseWholeNumber(flags.jobs, "--jobs", 1, 256),
    keyPassphrase,
    // Whole seconds, 0 = fail at once if the tree is locked.
    lockWaitMs:
      lockWait === undefined
        ? undefined
        : parseWholeNumber(lockWait, flags.lockWait !== undefined ? "--lock-wait" : ENV.lockWait, 0, 86_400) * 1000,
  };
}

export async function withProgress<T>(io: Io, flags: TreeFlags, o: TreeOptions, work: () => Promise<T>): Promise<T> {
  const { startProgress } = await import("../report/terminal.js");
  const progress = startProgress(io.stderr, Boolean(flags.quiet), io.env);
  o.onProgress = (m) => progress.update(m);
  try {
    return await work();
  } finally {
    progress.stop();
  }
}

export async function issued(report: IssueReport, flags: TreeFlags, io: Io): Promise<number> {
  for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
  if (flags.json) {
    io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    const { renderIssueReport } = await import("../report/issue-report.js");
    const { styleFor } = await import("../report/terminal.js");
    io.stdout.write(renderIssueReport(report, await styleFor(io.stdout)));
  }
  return EXIT.ok;
}

/** Flags of the commands that write mcp leaf keys a container may need to read. */
export interface KeyGroupFlags {
  keyGroup?: string;
  gatewayKeyGroup?: string;
}

/** `--key-group GID|NAME` (and, on `all`, `--gateway-key-group`): see src/store/key-mode.ts. */
export function keyGroupOptions(command: Command, withGateway = false): Command {
  command.option(
    "--key-group <gid|name>",
    `give new keys this group and mode 640, so a container user in it can read them (env ${ENV.keyGroup}; as root)`,
  );
  if (withGateway)
    command.option(
      "--gateway-key-group <gid|name>",
      `the gateway's key's group instead (env ${ENV.gatewayKeyGroup}): its image reads as 10001, plugin images as group 0`,
    );
  return command;
}

/** Flag, then env var; unset means 0600 keys in the user's own group. */
export async function keyGroupsFrom(
  flags: KeyGroupFlags,
  io: Io,
): Promise<Pick<TreeOptions, "keyGroup" | "gatewayKeyGroup">> {
  const { parseKeyGroup } = await import("../store/key-mode.js");
  const pick = async (flag: string | undefined, name: string, variable: string): Promise<number | undefined> => {
    if (flag !== undefined) return parseKeyGroup(flag, name);
    const value = io.env[variable];
    return value ? parseKeyGroup(value, variable) : undefined;
  };
  return {
    keyGroup: await pick(flags.keyGroup, "--key-group", ENV.keyGroup),
    gatewayKeyGroup: await pick(flags.gatewayKeyGroup, "--gateway-key-group", ENV.gatewayKeyGroup),
  };
}

/** The plugin config path: --config, then MCP_PLUGIN_CONFIG, then the default. */
export function configPath(flag: string | undefined, io: Io): string {
  return flag ?? (io.env[ENV.config] || DEFAULT_CONFIG);
}
