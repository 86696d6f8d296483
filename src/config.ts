/**
 * plugins/external/config.yaml: which plugins get a server certificate. The Makefile takes the
 * `name` of every top-level `plugins:` entry with `kind: external`; so do we, but a file we
 * cannot read correctly is an error (exit 2, file:line:column), never a silent partial run.
 * The gateway's deploy config, mcp-stack.yaml, is read too: told apart by its `certificates:`.
 */
import { readText } from "./store/write.js";
import { isIP } from "node:net";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node, type YAMLMap } from "yaml";
import { MtlsError, errnoCode } from "./errors.js";
import { hasControlCharacter } from "./control-characters.js";
import { checkDnsName, checkName, parseDays } from "./pki/names.js";
import { requested, type RequestedName } from "./pki/name-policy.js";
import { dns, ip, namespaceSans, type San } from "./pki/profiles.js";
import { DEFAULT_CONFIG, DEFAULT_GATEWAY_NAMESPACE, DEFAULT_OUT } from "./defaults.js";
import { promises as fs } from "node:fs";

/**
 * How the gateway reaches an external plugin (cpex allows exactly one of `mcp:`, `grpc:`,
 * `unix_socket:`). Only the network links carry TLS: a Unix socket has none, so its plugin
 * needs no certificate.
 */
export type PluginTransport =
  /** `mcp:` (streamable HTTP), or an entry naming no transport (the Makefile's reading). */
  | { readonly kind: "mcp" }
  /** `grpc.target` (`host:port`): the gateway's gRPC channel checks `host` against the cert. */
  | { readonly kind: "grpc"; readonly target: string; readonly host: string; readonly port: string }
  /** `grpc.uds` or `unix_socket.path`: no TLS. `field` names where it was set, for messages. */
  | { readonly kind: "socket"; readonly path: string; readonly field: string };

export interface PluginEntry {
  readonly name: string;
  /** `mcp.url`, when given: its host becomes a SAN (https:), since the gateway checks the hostname. */
  readonly url: string | undefined;
  readonly transport: PluginTransport;
  /** mcp-stack.yaml's `port`: where the deploy tooling serves the plugin (`probe` dials it there). */
  readonly port?: number;
  /** SANs the config asks for on top of the Makefile's three, each with where it came from (name-policy.ts). */
  readonly sans: readonly RequestedName[];
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
  /** Set when the file is the gateway's deploy config (mcp-stack.yaml): its `certificates:` section. */
  readonly stack?: StackCertificates;
  /** mcp-stack.yaml's `deployment:` section. */
  readonly deployment?: StackDeployment;
}

/**
 * mcp-stack.yaml's `certificates:` (the gateway's `cforge gateway` deploy config): every plugin
 * of its `plugins:` list is external, and the section says where the tree is and how long certs
 * last. Paths are relative to the current directory, as cforge reads them.
 */
export interface StackCertificates {
  /** `validity_days`. */
  readonly days: number | undefined;
  /** The tree's root, from `ca_path`, `gateway_path`, `plugins_path` (which must share it). */
  readonly out: string | undefined;
  /** `use_cert_manager: true`: the cluster issues (see `mtls-certs export k8s`). */
  readonly useCertManager: boolean;
}

/** mcp-stack.yaml's `deployment:`: where the tooling runs the plugins, hence the host it dials. */
export interface StackDeployment {
  /** `compose`, `kubernetes`, or another value the tooling may add (no names added for it). */
  readonly type: string | undefined;
  /** `namespace`; default mcp-gateway, as the tooling's. */
  readonly namespace: string;
}

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
  if (config.stack?.out !== undefined) await assertRealPathInside(file, config.stack.out);
  return config;
}

/**
 * The lexical check in parseStackCertificates cannot see a symlink: a repository may ship
 * `certs -> /somewhere/else`. The tree's real path (its nearest existing ancestor resolved) must
 * stay inside the project's real path too.
 */
async function assertRealPathInside(file: string, out: string): Promise<void> {
  const { realDirectory } = await import("./store/output-file.js");
  const [project, real] = await Promise.all([realDirectory(process.cwd()), realDirectory(out)]);
  if (!isInside(project, real))
    throw new MtlsError(
      "E_CONFIG_SHAPE",
      `${file}: certificates.*_path: the tree ${JSON.stringify(out)} leads through a symbolic link to ${real}, outside the project folder ${project}`,
      "point certificates.*_path at a directory inside the project",
    );
  // Component by component, no link followed: a tree inside a leaf directory (plugins/evil/t, with
  // t/ca a link to the real ca/) is the leaf owner's, and so is any directory another user owns.
  const { directoryOwnershipProblems } = await import("./store/leaf-file.js");
  const problems = await directoryOwnershipProblems(process.cwd(), out);
  if (problems.length > 0)
    throw new MtlsError(
      "E_CONFIG_SHAPE",
      `${file}: certificates.*_path: the tree ${JSON.stringify(out)} is not the project owner's alone:\n${problems.join("\n")}`,
      "point certificates.*_path at a directory only the project's owner (or root) can write, such as ./certs/mcp",
    );
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
  const shape = (node: Node | null | undefined, message: string): MtlsError =>
    new MtlsError("E_CONFIG_SHAPE", `${at(node)}: ${message}`);

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
    const transport = stack ? MCP : parseTransport(item, field, shape);
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
    const port = stack ? stackPort(item, field, shape) : undefined;
    plugins.push({ name, url, transport, sans, where: at(nameNode), ...(port === undefined ? {} : { port }) });
  });
  return { file, found: true, plugins, skipped, ...(stack ? { stack } : {}), ...(deployment ? { deployment } : {}) };
}

const MCP: PluginTransport = { kind: "mcp" };

/** mcp-stack.yaml's `plugins[].port` (optional): a TCP port. */
function stackPort(
  item: YAMLMap,
  field: string,
  shape: (n: Node | null | undefined, message: string) => MtlsError,
): number | undefined {
  const node = item.get("port", true);
  if (node === undefined || node === null) return undefined;
  const value = isScalar(node) ? Number(node.value) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw shape(node as Node, `${field}.port must be a TCP port (1-65535)`);
  return value;
}

/** Which of `mcp:`, `grpc:`, `unix_socket:` the entry uses; cpex refuses an entry with two. */
function parseTransport(
  item: YAMLMap,
  field: string,
  shape: (n: Node | null | undefined, message: string) => MtlsError,
): PluginTransport {
  const present = (["mcp", "grpc", "unix_socket"] as const).filter((k) => item.has(k));
  if (present.length > 1)
    throw shape(
      item.get(present[1], true) as Node,
      `${field} has both \`${present[0]}:\` and \`${present[1]}:\`: an external plugin takes exactly one transport`,
    );
  const text = (node: unknown, name: string): string => {
    if (!isScalar(node) || typeof node.value !== "string" || node.value === "")
      throw shape(node as Node, `${field}.${name} must be a non-empty string`);
    return node.value;
  };
  if (present[0] === "unix_socket") {
    const section = item.get("unix_socket", true);
    if (!isMap(section)) throw shape(section as Node, `${field}.unix_socket must be a mapping with a \`path\``);
    return { kind: "socket", path: text(section.get("path", true), "unix_socket.path"), field: "unix_socket.path" };
  }
  if (present[0] !== "grpc") return MCP;
  const grpc = item.get("grpc", true);
  if (!isMap(grpc)) throw shape(grpc as Node, `${field}.grpc must be a mapping with \`target\` or \`uds\``);
  const target = grpc.get("target", true);
  const uds = grpc.get("uds", true);
  if ((target ?? null) !== null && (uds ?? null) !== null)
    throw shape(uds as Node, `${field}.grpc has both \`target\` and \`uds\`: give one`);
  if ((uds ?? null) !== null) {
    if (grpc.has("tls"))
      throw shape(
        grpc.get("tls", true) as Node,
        `${field}.grpc.tls with grpc.uds: there is no TLS on a Unix socket (the gateway refuses this entry)`,
      );
    return { kind: "socket", path: text(uds, "grpc.uds"), field: "grpc.uds" };
  }
  if ((target ?? null) === null) throw shape(grpc, `${field}.grpc needs \`target: host:port\` or \`uds: /path.sock\``);
  const value = text(target, "grpc.target");
  const parsed = parseGrpcTarget(value);
  if (typeof parsed === "string")
    throw shape(target as Node, `${field}.grpc.target ${JSON.stringify(value)}: ${parsed}`);
  return { kind: "grpc", target: value, ...parsed };
}

/**
 * `host:port`, `[v6]:port` or gRPC's `dns:///host:port`: the host is the name the channel checks
 * the server's cert against (gRPC always checks it). A string in, the parts or why not out.
 */
export function parseGrpcTarget(target: string): { host: string; port: string } | string {
  const bare = target.startsWith("dns:///") ? target.slice("dns:///".length) : target;
  if (/^[a-z][a-z0-9+.-]*:(?!\d+$)/i.test(bare) && !bare.startsWith("["))
    return "only host:port, [IPv6]:port or dns:///host:port name one host (for a Unix socket use grpc.uds)";
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(bare);
  if (!match) return "expected host:port";
  const [, host = "", port = ""] = match;
  if (Number(port) < 1 || Number(port) > 65535) return `port ${port} is outside 1-65535`;
  // Brackets hold an IPv6 address and nothing else (RFC 3986's host syntax, which gRPC follows).
  if (host.startsWith("[")) {
    const inner = host.slice(1, -1);
    if (isIP(inner) !== 6) return `[${inner}] is not an IPv6 address: brackets hold one`;
    return { host: inner, port };
  }
  return { host, port };
}

const TREE_DIRS = { ca_path: "ca", gateway_path: "gateway", plugins_path: "plugins" } as const;

function parseStackCertificates(
  node: Node,
  at: (n: Node | null | undefined) => string,
  shape: (n: Node | null | undefined, message: string) => MtlsError,
): StackCertificates {
  if (!isMap(node))
    throw shape(node, "`certificates` must be a mapping (validity_days, ca_path, gateway_path, plugins_path)");
  const daysNode = node.get("validity_days", true);
  let days: number | undefined;
  if (daysNode !== undefined && daysNode !== null) {
    if (!isScalar(daysNode) || (typeof daysNode.value !== "number" && typeof daysNode.value !== "string"))
      throw shape(daysNode as Node, "certificates.validity_days must be a number of days");
    days = parseDays(String(daysNode.value), `${at(daysNode as Node)}: certificates.validity_days`);
  }
  // mtls-certs keeps the tree together: each path must be <root>/ca, <root>/gateway, <root>/plugins.
  let out: string | undefined;
  let outFrom = "";
  for (const [key, dir] of Object.entries(TREE_DIRS)) {
    const pathNode = node.get(key, true);
    if (pathNode === undefined || pathNode === null) continue;
    if (!isScalar(pathNode) || typeof pathNode.value !== "string" || pathNode.value === "")
      throw shape(pathNode as Node, `certificates.${key} must be a path`);
    const path = pathNode.value.replace(/\/+$/, "");
    // The deploy config is data, often from a repository: it may not point the CA outside the
    // project (cforge reads these paths relative to the current directory, so that is the project).
    if (hasControlCharacter(path))
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} has a control character or newline, which no path of the tree may hold`,
      );
    if (!isInside(process.cwd(), resolve(path)))
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} leaves the project folder ${process.cwd()}`,
      );
    if (basename(path) !== dir)
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} must end in /${dir}: mtls-certs writes <root>/ca, <root>/gateway and <root>/plugins`,
      );
    const root = dirname(path);
    if (out !== undefined && resolve(out) !== resolve(root))
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} is not under ${out}, the root ${outFrom} names; mtls-certs keeps ca, gateway and plugins in one tree`,
      );
    out ??= root;
    outFrom ||= `certificates.${key}`;
  }
  const useCertManager = node.get("use_cert_manager") === true;
  return { days, out, useCertManager };
}

function parseStackDeployment(
  node: Node | undefined,
  at: (n: Node | null | undefined) => string,
  shape: (n: Node | null | undefined, message: string) => MtlsError,
): StackDeployment {
  if (node === undefined || node === null) return { type: undefined, namespace: DEFAULT_GATEWAY_NAMESPACE };
  if (!isMap(node)) throw shape(node, "`deployment` must be a mapping (type, namespace)");
  const text = (key: string): string | undefined => {
    const value = node.get(key, true);
    if (value === undefined || value === null) return undefined;
    if (!isScalar(value) || typeof value.value !== "string")
      throw shape(value as Node, `deployment.${key} must be a string`);
    return value.value;
  };
  const namespace = text("namespace");
  return {
    type: text("type"),
    namespace:
      namespace === undefined
        ? DEFAULT_GATEWAY_NAMESPACE
        : checkDnsName(namespace, `${at(node)}: deployment.namespace`),
  };
}

/**
 * The gateway's deploy tooling (cforge) mounts `certs/mcp` whatever `certificates.*_path` say
 * (checked against its builder, 2026-12): a stack that puts the tree elsewhere gets certs the
 * tooling never reads, and it then emits no cert Secrets. The warning says so; undefined when the
 * stack keeps `certs/mcp` (or names no path).
 */
export function stackTreeWarning(config: PluginConfig): string | undefined {
  const out = config.stack?.out;
  if (out === undefined || resolve(out) === resolve(DEFAULT_OUT)) return undefined;
  return `${config.file}: certificates.*_path put the tree in ${out}, but the gateway's deploy tooling (cforge) reads and mounts ${DEFAULT_OUT} whatever those paths say; keep ca_path/gateway_path/plugins_path under ./${DEFAULT_OUT} for cforge`;
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** True for an `http://` URL: the gateway reaches that plugin without TLS. */
export function isPlainHttp(url: string): boolean {
  return /^http:/i.test(url);
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
  return sanForHost(host.startsWith("[") ? host.slice(1, -1) : host, where);
}

/**
 * The SAN for a host the gateway dials (mcp.url's, grpc.target's): every such host goes through
 * here, so one rule decides which names a plugin cert may carry.
 */
export function sanForHost(host: string, where: string): San {
  return isIP(host) ? ip(host) : dns(checkDnsName(host, where));
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
