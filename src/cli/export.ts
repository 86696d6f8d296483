/**
 * Wiring of `export <format>`: one parent command, one subcommand per format (PKCS#12, proxy
 * configs …). To add a format, write a `(parent, context) => void` that calls
 * `parent.command("<format>")` (here or in your group's wiring module) and add it to
 * EXPORT_FORMATS. As everywhere, the work is imported inside the action.
 */
import { registerPrometheusRulesExport } from "./export-alerts.js";
import { registerGatewayApiExport, registerKubernetesExports } from "./export-kubernetes.js";
import { registerProxyExports } from "./export-proxies.js";
import { registerMakefileExport, registerSettingsExports } from "./export-settings.js";
import { registerHostnameChecksExport } from "./export-hostname-checks.js";
import { LINK_EXPORTS } from "./export-links.js";
import { registerP12Export } from "./revocation.js";
import type { CommandContext, ExportFormat } from "./command-context.js";

/** Every `export` subcommand, in the order `export --help` lists them. */
const EXPORT_FORMATS: readonly ExportFormat[] = [
  registerP12Export,
  registerProxyExports,
  registerKubernetesExports,
  registerGatewayApiExport,
  registerSettingsExports,
  registerMakefileExport,
  ...LINK_EXPORTS,
  registerPrometheusRulesExport,
  registerHostnameChecksExport,
];

export function registerExportCommands(context: CommandContext): void {
  const parent = context.program
    .command("export")
    .description("write a certificate in the form another program takes (PKCS#12, proxy configs)");
  for (const register of EXPORT_FORMATS) register(parent, context);
}
