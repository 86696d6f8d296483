/** Wiring of `renew` (and the work behind `ca --finish-rotation`). */
import { Option } from "commander";
import { DEFAULT_DAYS, DEFAULT_HTTPS_DAYS, DEFAULT_RENEW_WITHIN_DAYS, ENV } from "../defaults.js";
import { EXIT } from "../errors.js";
import type { DeployHookResult } from "../commands/deploy-hook.js";
import type { RenewReport } from "../report/renew-types.js";
import { type CommandContext, type Io, commandOf } from "./command-context.js";
import { withProgress } from "./issue-output.js";
import { documented, withExamples } from "./option-help.js";
import { configOption, configPath, treeCommand, treeOptions, type TreeFlags, caDaysOption } from "./tree-options.js";
import { humanDate } from "../human.js";

interface RenewFlags extends TreeFlags {
  within?: string;
  reuseKey?: boolean;
  force?: boolean;
  dryRun?: boolean;
  diff?: boolean;
  config?: string;
  ca?: boolean;
  keepLeaves?: boolean;
  deployHook?: string;
  san?: string[];
  ip?: string[];
}

export function registerRenewCommand({ program, io, action }: CommandContext): void {
  const renew = treeCommand(
    program,
    "renew",
    "re-issue every leaf that has expired or expires within --within days; the CA is kept. Exit 0 when all is fine afterwards, 1 when something still needs attention",
    // A renewed leaf keeps its own key type unless --key-type asks for another.
    {
      keyTypeDefault: "each leaf's own type",
      days: {
        value: DEFAULT_DAYS,
        env: ENV.days,
        description: `validity of renewed certificates in days (the https cert: ${DEFAULT_HTTPS_DAYS} unless --days)`,
      },
    },
  );
  withExamples(
    renew,
    "mtls-certs renew --dry-run",
    "mtls-certs renew DenyListPlugin --san opa-plugin",
    "mtls-certs renew --ca",
  );
  renew
    .argument("[name...]", "only these leaves: gateway, https, a plugin/server/client name, or plugin/<name>")
    .addOption(
      documented(new Option("--within <days>", "renew what expires within this many days"), DEFAULT_RENEW_WITHIN_DAYS),
    )
    .option("--reuse-key", "keep each leaf's key, so SPKI pins stay valid (without it: a new key of the same type)")
    .option("--force", "renew the selected leaves whatever their dates")
    .option(
      "--san <dns...>",
      "with one NAME: re-issue it now with these extra DNS names; every later renew keeps them (the ledger records them)",
    )
    .option("--ip <address...>", "with one NAME: re-issue it now with these extra IP addresses, kept likewise")
    .option("--dry-run", "list what would be renewed; write nothing")
    .option("--diff", "show what changes in each certificate (serial, dates, SANs, key)")
    .addOption(configOption())
    .option(
      "--ca",
      "rotate the CA first: new key, same subject; every ca.crt copy becomes old + new CA; then renew every leaf",
    )
    .option("--keep-leaves", "with --ca: rotate the CA and the ca.crt copies only; renew the leaves later with `renew`")
    .option(
      "--deploy-hook <command>",
      `run this shell command once after a renewal that changed something (e.g. "systemctl reload nginx"); the renewed certs are in MTLS_CERTS_* variables and as JSON on stdin; a failing hook makes the exit code 1 and keeps the renewal (env ${ENV.deployHook}; "" for none)`,
    )
    .addOption(caDaysOption(", with --ca"))
    .action(
      action(async (names: string[], flags: RenewFlags) => {
        const { parseWholeNumber } = await import("../pki/names.js");
        const { renewTree, renewExitCode } = await import("../commands/renew/index.js");
        const within = flags.within === undefined ? undefined : parseWholeNumber(flags.within, "--within", 0, 36500);
        const o = await treeOptions(flags, io);
        const config = await configPath(flags.config, io);
        const report = await withProgress(io, flags, o, () =>
          renewTree({
            ...o,
            // Renewal keeps each leaf's key type unless --key-type asks for another.
            keyType: flags.keyType === undefined ? undefined : o.keyType,
            // As for `https`: MCP_CERT_DAYS is the mcp certs' validity, only --days sets the https cert's.
            httpsDays: flags.days === undefined ? undefined : o.days,
            within,
            names,
            reuseKey: flags.reuseKey,
            force: flags.force,
            san: flags.san,
            ip: flags.ip,
            dryRun: flags.dryRun,
            config,
            ca: flags.ca,
            keepLeaves: flags.keepLeaves,
          }),
        );
        // After the tree's lock is released: a hook may run mtls-certs itself.
        const hook = await deployHook(flags.deployHook ?? io.env[ENV.deployHook], report, io, secretEnvNames(flags));
        if (flags.json) io.stdout.write(JSON.stringify({ ...report, deployHook: hook }, null, 2) + "\n");
        else {
          const { renderRenewReport } = await import("../report/renew-report.js");
          const { styleFor } = await import("../report/terminal.js");
          const { escapeControlCharacters } = await import("../control-characters.js");
          const { asInvoked } = await import("./invocation.js");
          const command = commandOf(io);
          for (const w of report.warnings)
            io.stderr.write(`warning: ${asInvoked(escapeControlCharacters(w), command)}\n`);
          for (const line of report.adopted) io.stderr.write(`${line}\n`);
          io.stdout.write(
            asInvoked(renderRenewReport(report, await styleFor(io.stdout), Boolean(flags.diff)), command),
          );
        }
        const exit = renewExitCode(report);
        return exit === EXIT.ok && hook !== null && !hook.ok ? EXIT.problem : exit;
      }),
    );
}

/**
 * Runs the deploy hook when the renewal changed something, and says how it went on stderr.
 * Null: no hook given, or nothing to deploy.
 */
async function deployHook(
  command: string | undefined,
  report: RenewReport,
  io: Io,
  withhold: readonly string[],
): Promise<DeployHookResult | null> {
  if (command === undefined || command.trim() === "") return null;
  const { renewalChanged, runDeployHook } = await import("../commands/deploy-hook.js");
  if (!renewalChanged(report)) {
    if (report.dryRun && report.renewed.length > 0) io.stderr.write(`dry run: the deploy hook would run: ${command}\n`);
    return null;
  }
  io.stderr.write(`running the deploy hook: ${command}\n`);
  const result = await runDeployHook(command, report, { env: io.env, output: io.stderr, withhold });
  if (!result.ok) {
    const why = result.error ?? (result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`);
    io.stderr.write(
      `mtls-certs: the deploy hook failed (${why}): ${command}\n  the renewal stands: the new certificates are in place but not yet loaded; run the hook (or the reload) by hand\n`,
    );
  }
  return result;
}

/** `ca --finish-rotation [--force]`: the last step of a CA rotation. */
export async function finishRotation(flags: TreeFlags & { force?: boolean }, io: Io): Promise<number> {
  const { finishCaRotation } = await import("../commands/renew/index.js");
  const o = await treeOptions(flags, io);
  const report = await finishCaRotation({ ...o, force: flags.force });
  if (flags.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else {
    for (const cert of report.orphaned)
      io.stderr.write(`warning: ${cert} is signed by the removed CA and no longer verifies\n`);
    io.stdout.write(
      `finished the CA rotation: the previous CA (serial ${report.removed.serial}, until ${humanDate(report.removed.notAfter)}) is no longer trusted\n` +
        `${report.copies} ca.crt copies now hold the new CA alone; its files are in ${report.removed.backup}\n` +
        `deploy the ca.crt copies to the gateway and every plugin\n`,
    );
  }
  return EXIT.ok;
}

/** The environment variables that `--…-passphrase-env VAR` / `--…-password-env VAR` flags named. */
function secretEnvNames(flags: object): string[] {
  return Object.entries(flags)
    .filter(([flag, value]) => /(Passphrase|Password)Env$/.test(flag) && typeof value === "string")
    .map(([, value]) => value as string);
}
