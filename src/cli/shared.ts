/**
 * What every command's wiring shares: the tree flags, their resolution (flag, then env var,
 * then default), progress on stderr, and how an issuing result is printed.
 */
import { type Command, Help, Option } from "commander";
import { statSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import {
  DEFAULT_CA_DAYS,
  DEFAULT_CA_SUBJECT,
  DEFAULT_CONFIG,
  DEFAULT_DAYS,
  DEFAULT_KEY_TYPE,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_OUT,
  ENV,
} from "../defaults.js";
import { EXIT, MtlsError } from "../errors.js";
import type { IssueReport, TreeOptions } from "../store/tree.js";

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

/** Flags shared by every command that writes certificates. */
export interface TreeFlags extends CaSubjectFlags {
  out?: string;
  days?: string;
  keyType?: string;
  jobs?: string;
  keyPassphraseEnv?: string;
  keyPassphraseStdin?: boolean;
  caPassphraseEnv?: string;
  caPassphraseStdin?: boolean;
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

/** Adds one `export <format>` subcommand to `parent` (cli/export.ts lists them). */
export type ExportFormat = (parent: Command, context: CommandContext) => void;

/**
 * A command that writes the tree: `--out` (the tree, as everywhere), validity, key type, the key
 * passphrase pair, the lock wait, --json and -q. Defaults show as commander's own
 * `(default: …)`; `documented` carries those an env var or the command itself decides, so the
 * option stays unset when not given and the action can tell.
 */
export function treeCommand(
  program: Command,
  name: string,
  description: string,
  o: { days?: { value: number | string; env?: string; description?: string }; keyTypeDefault?: string } = {},
): Command {
  const command = program.command(name).description(description);
  treeOption(command);
  const days = o.days ?? { value: DEFAULT_DAYS, env: ENV.days };
  command
    .addOption(
      documented(
        new Option("--days <n>", days.description ?? "validity of new certificates in days"),
        days.value,
        days.env,
      ),
    )
    .addOption(
      documented(
        new Option("--key-type <type>", "rsa4096, rsa3072, rsa2048, ecdsa-p256 or ecdsa-p384"),
        o.keyTypeDefault ?? DEFAULT_KEY_TYPE,
      ),
    )
    .addOption(documented(new Option("--jobs <n>", "keys generated at once"), "4 per core"));
  secretOptions(command, "key-passphrase", "the passphrase that encrypts new leaf keys (and opens encrypted ones)");
  // Separate from the leaves' (issue 13 §4): a plugin's deployment never holds the CA's passphrase.
  secretOptions(
    command,
    "ca-passphrase",
    "the passphrase that encrypts a new CA/intermediate key and opens an encrypted one",
  );
  return command
    .addOption(
      documented(
        new Option("--lock-wait <seconds>", "how long to wait for another mtls-certs writing the same tree"),
        DEFAULT_LOCK_WAIT_MS / 1000,
        ENV.lockWait,
      ),
    )
    .option("--json", "print one JSON document of what was created and kept")
    .option("-q, --quiet", "no progress messages and no next steps");
}

/** `--out DIR`: on every command, the root of the tree, and nothing else. */
export function treeOption(command: Command, description = "root of the tree"): Command {
  return command.option("--out <dir>", description, DEFAULT_OUT);
}

/** The CA subject flags of `ca`, on every command that creates the CA when it is missing. */
export function caSubjectOptions(command: Command, when = ", when the CA is created"): Command {
  return command
    .option("--ca-cn <cn>", `the CA's common name${when}`, DEFAULT_CA_SUBJECT.cn)
    .option("--ca-org <o>", `the CA's organization${when}`, DEFAULT_CA_SUBJECT.org)
    .option("--ca-ou <ou>", `the CA's organizational unit${when}`, DEFAULT_CA_SUBJECT.ou)
    .addOption(caDaysOption(when));
}

/** The CA's validity, apart from the leaves' --days (issue 15): wherever a CA is created or rotated. */
export function caDaysOption(when = ", when the CA is created"): Option {
  return documented(new Option("--ca-days <n>", `the CA's validity in days${when}`), DEFAULT_CA_DAYS, ENV.caDays);
}

export interface CaSubjectFlags {
  caCn?: string;
  caOrg?: string;
  caOu?: string;
  caDays?: string;
}

export function caSubjectFrom(flags: CaSubjectFlags): { cn?: string; org?: string; ou?: string } {
  return { cn: flags.caCn, org: flags.caOrg, ou: flags.caOu };
}

/** Defaults that commander does not fill in (an env var or the command decides), shown as its own are. */
const DOCUMENTED = new WeakMap<Option, { value: string | number; env?: string }>();

/** Shows `(default: value, env: VAR)` in help as commander does, while the option stays unset when not given. */
export function documented(option: Option, value: string | number, env?: string): Option {
  DOCUMENTED.set(option, { value, env });
  return option;
}

/** The default help shows for an option, commander's or documented; undefined when none. */
export function shownDefault(option: Option): { value: unknown; env?: string } | undefined {
  const doc = DOCUMENTED.get(option);
  if (doc) return doc;
  if (option.defaultValue !== undefined && (option.required || option.optional)) return { value: option.defaultValue };
  return undefined;
}

/** Options the action requires but commander cannot (one of a pair, or an old spelling counts). */
const REQUIRED = new WeakMap<Option, string>();

/** Marks an option required in help; `how` qualifies it ("this or --p12-password-stdin"). */
export function required(option: Option, how = ""): Option {
  REQUIRED.set(option, how);
  return option;
}

export function isRequired(option: Option): boolean {
  return option.mandatory || REQUIRED.has(option);
}

function showDefault(value: string | number): string {
  // Literal values quoted, as commander shows its own; a phrase ("4 per core") as it reads.
  return typeof value === "string" && /\s/.test(value) ? value : JSON.stringify(value);
}

/**
 * The one help format: commander's own extras, plus the documented defaults and `required` for
 * required options. Installed once on the program; every subcommand inherits it.
 */
export function helpConfiguration(): { optionDescription(option: Option): string } {
  const base = new Help();
  return {
    optionDescription(option: Option): string {
      const text = base.optionDescription(option);
      const extra: string[] = [];
      if (isRequired(option)) extra.push(REQUIRED.get(option) ? `required: ${REQUIRED.get(option)}` : "required");
      const doc = DOCUMENTED.get(option);
      if (doc) extra.push(`default: ${showDefault(doc.value)}${doc.env ? `, env: ${doc.env}` : ""}`);
      if (extra.length === 0) return text;
      return `${text} (${extra.join(", ")})`;
    },
  };
}

/** Every command's help ends with 2–3 examples, written as the user types them. */
export function withExamples(command: Command, ...examples: string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);
}

/** The secrets a command can read. Each is given as `--<secret>-env VAR` or `--<secret>-stdin`, never as an argument. */
export type Secret = "key-passphrase" | "ca-passphrase" | "p12-password";
export const SECRETS: readonly Secret[] = ["key-passphrase", "ca-passphrase", "p12-password"];

/** Declares the pair `--<secret>-env VAR` / `--<secret>-stdin`. */
export function secretOptions(
  command: Command,
  secret: Secret,
  purpose: string,
  o: { required?: boolean } = {},
): Command {
  const env = new Option(`--${secret}-env <VAR>`, `${purpose}, read from the env var VAR`);
  const stdin = new Option(`--${secret}-stdin`, `${purpose}, read from the first line of stdin`);
  if (o.required) {
    required(env, `this or --${secret}-stdin`);
    required(stdin, `this or --${secret}-env`);
  }
  return command.addOption(env).addOption(stdin);
}

const DEPRECATED = new WeakSet<Option>();

/**
 * An old flag kept as a hidden alias of `replacement`, with a one-line notice on stderr when
 * used. With `redirect: false` the old value stays under its own name for the action to sort out
 * (`--tree` beside an old-style `--out FILE`).
 */
export function deprecatedAlias(
  command: Command,
  io: Io,
  old: string,
  replacement: string,
  o: { redirect?: boolean } = {},
): Command {
  const option = new Option(old).hideHelp();
  DEPRECATED.add(option);
  command.addOption(option);
  command.on(`option:${option.name()}`, (value: unknown) => {
    io.stderr.write(`mtls-certs: ${option.long} is deprecated; use ${replacement}\n`);
    const target = command.options.find((t) => t.long === replacement);
    if (target && o.redirect !== false) command.setOptionValueWithSource(target.attributeName(), value ?? true, "cli");
  });
  return command;
}

export function isDeprecatedAlias(option: Option): boolean {
  return DEPRECATED.has(option);
}

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

/** The secret of a `secretOptions` pair, or undefined when neither flag was given. */
export async function readSecret(flags: object, secret: Secret, io: Io): Promise<string | undefined> {
  const values = flags as Record<string, unknown>;
  const key = secret.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const envFlag = `--${secret}-env`;
  const stdinFlag = `--${secret}-stdin`;
  const variable = values[`${key}Env`] as string | undefined;
  if (!values[`${key}Stdin`]) return passphraseFromEnv(variable, envFlag, io);
  if (variable !== undefined)
    throw new MtlsError(
      "E_USAGE",
      `${envFlag} and ${stdinFlag} both give the ${secret.endsWith("password") ? "password" : "passphrase"}`,
      "give one of them",
    );
  const onStdin = Object.keys(values).filter((k) => k.endsWith("Stdin") && values[k]);
  if (onStdin.length > 1)
    throw new MtlsError(
      "E_USAGE",
      "more than one secret asked for on stdin",
      "stdin holds one secret; pass the others with --…-env VAR",
    );
  return secretFromStdin(stdinFlag, io);
}

export function configOption(): Option {
  return documented(
    new Option("--config <file>", "plugin config, or the gateway's mcp-stack.yaml"),
    DEFAULT_CONFIG,
    ENV.config,
  );
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

/** The key passphrase from `--key-passphrase-env VAR` or `--key-passphrase-stdin`. */
export function keyPassphraseFrom(
  flags: { keyPassphraseEnv?: string; keyPassphraseStdin?: boolean },
  io: Io,
): Promise<string | undefined> {
  return readSecret(flags, "key-passphrase", io);
}

/** The first line of stdin, as openssl's `-passin stdin` reads it: never a command-line argument. */
async function secretFromStdin(flag: string, io: Io): Promise<string> {
  if (!io.stdin || io.stdin.isTTY)
    throw new MtlsError(
      "E_PASSPHRASE",
      `${flag}: stdin is a terminal`,
      `pipe it in: printf '%s\\n' "$SECRET" | mtls-certs … ${flag}`,
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
  const envCaDays = io.env[ENV.caDays];
  const caDays =
    flags.caDays !== undefined
      ? parseDays(flags.caDays, "--ca-days")
      : envCaDays !== undefined && envCaDays !== ""
        ? parseDays(envCaDays, ENV.caDays)
        : undefined;
  if (flags.caPassphraseStdin && flags.keyPassphraseStdin)
    throw new MtlsError(
      "E_USAGE",
      "--ca-passphrase-stdin and --key-passphrase-stdin both read stdin",
      "give one of the two passphrases with its -env flag",
    );
  const caPassphrase = await readSecret(flags, "ca-passphrase", io);
  const keyPassphrase = await keyPassphraseFrom(flags, io);
  const lockWait = flags.lockWait ?? (io.env[ENV.lockWait] || undefined);
  return {
    out: flags.out ?? DEFAULT_OUT,
    caSubject: caSubjectFrom(flags),
    days,
    caDays,
    // Unset unless given: the library's default applies, and says so when it differs from an ECDSA CA's.
    keyType: flags.keyType === undefined ? undefined : parseKeyType(flags.keyType),
    jobs: flags.jobs === undefined ? undefined : parseWholeNumber(flags.jobs, "--jobs", 1, 256),
    keyPassphrase,
    caPassphrase,
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
  const { asInvoked } = await import("./invocation.js");
  const command = commandOf(io);
  for (const w of report.warnings) io.stderr.write(`warning: ${asInvoked(w, command)}\n`);
  for (const line of report.adopted ?? []) io.stderr.write(`${line}\n`);
  if (flags.json) {
    io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    const { renderIssueReport, renderNextSteps } = await import("../report/issue-report.js");
    const { styleFor } = await import("../report/terminal.js");
    io.stdout.write(asInvoked(renderIssueReport(report, await styleFor(io.stdout)), command));
    if (!flags.quiet) io.stdout.write(renderNextSteps(report, DEFAULT_OUT, process.cwd(), command));
  }
  // A leaf the name policy refused is not signed; the others are (issue 23 §4): exit 2 names it.
  for (const f of report.failed ?? [])
    io.stderr.write(`mtls-certs: ${f.error.message}\n${f.error.hint ? `hint: ${f.error.hint}\n` : ""}`);
  return (report.failed ?? []).length > 0 ? EXIT.usage : EXIT.ok;
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

/**
 * The plugin config path: --config, then MCP_PLUGIN_CONFIG, then the default. A file the user
 * named must exist (exit 2 naming it); only the default may be missing (config.ts says why).
 */
export async function configPath(flag: string | undefined, io: Io): Promise<string> {
  const file = flag ?? (io.env[ENV.config] || DEFAULT_CONFIG);
  const namedBy = flag !== undefined ? "--config" : io.env[ENV.config] ? ENV.config : undefined;
  await (await import("../config/plugin-config.js")).assertConfigExists(file, namedBy);
  return file;
}

/** What `check` and `probe` can print: one set of formats, one `--format`, one `--json`. */
export const REPORT_FORMATS = ["table", "json", "github", "prometheus"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function reportFormatOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--format <format>",
        "table, json (one document), github (Actions annotations) or prometheus (textfile collector)",
      ).choices(REPORT_FORMATS),
    )
    .option("--json", "the same as --format json");
}

/** The format asked for; `--json` with another `--format` is a usage error. */
export function reportFormat(flags: { json?: boolean; format?: ReportFormat }): ReportFormat {
  if (flags.json && flags.format !== undefined && flags.format !== "json")
    throw new MtlsError(
      "E_USAGE",
      `--json and --format ${flags.format} ask for two different outputs`,
      "give one of them",
    );
  return flags.json ? "json" : (flags.format ?? "table");
}
