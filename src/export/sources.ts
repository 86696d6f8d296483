/**
 * What every `export` kind reads from the tree, and the checks on its options: the files of a
 * leaf (refused with the command that makes them when missing), the CA file peers verify
 * against, the CRL, `--listen`, `--upstream`, and how a path on this machine is shown (its real
 * absolute path, or under `--prefix` where the tree is mounted in a container).
 */
import { isIP } from "node:net";
import { dirname, posix, relative, sep } from "node:path";
import { checkOutputFile } from "../store/output-file.js";
import { checkConfigText, shellWord } from "./render.js";
import { DEFAULT_OUT } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { splitPemBlocks } from "../pki/cert-facts.js";
import { importPrivateKey } from "../pki/keys.js";
import { hasControlCharacter } from "../control-characters.js";
import { checkDnsName, checkName, parseWholeNumber } from "../pki/names.js";
import { IssuedHere } from "../store/issued-here.js";
import { leafFiles, treePaths, type LeafFiles, type TreeLeafRole, type TreePaths } from "../store/paths.js";
import { assertLeafKeyBelongs } from "../store/leaf-key.js";
import { leafCaFile, servedChainOf } from "../store/leaf-bundles.js";
import { assertLeafDirectory } from "../store/leaf-state.js";
import {
  CERT_MODE,
  KEY_MODE,
  ensureDirectory,
  exists,
  readKeyText,
  readCertText,
  readText,
  writeFileAtomically,
} from "../store/write.js";

/** Options every export kind takes. */
export interface ExportOptions {
  /** The tree's root. Default `certs/mcp`. */
  tree?: string;
  /** Where the tree's root is mounted inside a container, e.g. `/app/certs/mcp`. Default: real paths. */
  prefix?: string;
}

/** What an export produced: the config text, and notes for stderr (never key material). */
export interface ExportResult {
  readonly text: string;
  readonly notes: string[];
  /** Files written besides the output (HAProxy's bundle). */
  readonly written: string[];
  /** The text holds private keys (k8s, istio): written 0600, never to a terminal. */
  readonly secret: boolean;
}

/** The command that makes a leaf of this role, for "no certificate yet" errors. */
const MAKES: Record<TreeLeafRole, (name: string) => string> = {
  gateway: () => "mtls-certs gateway",
  plugin: (name) => `mtls-certs plugin ${name}`,
  server: (name) => `mtls-certs server ${name}`,
  client: (name) => `mtls-certs client ${name}`,
};

export interface LeafSource {
  readonly files: LeafFiles;
  readonly certPem: string;
  readonly keyPem: string;
  /** The CA file a peer of this leaf verifies against: its ca.crt copy, else the tree's. */
  readonly caFile: string;
  readonly caPem: string;
  /** An encrypted PKCS#8 key: the consumer needs its passphrase. */
  readonly keyEncrypted: boolean;
}

/** The tree of an export, and what each leaf it takes is checked against: read once per export. */
export interface ExportTree extends TreePaths {
  readonly issued: IssuedHere;
}

/** The tree of an export. Its path is written into every config (comments too): one line, always. */
export function exportTree(o: ExportOptions): ExportTree {
  const tree = treePaths(o.tree ?? DEFAULT_OUT);
  checkConfigText(tree.root, "--out");
  return { ...tree, issued: new IssuedHere(tree) };
}

/** ` --out '<tree>'` for a command in a hint, quoted for sh; nothing for the default tree. */
export function outFlag(tree: TreePaths): string {
  return tree.root === treePaths(DEFAULT_OUT).root ? "" : ` --out ${shellWord(tree.root, "--out")}`;
}

/** The cert, key and CA file of one leaf; `option` names the flag that asked for it. */
export async function requireLeaf(
  tree: ExportTree,
  role: TreeLeafRole,
  name: string,
  option: string,
): Promise<LeafSource> {
  if (role !== "gateway") checkName(name, option);
  const files = leafFiles(tree, role, name);
  await assertLeafDirectory(files);
  const [certPem, keyPem] = await Promise.all([readCertText(files.cert), readKeyText(files.key)]);
  const what = role === "gateway" ? "the gateway" : `${option} ${name}`;
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? files.cert : files.key;
    throw new MtlsError(
      "E_NOT_FOUND",
      `${what}: no certificate yet (${missing} is missing)`,
      `make it with \`${MAKES[role](name)}${outFlag(tree)}\``,
    );
  }
  await tree.issued.assert(files, certPem, "export");
  // What goes into a proxy config or a Secret is the leaf's own key, never a CA's.
  assertLeafKeyBelongs(files, certPem, keyPem, await tree.issued.caPublicKeys());
  const caFile = await leafCaFile(tree, files);
  const caPem = await readText(caFile);
  if (caPem === undefined)
    throw new MtlsError("E_CA_MISSING", `${caFile}: missing`, "run `mtls-certs ca` to create the CA");
  return { files, certPem, keyPem, caFile, caPem, keyEncrypted: keyPem.includes("ENCRYPTED PRIVATE KEY") };
}

export { intermediatesOf } from "../store/leaf-bundles.js";

/**
 * What a server presents: its cert, then the intermediate CA(s) of its CA file when there are any,
 * since clients that trust only the root need them to build the chain.
 */
export function servedChainPem(leaf: LeafSource): string {
  return servedChainOf(leaf.certPem, leaf.caPem);
}

export interface CrlSource {
  readonly file: string;
  /** CAs of the chain with no CRL in the file. nginx and HAProxy check a CRL for every CA in the
   * chain (X509_V_FLAG_CRL_CHECK_ALL) and refuse every client when one is missing. */
  readonly missing: string[];
  /** The earliest nextUpdate in the file: after it, those proxies refuse every client too. */
  readonly nextUpdate: Date | undefined;
}

/** The tree's CRL when one exists (`mtls-certs revoke` / `crl` make it), and which CAs it covers. */
export async function crlFile(tree: TreePaths, caPem: string): Promise<CrlSource | undefined> {
  // During a CA rotation ca/bundle.crl holds both CAs' lists (revoke.ts writes it): proxies check
  // a CRL for every CA of the chain and need both in their one file.
  const file = (await exists(tree.crlBundle)) ? tree.crlBundle : tree.caCrl;
  const text = await readText(file);
  if (text === undefined) return undefined;
  const { X509Crl, X509Certificate } = await import("../pki/x509.js");
  const crls = splitPemBlocks(text, "X509 CRL").map((pem) => new X509Crl(pem));
  const issuers = new Set(crls.map((crl) => crl.issuer));
  const missing = splitPemBlocks(caPem)
    .map((pem) => new X509Certificate(pem).subject)
    .filter((subject) => !issuers.has(subject));
  const updates = crls.map((crl) => crl.nextUpdate).filter((d): d is Date => d !== undefined);
  const nextUpdate = updates.length > 0 ? new Date(Math.min(...updates.map((d) => d.getTime()))) : undefined;
  return { file, missing, nextUpdate };
}

/** Shows a path of the tree: real and absolute, or under `--prefix` (a POSIX path in a container). */
export function pathShower(tree: TreePaths, prefix: string | undefined): (path: string) => string {
  if (prefix === undefined) return (path) => path;
  checkConfigText(prefix, "--prefix");
  if (!prefix.startsWith("/"))
    throw new MtlsError(
      "E_USAGE",
      `--prefix: ${JSON.stringify(prefix)} is not an absolute path`,
      "give where the tree is mounted in the container, e.g. /app/certs/mcp",
    );
  const base = prefix.length > 1 ? prefix.replace(/\/+$/, "") : prefix;
  return (path) => {
    const inside = relative(tree.root, path);
    if (inside.startsWith("..")) throw new MtlsError("E_USAGE", `--prefix: ${path} is outside the tree ${tree.root}`);
    return posix.join(base, ...inside.split(sep));
  };
}

export interface Listen {
  /** The address to bind, when given (`127.0.0.1:8443`); otherwise every address. */
  readonly host: string | undefined;
  readonly port: number;
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; the port 1–65535. */
export function parseListen(value: string, option = "--listen"): Listen {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]:|([^:[\]]+):)?([^:]*)$/.exec(value.trim());
  if (!match)
    throw new MtlsError("E_USAGE", `${option}: ${JSON.stringify(value)} is not PORT, HOST:PORT or [IPv6]:PORT`);
  const [, v6, host, port = ""] = match;
  if (v6 !== undefined && isIP(v6) !== 6)
    throw new MtlsError("E_BAD_IP", `${option}: ${JSON.stringify(v6)} is not an IPv6 address`);
  if (host !== undefined && isIP(host) === 0) checkDnsName(host, option);
  return { host: v6 ?? host, port: parseWholeNumber(port, `${option} port`, 1, 65535) };
}

export interface Upstream {
  /** `http://host:port`, as proxy_pass, server lines and reverse_proxy take it. */
  readonly origin: string;
  /** `host:port` (IPv6 in brackets), with the scheme's default port filled in. */
  readonly hostPort: string;
}

/**
 * The gateway behind the proxy: an http:// origin. The proxy terminates TLS and hands the client
 * identity over in headers (seed 003), so the hop behind it is plain HTTP on a private network.
 * A path is refused: Caddy's reverse_proxy cannot take one, and nginx would rewrite URIs with it.
 */
/** `value` as a URL, or exit 2 naming the option. */
export function urlOf(value: string, option: string, hint: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new MtlsError("E_BAD_URL", `${option}: ${JSON.stringify(value)} is not a URL`, hint);
  }
}

export function parseUpstream(value: string, option = "--upstream"): Upstream {
  // The origin is written into nginx, HAProxy and Caddy configs: nothing that is syntax there
  // (`;` ends an nginx directive, braces open a block, `$` expands, quotes and spaces split words).
  if (/[\s;'"{}$`\\]/.test(value) || hasControlCharacter(value))
    throw new MtlsError(
      "E_BAD_URL",
      `${option}: ${JSON.stringify(value)} holds characters that are syntax in a proxy config (; quotes braces $ whitespace)`,
      "give the gateway's address, e.g. http://127.0.0.1:4444",
    );
  const url = urlOf(value, option, "give the gateway's address, e.g. http://127.0.0.1:4444");
  if (url.protocol !== "http:")
    throw new MtlsError(
      "E_BAD_URL",
      `${option}: ${JSON.stringify(value)} is not an http:// URL`,
      "the proxy terminates TLS; give the gateway's plain-HTTP address, e.g. http://127.0.0.1:4444",
    );
  if (!url.hostname) throw new MtlsError("E_BAD_URL", `${option}: ${JSON.stringify(value)} has no host`);
  // Percent-encoding decodes in the host (`a%3Bb` is `a;b`): the host itself must be an IP or a DNS name.
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) === 0 && !/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(host))
    throw new MtlsError(
      "E_BAD_URL",
      `${option}: ${JSON.stringify(value)}: the host ${JSON.stringify(host)} is neither an IP address nor a DNS name`,
      "give the gateway's address, e.g. http://127.0.0.1:4444",
    );
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) {
    throw new MtlsError(
      "E_BAD_URL",
      `${option}: ${JSON.stringify(value)} has a path, query or credentials`,
      "give only scheme, host and port, e.g. http://127.0.0.1:4444",
    );
  }
  const hostPort = `${url.hostname}:${url.port || "80"}`;
  return { origin: `http://${hostPort}`, hostPort };
}

/** Writes an export to `--out`: 0600 when it holds private keys, else 0644; an older file is replaced. */
/** Writes an export to `path`: not over an existing file unless `force`, never inside the tree's ca/. */
export async function saveExport(
  path: string,
  result: ExportResult,
  o: { tree?: string; force?: boolean } = {},
): Promise<void> {
  const target = await checkOutputFile(path, { ...o, makeDirectory: true });
  await ensureDirectory(dirname(target.path));
  await writeFileAtomically(target.path, result.text, {
    mode: result.secret ? KEY_MODE : CERT_MODE,
    replace: target.replace,
  });
}

/**
 * A key in the clear, for a consumer that cannot open an encrypted one (HAProxy, cert-manager,
 * istiod). A plain key keeps its exact bytes.
 */
export async function keyInTheClear(
  pem: string,
  file: string,
  passphrase: string | undefined,
  consumer: string,
  /** The flag pair that gives this key's passphrase: the CA's for cert-manager and istiod. */
  secret: "key-passphrase" | "ca-passphrase" = "key-passphrase",
): Promise<string> {
  if (!pem.includes("ENCRYPTED")) return pem;
  if (passphrase === undefined)
    throw new MtlsError(
      "E_PASSPHRASE",
      `${file}: the key is encrypted and ${consumer} cannot open an encrypted key`,
      `pass its passphrase with --${secret}-env VAR (or --${secret}-stdin): the output then holds the key decrypted`,
    );
  return (await importPrivateKey(pem, file, passphrase)).privateKeyPem;
}

/** Base64 of a file's bytes, as a Kubernetes Secret's `data` holds them. */
export function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
