/**
 * `export makefile`: the gateway Makefile's certs-mcp-* targets (ca, gateway, plugin, all,
 * check) as a fragment that runs mtls-certs, from templates/mcp-certs.mk. The deploy tooling
 * and CI keep calling `make certs-mcp-*` with the same variables.
 *
 * cforge calls `make certs-mcp-plugin PLUGIN_NAME=X MCP_CERT_DAYS=N` and nothing else: no config
 * variable. With `stack`, the fragment's default config is the gateway's mcp-stack.yaml, so those
 * very calls give each plugin the names its deployment dials (`mcp-plugin-<lower>.<ns>.svc`…) and
 * `certs-mcp-check` fails on a cert that lacks one.
 */
import { DEFAULT_CONFIG, DEFAULT_OUT } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { loadPluginConfig } from "../config/plugin-config.js";
import { stackTreeWarning } from "../config/stack.js";
import { packageVersion } from "../package-files.js";
import { makeValue, renderTemplate } from "./render.js";
import type { ExportResult } from "./sources.js";

export interface MakefileExportOptions {
  /** The tree the targets write (`--out`), the fragment's MCP_CERTS_DIR default. Default certs/mcp. */
  tree?: string;
  /**
   * The gateway's mcp-stack.yaml (`--stack`), relative to where make runs: the fragment's
   * MCP_PLUGIN_CONFIG default. Default plugins/external/config.yaml.
   */
  stack?: string;
}

export async function exportMakefile(o: MakefileExportOptions = {}): Promise<ExportResult> {
  const dir = makeValue(o.tree ?? DEFAULT_OUT, "--out");
  const notes: string[] = [];
  if (o.stack !== undefined) {
    makeValue(o.stack, "--stack");
    const config = await loadPluginConfig(o.stack);
    if (!config.found)
      throw new MtlsError("E_NOT_FOUND", `--stack ${o.stack}: no such file`, "give the mcp-stack.yaml cforge deploys");
    if (config.stack === undefined)
      throw new MtlsError(
        "E_USAGE",
        `--stack ${o.stack}: not the gateway's mcp-stack.yaml (it has no certificates: section)`,
        "give the plugin config with MCP_PLUGIN_CONFIG=... on make's command line instead",
      );
    const moved = stackTreeWarning(config);
    if (moved) notes.push(moved);
    if (config.stack.useCertManager)
      notes.push(`${o.stack}: certificates.use_cert_manager is true: cforge runs no make target, cert-manager issues`);
  }
  // When no mtls-certs is found, the fragment names the version it was made for.
  const text = renderTemplate("mcp-certs.mk", {
    certs_dir: dir,
    config: o.stack ?? DEFAULT_CONFIG,
    stack: o.stack !== undefined,
    version: packageVersion(),
  });
  return { text, notes, written: [], secret: false };
}
