import { DEFAULT_CONFIG, DEFAULT_RENEW_WITHIN_DAYS, FALLBACK_PLUGINS } from "../defaults.js";
import { loadPluginConfig } from "../config/plugin-config.js";
import { isPlainHttp } from "../config/sans.js";
import { stackTreeWarning } from "../config/stack.js";
import { gatewayRequest, pluginRequest } from "../store/leaf-requests.js";
import { issueIntoTree } from "../store/tree.js";
import { resolveTree } from "../store/tree-access.js";
import type { IssueReport, TreeOptions } from "../store/issue-types.js";

export interface AllOptions extends TreeOptions {
  /** Default plugins/external/config.yaml (env MCP_PLUGIN_CONFIG in the CLI). */
  config?: string;
}

export interface AllReport extends IssueReport {
  readonly config: {
    readonly file: string;
    readonly found: boolean;
    readonly plugins: string[];
    readonly skipped: readonly string[];
  };
}

/**
 * `mtls-certs all`: the CA, the gateway's client cert and a server cert for every plugin with
 * `kind: external`. Without a config file, the Makefile's two example plugins.
 */
export async function all(o: AllOptions = {}): Promise<AllReport> {
  const config = await loadPluginConfig(o.config ?? DEFAULT_CONFIG);
  const listed = config.found ? config.plugins : FALLBACK_PLUGINS.map((name) => ({ name, sans: [], url: undefined }));
  // A Unix socket carries no TLS: a cert for it would sit unused (`plugin NAME` still makes one).
  const plugins = listed.filter((p) => !("transport" in p) || p.transport.kind !== "socket");
  const sockets = config.plugins.flatMap((p) =>
    p.transport.kind === "socket"
      ? [
          `plugin ${p.name}: no certificate, it is reached over the Unix socket ${p.transport.field} ${JSON.stringify(p.transport.path)}, which has no TLS (\`mtls-certs plugin ${p.name}\` makes one anyway)`,
        ]
      : [],
  );
  // mcp-stack.yaml's certificates section fills in what the caller left unset (no flag, no env).
  const stack = config.stack;
  o = { ...o, days: o.days ?? stack?.days, out: o.out ?? stack?.out };
  const tree = resolveTree(o);
  const warnings: string[] = [];
  const moved = stackTreeWarning(config);
  if (moved) warnings.push(moved);
  if (stack?.useCertManager)
    warnings.push(
      `${config.file}: certificates.use_cert_manager is true; \`mtls-certs export k8s\` hands this tree over to cert-manager`,
    );
  if (!config.found)
    warnings.push(
      `${config.file} not found: making the example plugins ${FALLBACK_PLUGINS.join(" and ")}, as the Makefile does`,
    );
  else if (listed.length === 0)
    warnings.push(`${config.file}: no plugin has kind: external; no plugin certificates made`);
  warnings.push(...sockets);
  const report = await issueIntoTree(o, [
    gatewayRequest(tree),
    ...plugins.map((p) => pluginRequest(tree, p.name, p.sans)),
  ]);
  const now = o.now ?? new Date();
  // Reviewed when something was kept, or a new cert already sits in check's window (`--days 30`).
  const withinWindow = (c: { notAfter: string }) =>
    Date.parse(c.notAfter) - now.getTime() <= DEFAULT_RENEW_WITHIN_DAYS * 86_400_000;
  const reviewed = report.certificates.some((c) => c.action === "kept" || withinWindow(c))
    ? await (await import("./all/review.js")).reviewKept(report, {
        tree,
        now,
        config: config.found ? config.file : undefined,
        plainHttp: plugins.flatMap((p) => (p.url !== undefined && isPlainHttp(p.url) ? [p.name] : [])),
      })
    : report;
  return {
    ...reviewed,
    warnings: [...warnings, ...report.warnings],
    config: { file: config.file, found: config.found, plugins: plugins.map((p) => p.name), skipped: config.skipped },
  };
}
