/**
 * `export env` and `export plugin-tls`: the settings the gateway and a plugin server read, with
 * the tree's paths. The variable names are the gateway's own (seed 004: PLUGINS_SERVER_SSL_* for
 * a plugin server, PLUGINS_CLIENT_MTLS_* for the gateway) and seed 000's CA_CERT_PATH.
 */
import { stringify } from "yaml";
import { MtlsError } from "../errors.js";
import { checkConfigText, composeValue, dotenvValue, renderTemplate, shellWord } from "./render.js";
import { exportTree, pathShower, requireLeaf, type ExportOptions, type ExportResult } from "./sources.js";

export const ENV_FORMATS = ["dotenv", "shell", "compose", "json"] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

export interface EnvExportOptions extends ExportOptions {
  /** A plugin server's variables (PLUGINS_SERVER_SSL_*). */
  plugin?: string;
  /** The gateway's client variables (PLUGINS_CLIENT_MTLS_*). */
  gateway?: boolean;
  /** Default dotenv. */
  format?: EnvFormat;
  /** The plugin config whose `mcp.url` for `plugin` gives the port to listen on. */
  config?: string;
}

/**
 * Where a plugin server listens, from the URL the gateway dials: its port (the scheme's default
 * when absent); the same loopback host, else every address (a Service or container name is what
 * the gateway dials, not an address the plugin can bind).
 */
export function listenFromUrl(url: string): { host: string; port: string } {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host === "::1" || host.startsWith("127.");
  return { host: loopback ? host : "0.0.0.0", port: parsed.port || (parsed.protocol === "https:" ? "443" : "80") };
}

export function parseEnvFormat(value: string, option = "--format"): EnvFormat {
  if ((ENV_FORMATS as readonly string[]).includes(value)) return value as EnvFormat;
  throw new MtlsError(
    "E_USAGE",
    `${option}: unknown format ${JSON.stringify(value)}`,
    `use one of: ${ENV_FORMATS.join(", ")}`,
  );
}

interface Variables {
  readonly values: Array<[string, string]>;
  /** Variables the user must set (an encrypted key's password): shown as comments, never filled. */
  readonly toSet: Array<[string, string]>;
}

async function collectVariables(o: EnvExportOptions): Promise<Variables> {
  if (o.plugin === undefined && !o.gateway)
    throw new MtlsError(
      "E_USAGE",
      "export env: give --plugin NAME (a plugin server's variables), --gateway (the gateway's), or both",
    );
  const tree = exportTree(o);
  const show = pathShower(tree, o.prefix);
  const values: Array<[string, string]> = [];
  const toSet: Array<[string, string]> = [];
  let caFile: string | undefined;
  if (o.plugin !== undefined) {
    const plugin = await requireLeaf(tree, "plugin", o.plugin, "--plugin");
    // Without PLUGINS_TRANSPORT=http the runtime picks stdio whenever stdin is not a terminal.
    values.push(["PLUGINS_TRANSPORT", "http"]);
    const url = o.config === undefined ? undefined : await pluginUrl(o.config, o.plugin);
    if (url !== undefined) {
      const listen = listenFromUrl(url);
      values.push(["PLUGINS_SERVER_HOST", listen.host], ["PLUGINS_SERVER_PORT", listen.port]);
    }
    values.push(
      ["PLUGINS_SERVER_SSL_ENABLED", "true"],
      ["PLUGINS_SERVER_SSL_CERTFILE", show(plugin.files.cert)],
      ["PLUGINS_SERVER_SSL_KEYFILE", show(plugin.files.key)],
      ["PLUGINS_SERVER_SSL_CA_CERTS", show(plugin.caFile)],
      // 2 = ssl.CERT_REQUIRED: the plugin refuses a gateway without a client cert.
      ["PLUGINS_SERVER_SSL_CERT_REQS", "2"],
    );
    if (plugin.keyEncrypted)
      toSet.push([
        "PLUGINS_SERVER_SSL_KEYFILE_PASSWORD",
        `${plugin.files.key} is encrypted: set this to its passphrase`,
      ]);
    caFile = plugin.caFile;
  }
  if (o.gateway) {
    const gateway = await requireLeaf(tree, "gateway", "gateway", "--gateway");
    values.push(
      ["PLUGINS_CLIENT_MTLS_CERTFILE", show(gateway.files.cert)],
      ["PLUGINS_CLIENT_MTLS_KEYFILE", show(gateway.files.key)],
      ["PLUGINS_CLIENT_MTLS_CA_BUNDLE", show(gateway.caFile)],
      ["PLUGINS_CLIENT_MTLS_VERIFY", "true"],
      // Plugin certs carry their name, localhost and the host of mcp.url: the check can stay on.
      ["PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME", "true"],
    );
    if (gateway.keyEncrypted)
      toSet.push([
        "PLUGINS_CLIENT_MTLS_KEYFILE_PASSWORD",
        `${gateway.files.key} is encrypted: set this to its passphrase`,
      ]);
    caFile ??= gateway.caFile;
  }
  // Seed 000: a gateway that checks client certs reads its CA file from CA_CERT_PATH.
  if (caFile !== undefined) values.push(["CA_CERT_PATH", show(caFile)]);
  return { values, toSet };
}

async function pluginUrl(config: string, name: string): Promise<string | undefined> {
  const { loadPluginConfig } = await import("../config.js");
  return (await loadPluginConfig(config)).plugins.find((p) => p.name === name)?.url;
}

export async function exportEnv(o: EnvExportOptions): Promise<ExportResult> {
  const format = o.format ?? "dotenv";
  const { values, toSet } = await collectVariables(o);
  const notes = toSet.map(([name, why]) => `${name}: ${why}`);
  return { text: formatVariables(values, toSet, format), notes, written: [], secret: false };
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
      return values.map(([name, value]) => `${name}=${dotenvValue(value, name)}\n`).join("") + comments;
    case "shell":
      return values.map(([name, value]) => `export ${name}=${shellWord(value, name)}\n`).join("") + comments;
    case "compose":
      return (
        stringify({
          environment: Object.fromEntries(values.map(([name, value]) => [name, composeValue(value, name)])),
        }) + comments
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

/** `export plugin-tls`: the gateway's `mcp.tls` block and the plugin server's `server_settings.tls`. */
export async function exportPluginTls(o: ExportOptions & { plugin: string }): Promise<ExportResult> {
  const tree = exportTree(o);
  const show = pathShower(tree, o.prefix);
  const plugin = await requireLeaf(tree, "plugin", o.plugin, "--plugin");
  const gateway = await requireLeaf(tree, "gateway", "gateway", "gateway");
  // JSON strings are YAML double-quoted scalars: any path is written exactly.
  const path = (p: string) => JSON.stringify(show(p));
  const text = renderTemplate("plugin-tls.yaml", {
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
  });
  const notes = [gateway, plugin]
    .filter((l) => l.keyEncrypted)
    .map((l) => `${l.files.key} is encrypted: the block says where its passphrase goes`);
  return { text, notes, written: [], secret: false };
}
