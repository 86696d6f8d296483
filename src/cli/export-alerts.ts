/**
 * Wiring of `export prometheus-rules`. It reads no tree (the rules only name metrics), so it
 * takes no `--out`; the file it writes is `-o, --output`, replaced only with `--force`.
 */
import { type Command, Option } from "commander";
import { DEFAULT_GATEWAY_NAMESPACE } from "../defaults.js";
import { EXIT } from "../errors.js";
import type { ExportResult } from "../export/sources.js";
import type { CommandContext, Io } from "./command-context.js";
import { outputFileOptions } from "./export-options.js";
import { documented, withExamples } from "./option-help.js";

/** The flags of an export that reads no tree: the file written, --json and -q. */
export interface TreelessExportFlags {
  output?: string;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

interface PrometheusRulesFlags extends TreelessExportFlags {
  operator?: boolean;
  namespace?: string;
  label?: string[];
}

export function registerPrometheusRulesExport(parent: Command, { io, action }: CommandContext): void {
  const command = parent
    .command("prometheus-rules")
    .description(
      "alerting rules for `check --format prometheus`: expiring (warning), expired, invalid, revoked, foreign (critical), no check for 2 days (warning)",
    )
    .option("--operator", "a PrometheusRule for the Prometheus Operator instead of a plain rules file")
    .addOption(
      documented(
        new Option("--namespace <ns>", "the PrometheusRule's namespace (with --operator)"),
        DEFAULT_GATEWAY_NAMESPACE,
      ),
    )
    .option(
      "--label <key=value>",
      "a label on the PrometheusRule, for the Prometheus resource's ruleSelector (with --operator; repeatable)",
      (raw: string, previous: string[] = []) => [...previous, raw],
    );
  outputFileOptions(command, "write the rules to this file instead of stdout");
  withExamples(
    command,
    "mtls-certs export prometheus-rules -o /etc/prometheus/rules/mtls-certs.yml",
    "mtls-certs export prometheus-rules --operator --label release=prometheus | kubectl apply -f -",
  );
  command
    .option("--json", "print one JSON document: { text (or output), notes }")
    .option("-q, --quiet", "no `wrote …` line on stderr")
    .action(
      action(async (flags: PrometheusRulesFlags) => {
        const { exportPrometheusRules, parseLabel } = await import("../export/prometheus-rules.js");
        const labels = (flags.label ?? []).reduce<Record<string, string>>((all, raw) => parseLabel(raw, all), {});
        const result = exportPrometheusRules({ operator: flags.operator, namespace: flags.namespace, labels });
        return emitTreelessExport(io, flags, result);
      }),
    );
}

/** Notes to stderr, then the text to stdout or `--output` (replaced only with `--force`). */
export async function emitTreelessExport(io: Io, flags: TreelessExportFlags, result: ExportResult): Promise<number> {
  for (const note of result.notes) io.stderr.write(`note: ${note}\n`);
  if (flags.output === undefined) {
    io.stdout.write(
      flags.json ? JSON.stringify({ text: result.text, notes: result.notes }, null, 2) + "\n" : result.text,
    );
    return EXIT.ok;
  }
  const { saveExport } = await import("../export/sources.js");
  await saveExport(flags.output, result, { force: flags.force });
  if (!flags.quiet) io.stderr.write(`wrote ${flags.output}\n`);
  if (flags.json) io.stdout.write(JSON.stringify({ output: flags.output, notes: result.notes }, null, 2) + "\n");
  return EXIT.ok;
}
