/**
 * The variables each end of each TLS link reads, with the tree's paths: a plugin server (MCP over
 * HTTP: PLUGINS_SERVER_SSL_*; gRPC: PLUGINS_GRPC_SERVER_SSL_*), the gateway dialling plugins
 * (PLUGINS_CLIENT_MTLS_*, PLUGINS_GRPC_CLIENT_MTLS_*) and the gateway dialling Redis (REDIS_SSL_*).
 * The names are the ones cpex 0.1.x and the gateway's settings read (docs/gateway-tooling.md).
 * Pure: leaves in, name/value pairs out.
 */
import type { PluginTransport } from "../config/config-data.js";
import type { LeafSource } from "./sources.js";

export interface Variables {
  readonly values: Array<[string, string]>;
  /** Variables the user must set (an encrypted key's password): shown as comments, never filled. */
  readonly toSet: Array<[string, string]>;
}

type Show = (path: string) => string;

/**
 * Where a server listens, from the host and port its client dials: the same loopback host, else
 * every address (a Service or container name is what the client dials, not an address to bind).
 */
export function listenAddress(host: string, port: string): { host: string; port: string } {
  const bare = host.replace(/^\[|\]$/g, "");
  const loopback = bare === "localhost" || bare === "::1" || bare.startsWith("127.");
  return { host: loopback ? bare : "0.0.0.0", port };
}

/** A plugin server's variables for the transport its config entry names (MCP over HTTP without one). */
export function pluginServerVariables(
  plugin: LeafSource,
  transport: PluginTransport,
  url: string | undefined,
  show: Show,
  into: Variables,
): void {
  const passwordNote = `${plugin.files.key} is encrypted: set this to its passphrase`;
  if (transport.kind === "grpc") {
    const listen = listenAddress(transport.host, transport.port);
    into.values.push(
      ["PLUGINS_TRANSPORT", "grpc"],
      ["PLUGINS_GRPC_SERVER_HOST", listen.host],
      ["PLUGINS_GRPC_SERVER_PORT", listen.port],
      // Without ENABLED the runtime ignores every other PLUGINS_GRPC_SERVER_SSL_* variable.
      ["PLUGINS_GRPC_SERVER_SSL_ENABLED", "true"],
      ["PLUGINS_GRPC_SERVER_SSL_CERTFILE", show(plugin.files.cert)],
      ["PLUGINS_GRPC_SERVER_SSL_KEYFILE", show(plugin.files.key)],
      ["PLUGINS_GRPC_SERVER_SSL_CA_CERTS", show(plugin.caFile)],
      ["PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH", "require"],
    );
    if (plugin.keyEncrypted) into.toSet.push(["PLUGINS_GRPC_SERVER_SSL_KEYFILE_PASSWORD", passwordNote]);
    return;
  }
  // Without PLUGINS_TRANSPORT=http the runtime picks stdio whenever stdin is not a terminal.
  into.values.push(["PLUGINS_TRANSPORT", "http"]);
  if (url !== undefined) {
    const parsed = new URL(url);
    const listen = listenAddress(parsed.hostname, parsed.port || (parsed.protocol === "https:" ? "443" : "80"));
    into.values.push(["PLUGINS_SERVER_HOST", listen.host], ["PLUGINS_SERVER_PORT", listen.port]);
  }
  into.values.push(
    ["PLUGINS_SERVER_SSL_ENABLED", "true"],
    ["PLUGINS_SERVER_SSL_CERTFILE", show(plugin.files.cert)],
    ["PLUGINS_SERVER_SSL_KEYFILE", show(plugin.files.key)],
    ["PLUGINS_SERVER_SSL_CA_CERTS", show(plugin.caFile)],
    // 2 = ssl.CERT_REQUIRED: the plugin refuses a gateway without a client cert.
    ["PLUGINS_SERVER_SSL_CERT_REQS", "2"],
  );
  if (plugin.keyEncrypted) into.toSet.push(["PLUGINS_SERVER_SSL_KEYFILE_PASSWORD", passwordNote]);
}

/** The gateway's client variables for the plugin transports it dials. */
export function gatewayClientVariables(
  gateway: LeafSource,
  transports: { mcp: boolean; grpc: boolean },
  show: Show,
  into: Variables,
): void {
  const passwordNote = `${gateway.files.key} is encrypted: set this to its passphrase`;
  if (transports.mcp) {
    into.values.push(
      ["PLUGINS_CLIENT_MTLS_CERTFILE", show(gateway.files.cert)],
      ["PLUGINS_CLIENT_MTLS_KEYFILE", show(gateway.files.key)],
      ["PLUGINS_CLIENT_MTLS_CA_BUNDLE", show(gateway.caFile)],
      ["PLUGINS_CLIENT_MTLS_VERIFY", "true"],
      // Plugin certs carry their name, localhost and the host of mcp.url: the check can stay on.
      ["PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME", "true"],
    );
    if (gateway.keyEncrypted) into.toSet.push(["PLUGINS_CLIENT_MTLS_KEYFILE_PASSWORD", passwordNote]);
  }
  if (transports.grpc) {
    // No CHECK_HOSTNAME here: gRPC always checks the target's host against the plugin's cert.
    into.values.push(
      ["PLUGINS_GRPC_CLIENT_MTLS_CERTFILE", show(gateway.files.cert)],
      ["PLUGINS_GRPC_CLIENT_MTLS_KEYFILE", show(gateway.files.key)],
      ["PLUGINS_GRPC_CLIENT_MTLS_CA_BUNDLE", show(gateway.caFile)],
      ["PLUGINS_GRPC_CLIENT_MTLS_VERIFY", "true"],
    );
    if (gateway.keyEncrypted) into.toSet.push(["PLUGINS_GRPC_CLIENT_MTLS_KEYFILE_PASSWORD", passwordNote]);
  }
}

/**
 * The gateway's Redis client (mcpgateway/utils/redis_client.py): REDIS_SSL turns TLS on, the three
 * files go to redis-py as ssl_ca_certs/ssl_certfile/ssl_keyfile. REDIS_SSL_CHECK_HOSTNAME=false
 * would turn off verifying the server altogether (ssl_cert_reqs none), not only its name: the
 * server's cert names its host, so it stays true.
 */
export function redisVariables(server: LeafSource, client: LeafSource, show: Show, into: Variables): void {
  into.values.push(
    ["REDIS_SSL", "true"],
    ["REDIS_SSL_CA_CERTS", show(server.caFile)],
    ["REDIS_SSL_CERTFILE", show(client.files.cert)],
    ["REDIS_SSL_KEYFILE", show(client.files.key)],
    ["REDIS_SSL_CHECK_HOSTNAME", "true"],
  );
  into.toSet.push([
    "REDIS_URL",
    `rediss://${server.files.name}:6379/0 (rediss://, a host the Redis cert names, your port and database)`,
  ]);
}
