/**
 * `export nginx|haproxy|caddy`: a TLS-terminating proxy in front of the gateway that requires a
 * client certificate from the tree's CA and hands the client's identity to the gateway in the
 * headers of seed 003. Rendered from templates/nginx.conf, templates/haproxy.cfg and
 * templates/Caddyfile with the tree's paths.
 */
import { join } from "node:path";
import { MtlsError } from "../errors.js";
import { splitPemBlocks } from "../pki/cert-facts.js";
import { bundleModeOfKey, haproxyBundleOf, writeLeafBundle } from "../store/leaf-bundles.js";
import { FULL_CHAIN, HAPROXY_BUNDLE, type TreePaths } from "../store/paths.js";
import { CERT_MODE } from "../store/write.js";
import { proxyConfigPath, renderTemplate } from "./render.js";
import {
  crlFile,
  exportTree,
  intermediatesOf,
  keyInTheClear,
  parseListen,
  parseUpstream,
  pathShower,
  requireLeaf,
  servedChainPem,
  type ExportOptions,
  type ExportResult,
  type LeafSource,
  type Listen,
} from "./sources.js";
import { humanDate } from "../human.js";

export interface ProxyExportOptions extends ExportOptions {
  /** The named server whose cert the proxy serves: certs/mcp/servers/<name>/ (`mtls-certs server`). */
  server: string;
  /** `PORT`, `HOST:PORT` or `[IPv6]:PORT`. Default 443. */
  listen?: string;
  /** The gateway behind the proxy. Default http://127.0.0.1:4444. */
  upstream?: string;
  /** HAProxy cannot open an encrypted key: its bundle gets the key decrypted with this passphrase. */
  keyPassphrase?: string;
  /** Replace a haproxy.pem or fullchain.crt in the server's directory that export did not write for it. */
  force?: boolean;
}

export const DEFAULT_LISTEN = "443";
export const DEFAULT_UPSTREAM = "http://127.0.0.1:4444";
/** HAProxy's cert+key file, next to the server's cert; fullchain.crt, what nginx and Caddy send (store/paths.ts). */
export { FULL_CHAIN, HAPROXY_BUNDLE };

interface ProxyInputs {
  readonly leaf: LeafSource;
  readonly listen: Listen;
  readonly upstream: ReturnType<typeof parseUpstream>;
  /** The CRL to enforce: only when it has one from every CA of the chain. */
  readonly crl: string | undefined;
  /** Why a CRL that exists is left out, for a comment in the config. */
  readonly crlGap: string | undefined;
  readonly show: (path: string) => string;
  /** Where a shown path's hostile part would come from: the tree's path, or the container's. */
  readonly pathField: "--out" | "--prefix";
  readonly tree: string;
  /** 1 + the CA certificates a client's chain may pass through (root, intermediate, rotation). */
  readonly verifyDepth: number;
  /** The intermediate CA(s) a client needs to verify the server: the CA file's non-self-signed certs. */
  readonly chain: string[];
  readonly treePaths: TreePaths;
  readonly notes: string[];
  readonly force: boolean;
}

/** Everything is checked before anything is rendered or written. */
async function proxyInputs(o: ProxyExportOptions): Promise<ProxyInputs> {
  const listen = parseListen(o.listen ?? DEFAULT_LISTEN);
  const upstream = parseUpstream(o.upstream ?? DEFAULT_UPSTREAM);
  const tree = exportTree(o);
  const show = pathShower(tree, o.prefix);
  const leaf = await requireLeaf(tree, "server", o.server, "--server");
  const crlSource = await crlFile(tree, leaf.caPem);
  const notes: string[] = [];
  const crlGap =
    crlSource && crlSource.missing.length > 0
      ? `${crlSource.file} is not enforced: it has no CRL from ${crlSource.missing.join(" or ")}, and a proxy that checks revocation needs one from every CA of the chain (else it refuses every client)`
      : undefined;
  if (crlGap) notes.push(crlGap);
  const crl = crlGap ? undefined : crlSource?.file;
  if (crl && crlSource?.nextUpdate && crlSource.nextUpdate < new Date()) {
    notes.push(
      `${crl} expired at its nextUpdate ${humanDate(crlSource.nextUpdate)}: nginx and HAProxy refuse every client until it is refreshed (\`mtls-certs crl\`, then reload)`,
    );
  }
  const chain = intermediatesOf(leaf.caPem);
  const verifyDepth = Math.max(2, splitPemBlocks(leaf.caPem).length + 1);
  return {
    leaf,
    listen,
    upstream,
    crl,
    crlGap,
    show,
    pathField: o.prefix === undefined ? "--out" : "--prefix",
    tree: tree.root,
    verifyDepth,
    chain,
    treePaths: tree,
    notes,
    force: Boolean(o.force),
  };
}

/**
 * The certificate file a server presents: server.crt alone under a root CA; with an intermediate,
 * fullchain.crt (written here, 0644), since clients that trust only the root need the intermediate.
 */
async function presentedCert(p: ProxyInputs): Promise<{ file: string; written: string[] }> {
  if (p.chain.length === 0) return { file: p.leaf.files.cert, written: [] };
  const file = join(p.leaf.files.dir, FULL_CHAIN);
  return {
    file,
    written: await writeLeafBundle(p.treePaths, p.leaf.files, file, servedChainPem(p.leaf), {
      mode: CERT_MODE,
      force: p.force,
    }),
  };
}

function listenText(l: Listen, anyHost: string): string {
  const host = l.host === undefined ? anyHost : l.host.includes(":") ? `[${l.host}]` : l.host;
  return host ? `${host}:${l.port}` : String(l.port);
}

export async function exportNginx(o: ProxyExportOptions): Promise<ExportResult> {
  const p = await proxyInputs(o);
  const token = (path: string) => proxyConfigPath(p.show(path), "nginx", p.pathField);
  // Every path is checked before fullchain.crt is written.
  const [key, ca, crl] = [token(p.leaf.files.key), token(p.leaf.caFile), p.crl && token(p.crl)];
  token(join(p.leaf.files.dir, FULL_CHAIN));
  const presented = await presentedCert(p);
  const text = renderTemplate("nginx.conf", {
    tree: p.tree,
    listen: listenText(p.listen, ""),
    server_name: o.server,
    cert: token(presented.file),
    key,
    key_encrypted: p.leaf.keyEncrypted,
    ca,
    verify_depth: String(p.verifyDepth),
    crl,
    crl_gap: p.crlGap,
    upstream: p.upstream.origin,
  });
  if (p.leaf.keyEncrypted)
    p.notes.push(`${p.leaf.files.key} is encrypted: set ssl_password_file to a file holding its passphrase`);
  return { text, notes: p.notes, written: presented.written, secret: false };
}

export async function exportHaproxy(o: ProxyExportOptions): Promise<ExportResult> {
  const p = await proxyInputs(o);
  const token = (path: string) => proxyConfigPath(p.show(path), "haproxy", p.pathField);
  const bundle = join(p.leaf.files.dir, HAPROXY_BUNDLE);
  // Every path is checked before the bundle (a key in the clear) is written.
  const [bundleToken, ca, crl] = [token(bundle), token(p.leaf.caFile), p.crl && token(p.crl)];
  const key = await keyInTheClear(p.leaf.keyPem, p.leaf.files.key, o.keyPassphrase, "HAProxy");
  const written = await writeLeafBundle(
    p.treePaths,
    p.leaf.files,
    bundle,
    haproxyBundleOf(p.leaf.certPem, p.leaf.caPem, key),
    {
      // The key's own mode and group: a key shared with HAProxy's group (--key-group) stays readable to it.
      ...(await bundleModeOfKey(p.leaf.files, p.notes)),
      force: p.force,
    },
  );
  const name = o.server.toLowerCase().replace(/[^a-z0-9_.-]/g, "_");
  const text = renderTemplate("haproxy.cfg", {
    tree: p.tree,
    frontend: `mcp_mtls_${name}`,
    backend: `mcp_gateway_${name}`,
    bind: listenText(p.listen, "*"),
    bundle: bundleToken,
    chain_note: p.chain.length > 0 ? ", its intermediate CA" : "",
    ca,
    crl_option: crl === undefined ? "" : ` crl-file ${crl}`,
    crl_gap: p.crlGap,
    upstream: p.upstream.hostPort,
  });
  return { text, notes: p.notes, written, secret: false };
}

export async function exportCaddy(o: ProxyExportOptions): Promise<ExportResult> {
  const p = await proxyInputs(o);
  const token = (path: string) => proxyConfigPath(p.show(path), "caddy", p.pathField);
  if (p.leaf.keyEncrypted)
    throw new MtlsError(
      "E_PASSPHRASE",
      `${p.leaf.files.key}: the key is encrypted and Caddy cannot open an encrypted key`,
      "issue the server cert without --key-passphrase-env for Caddy",
    );
  const [key, ca] = [token(p.leaf.files.key), token(p.leaf.caFile)];
  token(join(p.leaf.files.dir, FULL_CHAIN));
  const presented = await presentedCert(p);
  const text = renderTemplate("Caddyfile", {
    tree: p.tree,
    site: `https://${o.server}:${p.listen.port}`,
    bind: p.listen.host,
    cert: token(presented.file),
    key,
    ca,
    crl: p.crl === undefined ? undefined : token(p.crl),
    upstream: p.upstream.hostPort,
  });
  if (p.crl !== undefined)
    p.notes.push(`Caddy does not check CRLs: revoked certificates in ${p.crl} are still accepted by this config`);
  return { text, notes: p.notes, written: presented.written, secret: false };
}
