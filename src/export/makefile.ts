/**
 * `export makefile`: the gateway Makefile's certs-mcp-* targets (ca, gateway, plugin, all,
 * check) as a fragment that runs mtls-certs, from templates/mcp-certs.mk. The deploy tooling
 * and CI keep calling `make certs-mcp-*` with the same variables.
 */
import { DEFAULT_OUT } from "../defaults.js";
import { packageVersion } from "../package-files.js";
import { makeValue, renderTemplate } from "./render.js";
import type { ExportResult } from "./sources.js";

export interface MakefileExportOptions {
  /** The tree the targets write (`--out`), the fragment's MCP_CERTS_DIR default. Default certs/mcp. */
  tree?: string;
}

export function exportMakefile(o: MakefileExportOptions = {}): ExportResult {
  const dir = makeValue(o.tree ?? DEFAULT_OUT, "--out");
  // npx, the last resort, fetches this very version: the fragment and the CLI stay in step.
  return {
    text: renderTemplate("mcp-certs.mk", { certs_dir: dir, version: packageVersion() }),
    notes: [],
    written: [],
    secret: false,
  };
}
