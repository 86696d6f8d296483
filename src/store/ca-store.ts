/**
 * Reading the CA back from the tree, with every way it can be damaged named: a missing or
 * unparsable ca.crt, a missing key, a key that is not the cert's, a CA that has expired.
 */
import { X509Certificate as NodeCert, createPrivateKey } from "node:crypto";
import { whyNotACertificate } from "../pki/node-facts.js";
import { splitPemBlocks } from "../pki/cert-facts.js";
import * as x509 from "../pki/x509.js";
import { MtlsError } from "../errors.js";
import { privateKeyMatches } from "../pki/key-match.js";
import { importPrivateKey } from "../pki/keys.js";
import type { Issuer } from "../pki/issue.js";
import { exists, readText, type ReadOptions } from "./write.js";
import { assertCaKeyProtected } from "./key-mode.js";
import type { TreePaths } from "./paths.js";
import { humanDate } from "../human.js";

export interface LoadedCa extends Issuer {
  /** The PEM that goes into every ca.crt copy: the CA, a chain, or a rotation bundle. */
  readonly bundlePem: string;
  /** The root's PEM (for trust stores). */
  readonly rootPem: string;
}

/** Parses one PEM certificate; `file` names it in the error. */
export function parseCertificate(pem: string, file: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (e) {
    throw new MtlsError("E_DAMAGED", `${file}: not a PEM certificate (${whyNotACertificate(pem, e)})`);
  }
}

/** Does this private key belong to this certificate? (From its private part: key-match.ts.) */
export function keyMatchesCert(keyPem: string, certPem: string, passphrase?: string): boolean {
  try {
    const key = createPrivateKey(passphrase === undefined ? keyPem : { key: keyPem, passphrase });
    return privateKeyMatches(new NodeCert(certPem), key);
  } catch {
    return false;
  }
}

/** A CA file that exists but cannot be read (a directory, no permission) is a damaged tree. */
async function readCaFile(path: string, o: ReadOptions = {}): Promise<string | undefined> {
  try {
    return await readText(path, o);
  } catch (e) {
    if (!(e instanceof MtlsError)) throw e;
    throw new MtlsError(
      "E_CA_DAMAGED",
      e.message,
      "fix or restore it from a backup; mtls-certs never makes a new CA over an existing one",
    );
  }
}

async function loadPair(
  root: string,
  certPath: string,
  keyPath: string,
  passphrase: string | undefined,
  /** The cert file's text as read already (undefined: there is none), and the key's when read. */
  read?: { readonly pem: string | undefined; readonly keyPem?: string | undefined },
): Promise<{ cert: x509.X509Certificate; pem: string; key: Issuer["key"] }> {
  const file = read ? read.pem : await readCaFile(certPath);
  if (file === undefined)
    throw new MtlsError("E_CA_MISSING", `${certPath}: missing`, "run `mtls-certs ca` to create the CA");
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(file);
    new NodeCert(file);
  } catch (e) {
    throw new MtlsError(
      "E_CA_DAMAGED",
      `${certPath}: not a PEM certificate (${whyNotACertificate(file, e)})`,
      "restore it from a backup; a new CA would orphan every cert the old one signed",
    );
  }
  // Every command that signs (issue, renew, sign, revoke, crl) opens the CA key here.
  await assertCaKeyProtected(root, keyPath);
  const keyPem = read?.keyPem ?? (await readCaFile(keyPath, { noFollow: true }));
  if (keyPem === undefined)
    throw new MtlsError(
      "E_CA_DAMAGED",
      `${keyPath}: missing, but ${certPath} exists`,
      "restore the key from a backup; mtls-certs never makes a new CA over an existing one",
    );
  const key = await importPrivateKey(keyPem, keyPath, passphrase).catch((e: unknown) => {
    // The CA's passphrase has its own flag: the leaves' never opens the CA key.
    if (e instanceof MtlsError && e.code === "E_PASSPHRASE")
      throw new MtlsError(
        e.code,
        e.message,
        "pass --ca-passphrase-env VAR (or --ca-passphrase-stdin) with the CA key's passphrase",
      );
    throw e;
  });
  // During a CA rotation ca/ca.crt holds every CA still trusted, the signing one first (what the
  // gateway's tooling mounts as trust): the CA is the cert that matches the key, wherever it stands.
  const blocks = splitPemBlocks(file);
  const pem = blocks.length <= 1 ? file : `${blocks.find((b) => keyMatchesCert(keyPem, b, passphrase)) ?? blocks[0]}\n`;
  cert = new x509.X509Certificate(pem);
  if (!keyMatchesCert(keyPem, pem, passphrase))
    throw new MtlsError(
      "E_CA_MISMATCH",
      `${keyPath}: does not match ${certPath}`,
      "restore the matching key; mtls-certs never makes a new CA over an existing one",
    );
  return { cert, pem, key };
}

/**
 * Loads the CA that signs leaves: the intermediate when the tree has one, else the root.
 * Refuses a CA outside its validity at `now`: a leaf it signs would never verify.
 */
export async function loadSigningCa(
  tree: TreePaths,
  o: {
    now?: Date;
    passphrase?: string;
    /**
     * ca.crt and intermediate.crt as the command read them already (undefined: no such file), and
     * the keys' and the bundle's text when it read them: not read again.
     */
    read?: {
      readonly caPem: string | undefined;
      readonly intermediatePem: string | undefined;
      readonly caKeyPem?: string;
      readonly intermediateKeyPem?: string;
      readonly bundle?: { readonly pem: string | undefined };
    };
  } = {},
): Promise<LoadedCa> {
  const { read } = o;
  const bundle = async () => (read?.bundle ? read.bundle.pem : await readText(tree.caBundle));
  const hasIntermediate = (read ? read.intermediatePem : await readText(tree.intermediateCert)) !== undefined;
  if (!hasIntermediate) {
    const root = await loadPair(
      tree.root,
      tree.caCert,
      tree.caKey,
      o.passphrase,
      read && { pem: read.caPem, keyPem: read.caKeyPem },
    );
    assertCaValid(root.cert, tree.caCert, o.now ?? new Date());
    return { cert: root.cert, key: root.key, bundlePem: (await bundle()) ?? root.pem, rootPem: root.pem };
  }
  // With an intermediate, the root key is not needed (sites keep it offline): only its cert,
  // to check that the intermediate is the one it signed.
  const rootPem = read ? read.caPem : await readText(tree.caCert);
  if (rootPem === undefined)
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: missing, but ${tree.intermediateCert} exists`,
      "restore the root certificate from a backup",
    );
  parseCertificate(rootPem, tree.caCert);
  const signer = await loadPair(
    tree.root,
    tree.intermediateCert,
    tree.intermediateKey,
    o.passphrase,
    read && {
      pem: read.intermediatePem,
      keyPem: read.intermediateKeyPem,
    },
  );
  if (!new NodeCert(signer.pem).verify(new NodeCert(rootPem).publicKey)) {
    throw new MtlsError(
      "E_CA_MISMATCH",
      `${tree.intermediateCert}: not signed by ${tree.caCert}`,
      "restore the matching root or intermediate from a backup",
    );
  }
  assertCaValid(signer.cert, tree.intermediateCert, o.now ?? new Date());
  const bundlePem = (await bundle()) ?? signer.pem.trimEnd() + "\n" + rootPem;
  return { cert: signer.cert, key: signer.key, bundlePem, rootPem };
}

export function assertCaValid(cert: x509.X509Certificate, file: string, now: Date): void {
  const dates = `valid ${humanDate(cert.notBefore)} to ${humanDate(cert.notAfter)}`;
  if (now > cert.notAfter)
    throw new MtlsError(
      "E_CA_EXPIRED",
      `${file}: the CA has expired (${dates}); it cannot sign`,
      "rotate it with `mtls-certs renew --ca`",
    );
  if (now < cert.notBefore)
    throw new MtlsError(
      "E_CA_EXPIRED",
      `${file}: the CA is not yet valid (${dates}); check the clock`,
      "rotate it with `mtls-certs renew --ca`",
    );
}

/**
 * The CA a rotation moved out (ca/previous/), trusted through the bundles until `ca
 * --finish-rotation`: it still signs its own CRL, so a cert it issued can be revoked meanwhile.
 */
export async function loadPreviousCa(tree: TreePaths, passphrase?: string): Promise<LoadedCa> {
  const pair = await loadPair(tree.root, tree.previousCaCert, tree.previousCaKey, passphrase);
  return { cert: pair.cert, key: pair.key, bundlePem: pair.pem, rootPem: pair.pem };
}

/**
 * The tree's CRL file, as the proxies in front of it load it: ca/bundle.crl during a CA rotation
 * (both CAs' lists), else ca/ca.crl; undefined until something was revoked.
 */
export async function treeCrlFile(tree: TreePaths): Promise<string | undefined> {
  for (const file of [tree.crlBundle, tree.caCrl]) if (await exists(file)) return file;
  return undefined;
}
