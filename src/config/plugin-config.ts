/**
 * plugins/external/config.yaml: which plugins get a server certificate. The Makefile takes the
 * `name` of every top-level `plugins:` entry with `kind: external`; so do we, but a file we
 * cannot read correctly is an error (exit 2, file:line:column), never a silent partial run.
 * The gateway's deploy config, mcp-stack.yaml, is read too: told apart by its `certificates:`
 * (its sections in stack.ts, each entry's transport in transport.ts, the SANs in sans.ts). What
 * either file is read into is config-data.ts: plain data, which the package's types export.
 */
import { promises as fs } from "node:fs";
import { resolve } from "node:path";
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from "yaml";
import { readText } from "../store/write.js";
import { MtlsError, errnoCode } from "../errors.js";
import { checkName } from "../pki/names.js";
import { requested, type RequestedName } from "../pki/name-policy.js";
import { namespaceSans } from "../pki/profiles.js";
import { DEFAULT_CONFIG } from "../defaults.js";
import { nodePositions } from "./yaml-position.js";
import type { PluginConfig, PluginEntry } from "./config-data.js";
import { MCP_TRANSPORT, parseTransport } from "./transport.js";
import { isPlainHttp, sanForHost, sanForUrl } from "./sans.js";
import { assertStackTreeInsideProject, parseStackCertificates, parseStackDeployment, parseStackPort } from "./stack.js";

/**
 * Only the default path (plugins/external/config.yaml, given or not, relative or absolute: the
 * Makefile fragment always passes it) may be missing, as the Makefile's: then `all` makes its two example plugins. Any
 * other file the user named must be there: `--config nosuch.yaml` making example plugins, or
 * `check` dropping its SAN checks, would pass a typo silently. Exit 2, the file named.
 */
export async function assertConfigExists(file: string, namedBy: string | undefined): Promise<void> {
  // The gateway's own file wherever its checkout is (a cron line gives it absolute).
  if (`/${resolve(file)}`.endsWith(`/${DEFAULT_CONFIG}`)) return;
  try {
    await fs.lstat(file);
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") return; // loadPluginConfig names any other failure
    throw new MtlsError(
      "E_NOT_FOUND",
      `${file}: no such file (the plugin config${namedBy ? ` named by ${namedBy}` : ""})`,
      `give the path of the gateway's plugin config or mcp-stack.yaml; only the default ${DEFAULT_CONFIG} may be missing (then \`all\` makes the Makefile's example plugins)`,
    );
  }
}

export async function loadPluginConfig(file: string): Promise<PluginConfig> {
  let text: string | undefined;
  try {
    // Non-blocking and regular files only: a FIFO given as --config is refused, not waited on.
    text = await readText(file);
  } catch (e) {
    if (!(e instanceof MtlsError) || e.code !== "E_FILE_SYSTEM") throw e;
    throw new MtlsError("E_CONFIG_SYNTAX", e.message);
  }
  if (text === undefined) return { file, found: false, plugins: [], skipped: [] };
  const config = parsePluginConfig(text, file);
  if (config.stack?.out !== undefined) await assertStackTreeInsideProject(file, config.stack.out);
  return config;
}

/** Pure: the text of a config file in, the external plugins out. */
export function parsePluginConfig(text: string, file: string): PluginConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    // `linePos` is only filled in with prettyErrors; `pos` (an offset) always is.
    const pos = lines.linePos(syntax.pos[0]);
    const at = `${file}:${pos.line}:${pos.col}`;
    throw new MtlsError("E_CONFIG_SYNTAX", `${at}: YAML syntax error: ${firstLine(syntax.message)}`);
  }
  const { at, shape } = nodePositions(file, lines);

  const root = doc.contents;
  const shapes =
    "a plugin config (a top-level `plugins:` list) or the gateway's mcp-stack.yaml (`certificates:` and `plugins:`)";
  if (!isMap(root)) throw shape(root, `expected ${shapes}`);
  // Detected by shape: only the gateway's deploy config has a `certificates:` section.
  const certificates = root.get("certificates", true);
  const stack = certificates === undefined ? undefined : parseStackCertificates(certificates as Node, at, shape);
  const deployment = stack
    ? parseStackDeployment(root.get("deployment", true) as Node | undefined, at, shape)
    : undefined;
  const list = root.get("plugins", true);
  if (list === undefined) throw shape(root, `no top-level \`plugins:\` key: not ${shapes}`);
  if (!isSeq(list)) throw shape(list as Node, "`plugins` must be a list");

  const plugins: PluginEntry[] = [];
  const skipped: string[] = [];
  const seen = new Map<string, string>();
  list.items.forEach((item, i) => {
    const field = `plugins[${i}]`;
    if (!isMap(item)) throw shape(item as Node, `${field} must be a mapping with a \`name\``);
    const nameNode = item.get("name", true);
    if (!isScalar(nameNode) || typeof nameNode.value !== "string")
      throw shape(nameNode ?? item, `${field}.name must be a string`);
    const kindNode = item.get("kind", true);
    if (kindNode !== undefined && (!isScalar(kindNode) || typeof kindNode.value !== "string"))
      throw shape(kindNode as Node, `${field}.kind must be a string`);
    const name = nameNode.value;
    // In mcp-stack.yaml every plugin is deployed external; `mtls_enabled: false` opts one out.
    const external = stack ? item.get("mtls_enabled") !== false : kindNode?.value === "external";
    if (!external) {
      skipped.push(name);
      return;
    }
    checkName(name, `${at(nameNode)}: ${field}.name`);
    // Directory names collide on case-insensitive file systems, DNS names everywhere.
    const key = name.toLowerCase();
    const first = seen.get(key);
    if (first) throw shape(nameNode, `${field}.name ${JSON.stringify(name)} repeats the plugin at ${first}`);
    seen.set(key, at(nameNode));

    const mcp = item.get("mcp", true);
    const urlNode = isMap(mcp) ? mcp.get("url", true) : undefined;
    let url: string | undefined;
    const sans: RequestedName[] = [];
    if (urlNode !== undefined && urlNode !== null) {
      if (!isScalar(urlNode) || typeof urlNode.value !== "string")
        throw shape(urlNode as Node, `${field}.mcp.url must be a string`);
      url = urlNode.value;
      const san = sanForUrl(url, `${at(urlNode)}: plugin ${name}: ${field}.mcp.url`);
      // An http:// URL is dialed without TLS: no hostname is checked, so it asks for no SAN (the
      // gateway's stock config has http://127.0.0.1 URLs). `all` notes that the cert goes unused.
      if (!isPlainHttp(url)) sans.push(requested(san, "url", `${file}: ${field}.mcp.url`));
    }
    // mcp-stack.yaml's entries are deploy settings (name, port), not the gateway's plugin entries.
    const transport = stack ? MCP_TRANSPORT : parseTransport(item, field, shape);
    if (transport.kind === "grpc")
      sans.push(
        requested(
          sanForHost(transport.host, `${at(item.get("grpc", true) as Node)}: plugin ${name}: ${field}.grpc.target`),
          "grpc-target",
          `${file}: ${field}.grpc.target`,
        ),
      );
    // The host the deploy tooling dials. Compose: `<name lowercased>`, which the `<name>` SAN
    // already matches (DNS names compare case-insensitively). Kubernetes: the Service's names.
    if (deployment?.type === "kubernetes")
      sans.push(...namespaceSans(name, deployment.namespace).map((s) => requested(s, "stack", `${file}: deployment`)));
    const port = stack ? parseStackPort(item, field, shape) : undefined;
    plugins.push({ name, url, transport, sans, where: at(nameNode), ...(port === undefined ? {} : { port }) });
  });
  return { file, found: true, plugins, skipped, ...(stack ? { stack } : {}), ...(deployment ? { deployment } : {}) };
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
