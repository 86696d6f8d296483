/** Wiring of `check`. */
import type { Command } from "commander";
import { DEFAULT_RENEW_WITHIN_DAYS } from "../defaults.js";
import type { CheckReport } from "../commands/check.js";
import { commandOf, type CommandContext, type Io } from "./command-context.js";
import { withExamples } from "./option-help.js";
import { type ReportFormat, reportFormat, reportFormatOptions } from "./report-format.js";
import { configOption, configPath, treeOption } from "./tree-options.js";
import { asInvoked } from "./invocation.js";

type CheckFormat = ReportFormat;

interface CheckFlags {
  out: string;
  within?: string;
  json?: boolean;
  format?: CheckFormat;
  config?: string;
  quiet?: boolean;
}

export function registerCheckCommand({ program, io, action }: CommandContext): void {
  const check = program
    .command("check")
    .description(
      "report every certificate's expiry and health, CA first; exit 1 when one is expired, invalid, revoked or foreign (with --within, expiring too)",
    );
  treeOption(check, "the tree to check");
  withExamples(
    check,
    "mtls-certs check",
    "mtls-certs check --within 30 --format github",
    "mtls-certs check -q --within 14 || notify-team",
  );
  check.option(
    "--within <days>",
    `also fail when a certificate expires within this many days (without it: expired, invalid and revoked fail; expiring within ${DEFAULT_RENEW_WITHIN_DAYS} is reported)`,
  );
  reportFormatOptions(check)
    .option("-q, --quiet", "table: only the certificates that need attention, nothing when all is well")
    .addOption(configOption())
    .action(
      action(async (flags: CheckFlags, command: Command) => {
        const { parseWholeNumber } = await import("../pki/names.js");
        const within = flags.within === undefined ? undefined : parseWholeNumber(flags.within, "--within", 0, 36500);
        const format = reportFormat(flags);
        const { checkTree, checkExitCode } = await import("../commands/check.js");
        // Without --out, an mcp-stack.yaml's certificates.*_path say where the tree is (as for `all`).
        const out = command.getOptionValueSource("out") === "default" ? undefined : flags.out;
        const report = await checkTree({ out, within, config: await configPath(flags.config, io) });
        const failOnExpiring = within !== undefined;
        const text = await render(report, format, failOnExpiring, io.stdout, Boolean(flags.quiet));
        io.stdout.write(format === "json" ? text : asInvoked(text, commandOf(io)));
        // The caller's problem, on stderr whatever the format: the report judged what it could read.
        if (report.cannotCheck) io.stderr.write(`mtls-certs: ${report.cannotCheck}\n`);
        return checkExitCode(report, failOnExpiring);
      }),
    );
}

async function render(
  report: CheckReport,
  format: CheckFormat,
  failOnExpiring: boolean,
  stdout: Io["stdout"],
  quiet: boolean,
): Promise<string> {
  switch (format) {
    case "json":
      return JSON.stringify(report, null, 2) + "\n";
    case "github":
      return (await import("../report/github.js")).renderGithubAnnotations(report, failOnExpiring);
    case "prometheus":
      return (await import("../report/prometheus.js")).renderPrometheus(report);
    case "table": {
      const { renderCheckTable } = await import("../report/check-table.js");
      const { styleFor } = await import("../report/terminal.js");
      return renderCheckTable(report, await styleFor(stdout), process.cwd(), quiet, failOnExpiring);
    }
  }
}
