/**
 * Wiring of `export prometheus-rules`. It reads no tree (the rules only name metrics), so it
 * takes no `--out`; the file it writes is `-o, --output`, replaced only with `--force`.
 */
import type { Command } from "commander";
import { EXIT, MtlsError } from "../errors.js";
import type { CommandContext } from "./shared.js";

interface PrometheusRulesFlags {
  output?: string;
  force?: boolean;
  json?: boolean;
  operator?: boolean;
  namespace?: string;
  label?: string[];
}

export function registerPrometheusRulesExport(parent: Command, { io, action }: CommandContext): void {
  parent
    .command("prometheus-rules")
    .description(
      "alerting rules for `check --format prometheus`: expiring (warning), expired, invalid, revoked, foreign (critical), no check for 2 days (warning)",
    )
    .option("--operator", "a PrometheusRule for the Prometheus Operator instead of a plain rules file")
    .option("--namespace <ns>", "the PrometheusRule's namespace (with --operator; default mcp-system)")
    .option(
      "--label <key=value>",
      "a label on the PrometheusRule, for the Prometheus resource's ruleSelector (with --operator; repeatable)",
      (raw: string, previous: string[] = []) => [...previous, raw],
    )
    .option("-o, --output <file>", "write the rules to this file instead of stdout")
    .option("--force", "replace --output if it exists")
    .option("--json", "print one JSON document: { text (or output), notes }")
    .action(
      action(async (flags: PrometheusRulesFlags) => {
        const { exportPrometheusRules, parseLabel } = await import("../export/prometheus-rules.js");
        const labels = (flags.label ?? []).reduce<Record<string, string>>((all, raw) => parseLabel(raw, all), {});
        const result = exportPrometheusRules({ operator: flags.operator, namespace: flags.namespace, labels });
        for (const note of result.notes) io.stderr.write(`note: ${note}\n`);
        if (flags.output === undefined) {
          io.stdout.write(
            flags.json ? JSON.stringify({ text: result.text, notes: result.notes }, null, 2) + "\n" : result.text,
          );
          return EXIT.ok;
        }
        const { saveExport } = await import("../export/sources.js");
        const { exists } = await import("../store/write.js");
        if (!flags.force && (await exists(flags.output)))
          throw new MtlsError("E_USAGE", `${flags.output}: already exists`, "add --force to replace it");
        await saveExport(flags.output, result, Boolean(flags.force));
        io.stderr.write(`wrote ${flags.output}\n`);
        if (flags.json) io.stdout.write(JSON.stringify({ output: flags.output, notes: result.notes }, null, 2) + "\n");
        return EXIT.ok;
      }),
    );
}
