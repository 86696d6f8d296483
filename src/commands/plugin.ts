import { DEFAULT_CONFIG } from "../defaults.js";
import type { PluginEntry } from "../config/config-data.js";
import { loadPluginConfig } from "../config/plugin-config.js";
import { checkDnsName, checkName } from "../pki/names.js";
import { extraSans, requested, type ExtraSanOptions } from "../pki/name-policy.js";
import { namespaceSans, type San } from "../pki/profiles.js";
import { pluginRequest } from "../store/leaf-requests.js";
import { issueIntoTree } from "../store/tree.js";
import { resolveTree } from "../store/tree-access.js";
import type { IssueReport, TreeOptions } from "../store/issue-types.js";

export interface PluginOptions extends TreeOptions, ExtraSanOptions {
  /** Adds `mcp-plugin-<name lowercased>` and that `.<ns>`, `.<ns>.svc`, `.<ns>.svc.cluster.local` (`--namespace`). */
  namespace?: string;
  /** The plugin config, whose `mcp.url` host is added as a SAN. Default plugins/external/config.yaml. */
  config?: string;
}

/** The SANs a plugin's cert must carry: the Makefile's three, the config's URL host, the flags'. */
export function pluginExtraSans(name: string, o: PluginOptions, entry?: PluginEntry): San[] {
  // The command line first: a name it gives is the user's, even when the config asks for it too.
  const extra: San[] = [...extraSans(o), ...(entry?.sans ?? [])];
  if (o.namespace !== undefined)
    extra.push(
      ...namespaceSans(name, checkDnsName(o.namespace, "--namespace")).map((s) => requested(s, "flag", "--namespace")),
    );
  return extra;
}

/** `mtls-certs plugin <name>`: the CA first when missing, then the plugin's server cert. */
export async function issuePlugin(name: string, o: PluginOptions = {}): Promise<IssueReport> {
  checkName(name, "plugin name");
  const config = await loadPluginConfig(o.config ?? DEFAULT_CONFIG);
  const entry = config.plugins.find((p) => p.name === name);
  return issueIntoTree(o, [pluginRequest(resolveTree(o), name, pluginExtraSans(name, o, entry))]);
}
