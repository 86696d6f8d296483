/**
 * Wiring of `export hostname-checks`: the Compose override or kustomize patch that turns the
 * gateway's hostname check on over what the deploy tooling rendered. It reads no tree.
 */
import { type Command, Option } from "commander";
import { DEFAULT_GATEWAY_NAMESPACE } from "../defaults.js";
import { emitTreelessExport, type TreelessExportFlags } from "./export-alerts.js";
import type { CommandContext } from "./command-context.js";
import { outputFileOptions } from "./export-options.js";
import { documented, withExamples } from "./option-help.js";

interface HostnameChecksFlags extends TreelessExportFlags {
  format: string;
  namespace?: string;
}

export function registerHostnameChecksExport(parent: Command, { io, action }: CommandContext): void {
  const command = parent
    .command("hostname-checks")
    .description(
      "turn the gateway's plugin hostname check on over the manifests `cforge gateway` rendered (it writes PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME=false): a docker-compose.override.yml or a kustomize patch",
    )
    .option(
      "--format <format>",
      "compose (a docker-compose.override.yml) or kustomize (a strategic-merge patch)",
      "compose",
    )
    .addOption(
      documented(
        new Option("--namespace <ns>", "the gateway Deployment's namespace (with --format kustomize)"),
        DEFAULT_GATEWAY_NAMESPACE,
      ),
    );
  outputFileOptions(command, "write the override or patch to this file instead of stdout");
  withExamples(
    command,
    "mtls-certs export hostname-checks -o docker-compose.override.yml",
    "mtls-certs export hostname-checks --format kustomize -o hostname-checks.yaml",
  );
  command
    .option("--json", "print one JSON document: { text (or output), notes }")
    .option("-q, --quiet", "no `wrote …` line on stderr")
    .action(
      action(async (flags: HostnameChecksFlags) => {
        const { exportHostnameChecks } = await import("../export/hostname-checks.js");
        const result = exportHostnameChecks({ format: flags.format, namespace: flags.namespace });
        return emitTreelessExport(io, flags, result);
      }),
    );
}
