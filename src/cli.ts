/**
 * The command line: commander wiring only. Each action parses its flags into the options object
 * of one library function, calls it, renders the result, and returns an exit code. Each
 * command's work is imported inside its action, so `--help` loads no crypto and no YAML.
 */
import { Command, CommanderError, Option } from "commander";
import { readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { DEFAULT_CONFIG, DEFAULT_DAYS, DEFAULT_KEY_TYPE, DEFAULT_OUT, DEFAULT_RENEW_WITHIN_DAYS, ENV } from "./defaults.js";
import { EXIT, MtlsError, isMtlsError } from "./errors.js";
import type { TreeOptions } from "./store/tree.js";

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** Flags shared by every command that writes certificates. */
interface TreeFlags {
  out?: string;
  days?: string;
  keyType?: string;
  jobs?: string;
  keyPassphraseEnv?: string;
  json?: boolean;
  quiet?: boolean;
}

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export async function main(argv: string[]): Promise<void> {
  const { runInterruptCleanup } = await import("./store/cleanup.js");
  const stop = (code: number) => () => {
    runInterruptCleanup();
    process.stderr.write(`\nmtls-certs: interrupted; temp files removed, nothing half-written\n`);
    process.exit(code);
  };
  process.on("SIGINT", stop(EXIT.sigint));
  process.on("SIGTERM", stop(EXIT.sigterm));
  process.exitCode = await run(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}

/** Runs one command line; returns the exit code. Tests call this in process. */
export async function run(argv: string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  let json = false;
  const program = new Command("mtls-certs")
    .description("A small CA for mutual TLS between a gateway and its plugins: writes certs/mcp/{ca,gateway,plugins/<name>}.")
    .version(VERSION, "-v, --version")
    .showHelpAfterError("(run mtls-certs --help for usage)")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  const action = <A extends unknown[]>(work: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      const flags = args.find((a): a is TreeFlags => typeof a === "object" && a !== null && !Array.isArray(a) && !(a instanceof Command));
      json = Boolean(flags?.json);
      exitCode = await work(...args);
    };

  treeCommand(program, "ca", "create the CA (certs/mcp/ca/ca.{key,crt}); an existing CA is kept")
    .option("--ca-cn <cn>", "the CA's common name", "ContextForge-CA")
    .option("--ca-org <o>", "the CA's organization", "ContextForge")
    .option("--ca-ou <ou>", "the CA's organizational unit", "Plugins")
    .action(action(async (flags: TreeFlags & { caCn: string; caOrg: string; caOu: string }) => {
      const { createCa } = await import("./commands/ca.js");
      const o = await treeOptions(flags, io);
      return issued(await withProgress(io, flags, o, () => createCa({ ...o, caSubject: { cn: flags.caCn, org: flags.caOrg, ou: flags.caOu } })), flags, io);
    }));

  treeCommand(program, "gateway", "create the gateway's client certificate (certs/mcp/gateway/), and the CA when missing")
    .action(action(async (flags: TreeFlags) => {
      const { issueGateway } = await import("./commands/gateway.js");
      const o = await treeOptions(flags, io);
      return issued(await withProgress(io, flags, o, () => issueGateway(o)), flags, io);
    }));

  treeCommand(program, "plugin", "create a plugin's server certificate (certs/mcp/plugins/<name>/), and the CA when missing")
    .argument("<name>", "the plugin's name, as in config.yaml (becomes a directory and a DNS name)")
    .option("--san <dns...>", "extra DNS names for the certificate")
    .option("--ip <address...>", "extra IP addresses for the certificate")
    .option("--namespace <ns>", "add <name>.<ns>, <name>.<ns>.svc and <name>.<ns>.svc.cluster.local")
    .addOption(configOption())
    .action(action(async (name: string, flags: TreeFlags & { san?: string[]; ip?: string[]; namespace?: string; config?: string }) => {
      const { issuePlugin } = await import("./commands/plugin.js");
      const o = await treeOptions(flags, io);
      const config = flags.config ?? io.env[ENV.config] ?? DEFAULT_CONFIG;
      return issued(await withProgress(io, flags, o, () => issuePlugin(name, { ...o, san: flags.san, ip: flags.ip, namespace: flags.namespace, config })), flags, io);
    }));

  treeCommand(program, "all", "create the CA, the gateway cert and a server cert for every external plugin in the config")
    .addOption(configOption())
    .action(action(async (flags: TreeFlags & { config?: string }) => {
      const { all } = await import("./commands/all.js");
      const o = await treeOptions(flags, io);
      const config = flags.config ?? io.env[ENV.config] ?? DEFAULT_CONFIG;
      return issued(await withProgress(io, flags, o, () => all({ ...o, config })), flags, io);
    }));

  program
    .command("check")
    .description("report every certificate's expiry and health; exit 1 when one needs attention")
    .option("--out <dir>", "the tree to check", DEFAULT_OUT)
    .option("--within <days>", `also fail when a certificate expires within this many days (default: report only, ${DEFAULT_RENEW_WITHIN_DAYS})`)
    .option("--json", "print one JSON document")
    .action(action(async (flags: { out: string; within?: string; json?: boolean }) => {
      const { parseWholeNumber } = await import("./pki/names.js");
      const within = flags.within === undefined ? undefined : parseWholeNumber(flags.within, "--within", 0, 36500);
      const { checkTree, checkFailed } = await import("./commands/check.js");
      const report = await checkTree({ out: flags.out, within });
      if (flags.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
      else {
        const { renderCheckTable } = await import("./report/check-table.js");
        const { styleFor } = await import("./report/terminal.js");
        io.stdout.write(renderCheckTable(report, await styleFor(io.stdout)));
      }
      return checkFailed(report, within !== undefined) ? EXIT.problem : EXIT.ok;
    }));

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    return reportError(e, io, json);
  }
}

function treeCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option("--out <dir>", "root of the tree", DEFAULT_OUT)
    .option("--days <n>", `validity of new certificates in days (env ${ENV.days}, default ${DEFAULT_DAYS})`)
    .option("--key-type <type>", `rsa4096, rsa3072, rsa2048, ecdsa-p256 or ecdsa-p384 (default ${DEFAULT_KEY_TYPE})`)
    .option("--jobs <n>", "keys generated at once (default: the number of cores)")
    .option("--key-passphrase-env <VAR>", "encrypt new keys (and open an encrypted CA key) with the passphrase in this env var")
    .option("--json", "print one JSON document of what was created and kept")
    .option("-q, --quiet", "no progress messages");
}

function configOption(): Option {
  return new Option("--config <file>", `plugin config (env ${ENV.config}, default ${DEFAULT_CONFIG})`);
}

/** Flags → library options. A flag beats the env var, which beats the default. */
async function treeOptions(flags: TreeFlags, io: Io): Promise<TreeOptions> {
  const { parseDays, parseWholeNumber } = await import("./pki/names.js");
  const { parseKeyType } = await import("./pki/keys.js");
  const envDays = io.env[ENV.days];
  const days = flags.days !== undefined ? parseDays(flags.days, "--days") : envDays !== undefined && envDays !== "" ? parseDays(envDays, ENV.days) : DEFAULT_DAYS;
  let keyPassphrase: string | undefined;
  if (flags.keyPassphraseEnv !== undefined) {
    keyPassphrase = io.env[flags.keyPassphraseEnv];
    if (!keyPassphrase) throw new MtlsError("E_PASSPHRASE", `--key-passphrase-env: the variable ${flags.keyPassphraseEnv} is unset or empty`);
  }
  return {
    out: flags.out ?? DEFAULT_OUT,
    days,
    keyType: flags.keyType === undefined ? DEFAULT_KEY_TYPE : parseKeyType(flags.keyType),
    jobs: flags.jobs === undefined ? undefined : parseWholeNumber(flags.jobs, "--jobs", 1, 256),
    keyPassphrase,
  };
}

async function withProgress<T>(io: Io, flags: TreeFlags, o: TreeOptions, work: () => Promise<T>): Promise<T> {
  const { startProgress } = await import("./report/terminal.js");
  const progress = await startProgress(io.stderr, Boolean(flags.quiet));
  o.onProgress = (m) => progress.update(m);
  try {
    return await work();
  } finally {
    progress.stop();
  }
}

async function issued(report: import("./store/tree.js").IssueReport, flags: TreeFlags, io: Io): Promise<number> {
  for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
  if (flags.json) {
    io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    const { renderIssueReport } = await import("./report/issue-report.js");
    const { styleFor } = await import("./report/terminal.js");
    io.stdout.write(renderIssueReport(report, await styleFor(io.stdout)));
  }
  return EXIT.ok;
}

/** The one place an error becomes a message and an exit code. No stack: it could hold secrets. */
function reportError(e: unknown, io: Io, json: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
    return EXIT.usage; // commander already printed the message
  }
  if (isMtlsError(e)) {
    io.stderr.write(`mtls-certs: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ""}`);
    if (json) io.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null } }, null, 2) + "\n");
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  io.stderr.write(`mtls-certs: internal error: ${message}\n`);
  if (json) io.stdout.write(JSON.stringify({ error: { code: "E_INTERNAL", message, hint: null } }, null, 2) + "\n");
  return EXIT.problem;
}
