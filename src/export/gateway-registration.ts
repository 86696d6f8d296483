/**
 * `export gateway-registration`: the body of the gateway's `POST /gateways` for an upstream MCP
 * server behind mutual TLS. The gateway (mcp-context-forge v1.0.8, utils/ssl_context_cache.py)
 * builds `ssl.create_default_context()`, trusts `ca_certificate` as PEM text (cadata: inline
 * only), and loads `client_cert`/`client_key` with `load_cert_chain`, each a file path or inline
 * PEM (written to a temp file first), with no key password. Its default context checks the
 * server's name against the URL's host, so the server cert must carry it.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { MtlsError } from "../errors.js";
import { hasControlCharacter } from "../control-characters.js";
import { canonicalIp } from "../pki/node-facts.js";
import {
  exportTree,
  outFlag,
  pathShower,
  requireLeaf,
  servedChainPem,
  urlOf,
  type ExportOptions,
  type ExportResult,
} from "./sources.js";

export const REGISTRATION_TRANSPORTS = ["STREAMABLEHTTP", "SSE"] as const;

export interface GatewayRegistrationOptions extends ExportOptions {
  /** The upstream MCP server's cert (certs/mcp/servers/<name>/). */
  server: string;
  /** The client cert the gateway presents to it (certs/mcp/clients/<name>/). */
  client: string;
  /** Where the gateway reaches the server: an https:// URL whose host the server cert names. */
  url: string;
  /** The registration's `name`. Default: the server's name. */
  name?: string;
  /** Default STREAMABLEHTTP (the gateway's own default is SSE). */
  transport?: string;
  /** Put the client's key into the body as PEM instead of its path. */
  includeKey?: boolean;
}

export async function exportGatewayRegistration(o: GatewayRegistrationOptions): Promise<ExportResult> {
  const url = registrationUrl(o.url);
  const transport = (o.transport ?? "STREAMABLEHTTP").toUpperCase();
  if (!(REGISTRATION_TRANSPORTS as readonly string[]).includes(transport))
    throw new MtlsError(
      "E_USAGE",
      `--transport: ${JSON.stringify(o.transport)} is not a transport the gateway registers`,
      `use one of: ${REGISTRATION_TRANSPORTS.join(", ")}`,
    );
  const name = o.name ?? o.server;
  if (name === "" || hasControlCharacter(name))
    throw new MtlsError("E_USAGE", `--name: ${JSON.stringify(name)} is empty or holds a control character`);
  const tree = exportTree(o);
  const show = pathShower(tree, o.prefix);
  const server = await requireLeaf(tree, "server", o.server, "--server");
  const client = await requireLeaf(tree, "client", o.client, "--client");
  assertCertNamesHost(server.certPem, server.files.cert, url, outFlag(tree));
  // The gateway's load_cert_chain gets no password: an encrypted key cannot be opened there.
  if (client.keyEncrypted)
    throw new MtlsError(
      "E_PASSPHRASE",
      `${client.files.key}: the key is encrypted, and the gateway loads client_key with no password`,
      `decrypt it (\`mtls-certs key decrypt ${client.files.key} -o FILE\`) and register that file, or use a client whose key is in the clear`,
    );
  const body = {
    name,
    url: url.href,
    transport,
    // cadata: the gateway only takes this one as PEM text, never as a path.
    ca_certificate: server.caPem,
    // With an intermediate CA, the server (trusting the root) needs it after the leaf.
    client_cert: servedChainPem(client),
    client_key: o.includeKey ? client.keyPem : show(client.files.key),
  };
  const notes = o.includeKey
    ? []
    : [
        `client_key is the path ${show(client.files.key)}: the gateway reads it there, so the file must exist on the gateway's host`,
      ];
  return { text: `${JSON.stringify(body, null, 2)}\n`, notes, written: [], secret: o.includeKey === true };
}

function registrationUrl(value: string): URL {
  const url = urlOf(value, "--url", "e.g. https://mcp.internal:8443/mcp");
  if (url.protocol !== "https:")
    throw new MtlsError(
      "E_BAD_URL",
      `--url: ${JSON.stringify(value)} is not an https:// URL: the gateway would use no TLS and no client cert`,
      "e.g. https://mcp.internal:8443/mcp",
    );
  if (url.username || url.password)
    throw new MtlsError(
      "E_BAD_URL",
      `--url: ${JSON.stringify(value)} holds credentials`,
      "give auth in the gateway's auth fields",
    );
  return url;
}

/** The gateway's default context checks the host (Python's rules): the cert must name it. */
function assertCertNamesHost(certPem: string, file: string, url: URL, tree: string): void {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const cert = new X509Certificate(certPem);
  const named = isIP(host)
    ? cert.checkIP(canonicalIp(host)) !== undefined
    : cert.checkHost(host, { subject: "never" }) !== undefined;
  if (!named)
    throw new MtlsError(
      "E_BAD_URL",
      `--url: ${file} names no ${host} (SANs: ${cert.subjectAltName ?? "none"}): the gateway would refuse the server's cert`,
      `use a URL with a host the cert names, or make a cert that names it: \`mtls-certs server ${isIP(host) ? `NAME --ip ${host}` : host}${tree}\``,
    );
}
