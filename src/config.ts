/**
 * plugins/external/config.yaml: which plugins get a server certificate. The Makefile takes the
 * `name` of every top-level `plugins:` entry with `kind: external`; so do we, but a file we
 * cannot read correctly is an error (exit 2, file:line:column), never a silent partial run.
 */
import { promises as fs } from "node:fs";
import { isIP } from "node:net";
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from "yaml";
import { MtlsError, errnoCode } from "./errors.js";
import { checkDnsName, checkName } from "./pki/names.js";
import { dns, ip, type San } from "./pki/profiles.js";

export interface PluginEntry {
  readonly name: string;
  /** `mcp.url`, when given: its host becomes a SAN, since the gateway checks the hostname. */
  readonly url: string | undefined;
  /** SANs the config asks for on top of the Makefile's three. */
  readonly sans: readonly San[];
  /** Where the entry stands, for messages: `config.yaml:12:5`. */
  readonly where: string;
}

export interface PluginConfig {
  readonly file: string;
  /** False when the file does not exist: the caller falls back to the example plugins. */
  readonly found: boolean;
  readonly plugins: readonly PluginEntry[];
  /** Entries of another kind, which get no certificate. */
  readonly skipped: readonly string[];
}

export async function loadPluginConfig(file: string): Promise<PluginConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return { file, found: false, plugins: [], skipped: [] };
    throw new MtlsError("E_CONFIG_SYNTAX", `${file}: cannot read (${errnoCode(e) ?? String(e)})`);
  }
  return parsePluginConfig(text, file);
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
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const shape = (node: Node | null | undefined, message: string): MtlsError => new MtlsError("E_CONFIG_SHAPE", `${at(node)}: ${message}`);

  const root = doc.contents;
  if (!isMap(root)) throw shape(root, "expected a mapping with a top-level `plugins:` list");
  const list = root.get("plugins", true);
  if (list === undefined) throw shape(root, "no top-level `plugins:` key");
  if (!isSeq(list)) throw shape(list as Node, "`plugins` must be a list");

  const plugins: PluginEntry[] = [];
  const skipped: string[] = [];
  const seen = new Map<string, string>();
  list.items.forEach((item, i) => {
    const field = `plugins[${i}]`;
    if (!isMap(item)) throw shape(item as Node, `${field} must be a mapping with a \`name\``);
    const nameNode = item.get("name", true);
    if (!isScalar(nameNode) || typeof nameNode.value !== "string") throw shape(nameNode ?? item, `${field}.name must be a string`);
    const kindNode = item.get("kind", true);
    if (kindNode !== undefined && (!isScalar(kindNode) || typeof kindNode.value !== "string")) throw shape(kindNode as Node, `${field}.kind must be a string`);
    const name = nameNode.value;
    if (kindNode?.value !== "external") {
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
    const sans: San[] = [];
    if (urlNode !== undefined && urlNode !== null) {
      if (!isScalar(urlNode) || typeof urlNode.value !== "string") throw shape(urlNode as Node, `${field}.mcp.url must be a string`);
      url = urlNode.value;
      sans.push(sanForUrl(url, `${at(urlNode)}: plugin ${name}: ${field}.mcp.url`));
    }
    plugins.push({ name, url, sans, where: at(nameNode) });
  });
  return { file, found: true, plugins, skipped };
}

/** The SAN a client connecting to `url` checks: an IP SAN for an address, else a DNS SAN. */
export function sanForUrl(url: string, where: string): San {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new MtlsError("E_BAD_URL", `${where}: ${JSON.stringify(url)} is not a URL`);
  }
  if (!host) throw new MtlsError("E_BAD_URL", `${where}: ${JSON.stringify(url)} has no host`);
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  return isIP(bare) ? ip(bare) : dns(checkDnsName(bare, where));
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
