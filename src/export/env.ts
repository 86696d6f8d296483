/**
 * `export env` and `export plugin-tls`: the settings the gateway and a plugin server read, with
 * the tree's paths, for the transport the plugin config names (env-variables.ts has the names),
 * and CA_CERT_PATH (seed 000: Sushi Gateway's, which the MCP gateway ignores; the output says so).
 */
import { loadPluginConfig } from "../config/plugin-config.js";
import { yamlText } from "./yaml.js";
import { MtlsError } from "../errors.js";
import { checkConfigText, composeValue, dotenvValue, renderTemplate, shellWord } from "./render.js";
import { exportTree, pathShower, requireLeaf, type ExportOptions, type ExportResult } from "./sources.js";
import {
  gatewayClientVariables,
  listenAddress,
  pluginServerVariables,
  redisVariables,
  type Variables,
} from "./env-variables.js";

export const ENV_FORMATS = ["dotenv", "shell", "compose", "json"] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

export interface EnvExportOptions extends ExportOptions {
  /** A plugin server's variables: PLUGINS_SERVER_SSL_*, or PLUGINS_GRPC_SERVER_SSL_* for a `grpc:` entry. */
  plugin?: string;
  /** The gateway's client variables: PLUGINS_CLIENT_MTLS_*, and PLUGINS_GRPC_CLIENT_MTLS_* when the config has gRPC plugins. */
  gateway?: boolean;
  /** The gateway's Redis client variables (REDIS_SSL_*): the Redis server's cert (certs/mcp/servers/<name>/). */
  redis?: string;
  /** With `redis`: the client cert the gateway presents to Redis (certs/mcp/clients/<name>/). Default the gateway's. */
  client?: string;
  /** Default dotenv. */
  format?: EnvFormat;
  /** The plugin config: each plugin's transport, and the address (mcp.url, grpc.target) it listens on. */
  config?: string;
}

export function parseEnvFormat(value: string, option = "--format"): EnvFormat {
  if ((ENV_FORMATS as readonly string[]).includes(value)) return value as EnvFormat;
  throw new MtlsError(
    "E_USAGE",
    `${option}: unknown format ${JSON.stringify(value)}`,
    `use one of: ${ENV_FORMATS.join(", ")}`,
  );
}

async function collectVariables(o: EnvExportOptions): Promise<Variables> {
  if (o.plugin === undefined && !o.gateway && o.redis === undefined)
    throw new MtlsError(
      "E_USAGE",
      "export env: give --plugin NAME (a plugin server's variables), --gateway (the gateway's), --redis NAME (the gateway's Redis client), or several",
    );
  if (o.client !== undefined && o.redis === undefined)
    throw new MtlsError(
      "E_USAGE",
      "export env: --client names the cert the gateway presents to Redis: give --redis NAME too",
    );
  const tree = exportTree(o);
  const show = pathShower(tree, o.prefix);
  const into: Variables = { values: [], toSet: [] };
  const config = o.config === undefined ? undefined : await loadPluginConfig(o.config);
  let caFile: string | undefined;
  if (o.plugin !== undefined) {
    const plugin = await requireLeaf(tree, "plugin", o.plugin, "--plugin");
    const entry = config?.plugins.find((p) => p.name === o.plugin);
    const transport = entry?.transport ?? { kind: "mcp" };
    if (transport.kind === "socket")
      throw new MtlsError(
        "E_USAGE",
        `export env --plugin ${o.plugin}: ${config?.file} reaches it over the Unix socket ${transport.field} ${JSON.stringify(transport.path)}, which has no TLS: there are no TLS variables to set`,
        "give the plugin a grpc.target or mcp.url in the config to reach it over TLS",
      );
    pluginServerVariables(plugin, transport, entry?.url, show, into);
    caFile = plugin.caFile;
  }
  if (o.gateway) {
    const gateway = await requireLeaf(tree, "gateway", "gateway", "--gateway");
    // The gRPC variables when the config has a gRPC plugin; the MCP ones unless it has only those.
    const kinds = new Set(config?.plugins.map((p) => p.transport.kind));
    const grpc = kinds.has("grpc");
    gatewayClientVariables(gateway, { mcp: !grpc || kinds.has("mcp"), grpc }, show, into);
    caFile ??= gateway.caFile;
  }
  if (o.redis !== undefined) {
    const server = await requireLeaf(tree, "server", o.redis, "--redis");
    const client =
      o.client === undefined
        ? await requireLeaf(tree, "gateway", "gateway", "--redis")
        : await requireLeaf(tree, "client", o.client, "--client");
    // redis-py gets ssl_keyfile with no password from the gateway: an encrypted key cannot load.
    if (client.keyEncrypted)
      throw new MtlsError(
        "E_PASSPHRASE",
        `${client.files.key}: the key is encrypted, and the gateway gives Redis's client key no password (there is no REDIS_SSL_KEYFILE_PASSWORD)`,
        `decrypt a copy (\`mtls-certs key decrypt ${client.files.key} -o FILE\`) and point REDIS_SSL_KEYFILE at it`,
      );
    redisVariables(server, client, show, into);
    caFile ??= server.caFile;
  }
  // Seed 000: Sushi Gateway's mTLS plugin reads its CA file from CA_CERT_PATH (COMMENT_ABOVE says so in the output).
  if (caFile !== undefined) into.values.push(["CA_CERT_PATH", show(caFile)]);
  return into;
}

export async function exportEnv(o: EnvExportOptions): Promise<ExportResult> {
  const format = o.format ?? "dotenv";
  const { values, toSet } = await collectVariables(o);
  const notes = toSet.map(([name, why]) => `${name}: ${why}`);
  return { text: formatVariables(values, toSet, format), notes, written: [], secret: false };
}

/**
 * Comment lines written right above a variable, in every format that has comments (JSON has none):
 * CA_CERT_PATH is the one variable here that the MCP gateway does not read, and a user seeing it
 * among PLUGINS_* would otherwise look for what it does in the gateway.
 */
const COMMENT_ABOVE: Readonly<Record<string, string>> = {
  CA_CERT_PATH: "CA_CERT_PATH is for Sushi Gateway's mTLS plugin; the MCP gateway ignores it",
};

/** `# text` lines above a variable in dotenv and shell text. */
function commentLine(name: string): string {
  return Object.hasOwn(COMMENT_ABOVE, name) ? `# ${COMMENT_ABOVE[name]}\n` : "";
}

/**
 * Pure: variables in, the text of one format out. Passwords are never filled in, only named. Each
 * value is written as its format reads it, or refused naming the variable (render.ts).
 */
export function formatVariables(
  values: ReadonlyArray<[string, string]>,
  toSet: ReadonlyArray<[string, string]>,
  format: EnvFormat,
): string {
  const comments = toSet.map(([name, why]) => `# ${name}=   (${checkConfigText(why, name)})\n`).join("");
  switch (format) {
    case "dotenv":
      return (
        values.map(([name, value]) => `${commentLine(name)}${name}=${dotenvValue(value, name)}\n`).join("") + comments
      );
    case "shell":
      return (
        values.map(([name, value]) => `${commentLine(name)}export ${name}=${shellWord(value, name)}\n`).join("") +
        comments
      );
    case "compose":
      return (
        yamlText(
          {
            environment: Object.fromEntries(values.map(([name, value]) => [name, composeValue(value, name)])),
          },
          COMMENT_ABOVE,
        ) + comments
      );
    case "json":
      return (
        JSON.stringify(
          Object.fromEntries(values.map(([name, value]) => [name, checkConfigText(value, name)])),
          null,
          2,
        ) + "\n"
      );
  }
}

/**
 * `export plugin-tls`: for an MCP plugin the gateway's `mcp.tls` block and the plugin server's
 * `server_settings.tls`; for a gRPC plugin (its config entry has `grpc.target`) `grpc.tls` and
 * `grpc_server_settings`.
 */
export async function exportPluginTls(o: ExportOptions & { plugin: string; config?: string }): Promise<ExportResult> {
  const tree = exportTree(o);
  const show = pathShower(tree, o.prefix);
  const plugin = await requireLeaf(tree, "plugin", o.plugin, "--plugin");
  const gateway = await requireLeaf(tree, "gateway", "gateway", "gateway");
  const config = o.config === undefined ? undefined : await loadPluginConfig(o.config);
  const transport = config?.plugins.find((p) => p.name === o.plugin)?.transport ?? { kind: "mcp" };
  if (transport.kind === "socket")
    throw new MtlsError(
      "E_USAGE",
      `export plugin-tls --plugin ${o.plugin}: ${config?.file} reaches it over the Unix socket ${transport.field} ${JSON.stringify(transport.path)}, which has no TLS`,
      "give the plugin a grpc.target or mcp.url in the config to reach it over TLS",
    );
  // JSON strings are YAML double-quoted scalars: any path is written exactly.
  const path = (p: string) => JSON.stringify(show(p));
  const values = {
    plugin: o.plugin,
    tree: tree.root,
    gateway_cert: path(gateway.files.cert),
    gateway_key: path(gateway.files.key),
    gateway_ca: path(gateway.caFile),
    gateway_key_encrypted: gateway.keyEncrypted,
    plugin_cert: path(plugin.files.cert),
    plugin_key: path(plugin.files.key),
    plugin_ca: path(plugin.caFile),
    plugin_key_encrypted: plugin.keyEncrypted,
  };
  const text =
    transport.kind === "grpc"
      ? renderTemplate("plugin-tls-grpc.yaml", { ...values, ...grpcValues(transport) })
      : renderTemplate("plugin-tls.yaml", values);
  const notes = [gateway, plugin]
    .filter((l) => l.keyEncrypted)
    .map((l) => `${l.files.key} is encrypted: the block says where its passphrase goes`);
  return { text, notes, written: [], secret: false };
}

function grpcValues(transport: { target: string; host: string; port: string }) {
  const listen = listenAddress(transport.host, transport.port);
  return {
    target: transport.target,
    host: transport.host,
    target_yaml: JSON.stringify(transport.target),
    listen_host: JSON.stringify(listen.host),
    listen_port: listen.port,
  };
}
