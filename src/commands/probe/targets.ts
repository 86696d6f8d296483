/**
 * Which links to dial, from the plugin config: each external plugin's address as the gateway
 * reaches it (its `mcp.url`), the name it checks against the server's cert, and what to send so
 * that the server answers. `--connect HOST:PORT` dials elsewhere under the same name.
 */
import { isIP } from "node:net";
import type { PluginEntry, StackDeployment } from "../../config/config-data.js";
import { MtlsError } from "../../errors.js";
import { parseWholeNumber } from "../../pki/names.js";
import { pluginServiceName } from "../../pki/profiles.js";

export type ProbeTarget =
  | {
      readonly kind: "dial";
      readonly name: string;
      readonly transport: "mcp" | "grpc";
      /** As the config gives it: the URL or the gRPC target. */
      readonly target: string;
      /** The name the server's cert must carry (the URL's host). */
      readonly serverName: string;
      readonly host: string;
      readonly port: number;
      readonly alpn: readonly string[];
      readonly request: Buffer;
    }
  | {
      /** Nothing to dial: no address, no TLS on a Unix socket, or no TLS at all (`http://`). */
      readonly kind: "no-dial";
      readonly name: string;
      readonly transport: "mcp" | "grpc";
      readonly target: string | null;
      readonly reason: "skipped-no-url" | "skipped-unix-socket" | "plain-http-url";
      readonly message: string;
      readonly fix: string | null;
    };

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT` or `[v6]:PORT`. */
export function parseAddress(text: string, where: string): Address {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined)
    throw new MtlsError(
      "E_USAGE",
      `${where}: ${JSON.stringify(text)} is not HOST:PORT`,
      "e.g. --connect 127.0.0.1:8443",
    );
  return { host, port: parseWholeNumber(m[3]!, `${where} port`, 1, 65535) };
}

/**
 * The URL the gateway's deploy tooling gives a plugin of mcp-stack.yaml (it has a port, no URL):
 * Compose `https://<name lowercased>:<port>/mcp`, Kubernetes
 * `https://mcp-plugin-<name lowercased>.<namespace>.svc:<port>/mcp`.
 */
export function stackUrl(plugin: PluginEntry, deployment: StackDeployment | undefined): string | undefined {
  if (plugin.url !== undefined || plugin.port === undefined || deployment === undefined) return plugin.url;
  const host =
    deployment.type === "kubernetes"
      ? `${pluginServiceName(plugin.name)}.${deployment.namespace}.svc`
      : plugin.name.toLowerCase();
  return `https://${host}:${plugin.port}/mcp`;
}

export function targetOf(plugin: PluginEntry, connect: Address | undefined): ProbeTarget {
  const link = plugin.transport;
  if (link.kind === "socket")
    return {
      name: plugin.name,
      transport: "grpc",
      kind: "no-dial",
      target: `uds:${link.path}`,
      reason: "skipped-unix-socket",
      message: `${plugin.where}: ${link.field} ${link.path}: the gateway reaches it over a Unix socket, which carries no TLS; nothing to probe`,
      fix: null,
    };
  if (link.kind === "grpc") {
    const address = connect ?? { host: link.host, port: Number(link.port) };
    return {
      name: plugin.name,
      kind: "dial",
      transport: "grpc",
      target: link.target,
      // gRPC checks the target's host against the server's cert, always.
      serverName: link.host,
      ...address,
      alpn: ["h2"],
      request: HTTP2_PREFACE,
    };
  }
  const base = { name: plugin.name, transport: "mcp" as const };
  if (plugin.url === undefined) {
    if (connect === undefined)
      return {
        ...base,
        kind: "no-dial",
        target: null,
        reason: "skipped-no-url",
        message: `${plugin.where}: no mcp.url, so nothing says where the gateway reaches it; pass --connect HOST:PORT with its name`,
        fix: null,
      };
    // Without a URL, the name Compose's tooling dials: the plugin's name, lowercased.
    return dialTarget(base, `(--connect) ${plugin.name.toLowerCase()}`, plugin.name.toLowerCase(), connect, "/");
  }
  const url = new URL(plugin.url);
  if (url.protocol === "http:")
    return {
      ...base,
      kind: "no-dial",
      target: plugin.url,
      reason: "plain-http-url",
      message: `${plugin.where}: mcp.url ${plugin.url} is plain http: the gateway sends this plugin's traffic unencrypted, with no certificate on either side`,
      fix: "serve the plugin over https and give the gateway an https:// mcp.url",
    };
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const address = connect ?? { host, port: url.port === "" ? 443 : Number(url.port) };
  return dialTarget(base, plugin.url, host, address, `${url.pathname}${url.search}`);
}

function dialTarget(
  base: { name: string; transport: "mcp" },
  target: string,
  serverName: string,
  address: Address,
  path: string,
): ProbeTarget {
  // What the gateway's HTTP client sends, minimal: any answer (even a 404) proves the session works.
  const hostHeader = isIP(serverName) === 6 ? `[${serverName}]` : serverName;
  const request = Buffer.from(
    `GET ${path || "/"} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: mtls-certs-probe\r\nConnection: close\r\n\r\n`,
    "latin1",
  );
  return { ...base, kind: "dial", target, serverName, ...address, alpn: ["http/1.1"], request };
}

/** HTTP/2's client preface and an empty SETTINGS frame (RFC 9113 section 3.4): a gRPC server answers with its SETTINGS. */
const HTTP2_PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
