/**
 * Where every file of the tree lives: the one place that knows the layout of `certs/mcp`, the
 * same layout `make certs-mcp-*` writes (seed 004).
 */
import { dirname, join, resolve } from "node:path";
import type { Role } from "../pki/profiles.js";

export const CA_COPY = "ca.crt";
export const LOCK_FILE = ".mtls-certs.lock";
export const BACKUP_DIR = ".backup";
/** HAProxy's cert+key file in a server's directory (`export haproxy`). */
export const HAPROXY_BUNDLE = "haproxy.pem";
/** A server's cert then its intermediate CA(s), in its directory (`export nginx|caddy` under an intermediate). */
export const FULL_CHAIN = "fullchain.crt";

export interface TreePaths {
  readonly root: string;
  readonly caDir: string;
  readonly caKey: string;
  readonly caCert: string;
  readonly caCrl: string;
  /** The issuance ledger (src/store/ledger.ts): every cert the tree's CAs issued. */
  readonly ledger: string;
  /** During a CA rotation: ca/ca.crl then ca/previous/ca.crl in one file, what proxies load. */
  readonly crlBundle: string;
  /** Present only while a run creates the CA: a ca.key beside it is a killed run's, not a CA anyone has. */
  readonly caCreating: string;
  /** The intermediate that signs leaves when the tree has one (`ca --intermediate`). */
  readonly intermediateKey: string;
  readonly intermediateCert: string;
  /** What every `ca.crt` copy holds: the CA cert, or the chain, or a rotation bundle. */
  readonly caBundle: string;
  /** The CA being rotated out (`renew --ca`), trusted through the bundle until `ca --finish-rotation`. */
  readonly previousCaDir: string;
  readonly previousCaKey: string;
  readonly previousCaCert: string;
  /** The previous CA's own CRL: revoking a cert it issued during the change-over re-signs this one. */
  readonly previousCaCrl: string;
  readonly gatewayDir: string;
  readonly pluginsDir: string;
  readonly serversDir: string;
  readonly clientsDir: string;
  readonly backupDir: string;
  readonly lock: string;
}

export function treePaths(root: string): TreePaths {
  const r = resolve(root);
  const caDir = join(r, "ca");
  return {
    root: r,
    caDir,
    caKey: join(caDir, "ca.key"),
    caCert: join(caDir, "ca.crt"),
    caCrl: join(caDir, "ca.crl"),
    ledger: join(caDir, "ledger.json"),
    crlBundle: join(caDir, "bundle.crl"),
    caCreating: join(caDir, ".creating"),
    intermediateKey: join(caDir, "intermediate.key"),
    intermediateCert: join(caDir, "intermediate.crt"),
    caBundle: join(caDir, "bundle.crt"),
    previousCaDir: join(caDir, "previous"),
    previousCaKey: join(caDir, "previous", "ca.key"),
    previousCaCert: join(caDir, "previous", "ca.crt"),
    previousCaCrl: join(caDir, "previous", "ca.crl"),
    gatewayDir: join(r, "gateway"),
    pluginsDir: join(r, "plugins"),
    serversDir: join(r, "servers"),
    clientsDir: join(r, "clients"),
    backupDir: join(r, BACKUP_DIR),
    lock: join(r, LOCK_FILE),
  };
}

/** The files of one leaf certificate. */
export interface LeafFiles {
  readonly role: Role;
  readonly name: string;
  readonly dir: string;
  readonly key: string;
  readonly cert: string;
  /** The copy of the CA cert (or chain) next to the leaf; undefined where the Makefile has none. */
  readonly caCopy: string | undefined;
  /** client.pem: cert then key in one file, for curl --cert (seed 003). */
  readonly combined: string | undefined;
  /**
   * Files `export` writes beside a named server's pair, which must follow it (store/leaf-bundles.ts):
   * haproxy.pem (chain, then the key in the clear) and fullchain.crt. Undefined for other roles.
   */
  readonly haproxyBundle: string | undefined;
  readonly fullChain: string | undefined;
}

/** The leaf roles that live inside the tree, with the directory that holds them. */
export const LEAF_DIRS = {
  gateway: "gateway",
  plugin: "plugins",
  server: "servers",
  client: "clients",
} as const;
export type TreeLeafRole = keyof typeof LEAF_DIRS;

export function leafFiles(tree: TreePaths, role: TreeLeafRole, name: string): LeafFiles {
  const dir = role === "gateway" ? tree.gatewayDir : join(tree.root, LEAF_DIRS[role], name);
  // The gateway authenticates as a client; plugins and named servers serve.
  const stem = role === "gateway" || role === "client" ? "client" : "server";
  return {
    role,
    name,
    dir,
    key: join(dir, `${stem}.key`),
    cert: join(dir, `${stem}.crt`),
    caCopy: join(dir, CA_COPY),
    combined: role === "client" ? join(dir, "client.pem") : undefined,
    haproxyBundle: role === "server" ? join(dir, HAPROXY_BUNDLE) : undefined,
    fullChain: role === "server" ? join(dir, FULL_CHAIN) : undefined,
  };
}

/**
 * Every file of a leaf that holds its private key: the key, the cert+key client.pem, and the
 * haproxy.pem `export haproxy` writes beside a server's cert. `check` holds each to the key-mode rule.
 */
export function privateKeyFiles(files: LeafFiles): string[] {
  return [
    files.key,
    ...(files.combined ? [files.combined] : []),
    ...(files.haproxyBundle ? [files.haproxyBundle] : []),
  ];
}

/** The gateway's own HTTPS cert (`make certs`): certs/cert.pem and certs/key.pem. */
export function httpsFiles(dir: string): LeafFiles {
  const d = resolve(dir);
  return {
    role: "https",
    name: "https",
    dir: d,
    key: join(d, "key.pem"),
    cert: join(d, "cert.pem"),
    caCopy: undefined,
    combined: undefined,
    haproxyBundle: undefined,
    fullChain: undefined,
  };
}

/** The gateway's JWT signing keys (`make certs-jwt`, `certs-jwt-ecdsa`): certs/jwt/. */
export interface JwtFiles {
  readonly dir: string;
  readonly privateKey: string;
  readonly publicKey: string;
}

export function jwtFiles(dir: string, ecdsa: boolean): JwtFiles {
  const d = resolve(dir);
  const prefix = ecdsa ? "ec_" : "";
  return { dir: d, privateKey: join(d, `${prefix}private.pem`), publicKey: join(d, `${prefix}public.pem`) };
}

/** certs/ next to certs/mcp: where `https` and `jwt` write by default. */
export function certsDirOf(tree: TreePaths): string {
  return dirname(tree.root);
}
