/**
 * How the gateway reaches an external plugin: cpex allows exactly one of `mcp:`, `grpc:`,
 * `unix_socket:` per entry, and which one decides whether the plugin needs a certificate (a Unix
 * socket carries no TLS) and which host its certificate must name (gRPC checks `grpc.target`'s).
 */
import { isIP } from "node:net";
import { isMap, isScalar, type Node, type YAMLMap } from "yaml";
import type { PluginTransport } from "./config-data.js";
import type { ShapeError } from "./yaml-position.js";

export const MCP_TRANSPORT: PluginTransport = { kind: "mcp" };

/** Which of `mcp:`, `grpc:`, `unix_socket:` the entry uses; cpex refuses an entry with two. */
export function parseTransport(item: YAMLMap, field: string, shape: ShapeError): PluginTransport {
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
  if (present[0] !== "grpc") return MCP_TRANSPORT;
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
function parseGrpcTarget(target: string): { host: string; port: string } | string {
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
