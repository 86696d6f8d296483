/**
 * A leaf's key is its own: it matches the leaf's cert and is never one of the tree's CA keys.
 * Checked before a key is reused (renew --reuse-key) or copied out (export, p12), so a symlink or
 * a copy planted in a leaf directory cannot turn the CA key into a leaf key (issue 13 §3).
 */
import type { KeyObject } from "node:crypto";
import { certificateOf, certsInPem } from "../pki/node-facts.js";
import { MtlsError } from "../errors.js";
import { openPrivateKey } from "../pki/keys.js";
import { privateKeyMatches } from "../pki/key-match.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readText } from "./write.js";

export interface CaPublicKey {
  readonly file: string;
  readonly key: KeyObject;
}

/**
 * Two public keys are one when their SubjectPublicKeyInfo DER is. (Not KeyObject.equals: on keys of
 * different types it leaves an OpenSSL error queued that fails the next createPrivateKey, Node 20.)
 */
export function sameSpki(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: "spki", format: "der" }).equals(b.export({ type: "spki", format: "der" }));
}

/** The public keys of the tree's CAs (root, intermediate, a rotation's previous CA) that exist. */
export async function caPublicKeys(tree: TreePaths): Promise<CaPublicKey[]> {
  const files = [tree.caCert, tree.intermediateCert, tree.previousCaCert];
  return caPublicKeysOf(tree, await Promise.all(files.map((f) => readText(f))));
}

/** caPublicKeys from the texts of ca.crt, intermediate.crt and previous/ca.crt, in that order, as read already. */
export function caPublicKeysOf(tree: TreePaths, pems: ReadonlyArray<string | undefined>): CaPublicKey[] {
  const files = [tree.caCert, tree.intermediateCert, tree.previousCaCert];
  const keys: CaPublicKey[] = [];
  pems.forEach((pem, i) => {
    // Every CA of the file (ca/ca.crt holds two during a rotation); a damaged one is reported by
    // whoever loads the CA and has no key to compare here.
    for (const cert of certsInPem(pem ?? "")) keys.push({ file: files[i]!, key: cert.publicKey });
  });
  return keys;
}

/**
 * Refuses a leaf whose cert carries a CA's public key, whose key does not match its cert, or
 * whose key is a CA's (compared by SPKI). An encrypted key without its passphrase is compared
 * through its cert only.
 */
export function assertLeafKeyBelongs(
  files: Pick<LeafFiles, "cert" | "key" | "dir">,
  certPem: string,
  keyPem: string,
  cas: readonly CaPublicKey[],
  passphrase?: string,
): void {
  const hint = `remove ${files.dir} and issue the certificate again (mtls-certs never reuses or exports a CA's key as a leaf's)`;
  const cert = certificateOf(certPem, files.cert, hint);
  const caOf = (key: KeyObject): CaPublicKey | undefined => cas.find((ca) => sameSpki(ca.key, key));
  const certCa = caOf(cert.publicKey);
  if (certCa) throw new MtlsError("E_KEY_MISMATCH", `${files.cert}: carries the public key of ${certCa.file}`, hint);
  const encrypted = keyPem.includes("ENCRYPTED");
  if (encrypted && passphrase === undefined) return;
  const key = openPrivateKey(keyPem, files.key, encrypted ? passphrase : undefined);
  // By the key's private part: the public part it carries may be a leaf's over a CA's private key.
  const keyCa = cas.find((ca) => privateKeyMatches(ca.key, key));
  if (keyCa) throw new MtlsError("E_KEY_MISMATCH", `${files.key}: is the private key of ${keyCa.file}`, hint);
  if (!privateKeyMatches(cert, key))
    throw new MtlsError("E_KEY_MISMATCH", `${files.key}: does not match ${files.cert}`, hint);
}
