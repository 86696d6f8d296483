/**
 * What adoption reads to tell whether a CA-signed cert in a leaf directory is that leaf's (the
 * judge is pki/adoption-identity.ts): the leaf's key, and every cert in ca/.
 */
import { X509Certificate as NodeCert, createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { adoptionRefusal } from "../pki/adoption-identity.js";
import { sansOf, spkiSha256 } from "../pki/node-facts.js";
import { readPolicyFacts, type PolicyFacts } from "../pki/policy-facts.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readKeyText, readText } from "./write.js";

export interface CaIdentities {
  readonly fingerprints: ReadonlySet<string>;
  readonly spkis: ReadonlySet<string>;
}

/**
 * Every cert in ca/ (the issuers, and each block of the bundle): what no leaf may be. `issuers`
 * are every cert of ca.crt, intermediate.crt and previous/ca.crt (readTreeIssuers), read once there.
 */
export async function caIdentities(
  tree: TreePaths,
  issuers: readonly NodeCert[],
  /** ca/bundle.crt as read already (undefined: none, or unreadable). */
  read?: { readonly pem: string | undefined },
): Promise<CaIdentities> {
  const certs = [...issuers];
  const bundle = read ? read.pem : await readText(tree.caBundle).catch(() => undefined);
  for (const block of bundle?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    try {
      certs.push(new NodeCert(block));
    } catch {
      // A damaged block: `check` names it on the CA.
    }
  }
  return { fingerprints: new Set(certs.map((c) => c.fingerprint256)), spkis: new Set(certs.map(spkiSha256)) };
}

/**
 * Is the cert this leaf's (pki/adoption-identity.ts): the role's profile for this name, its own
 * key beside it, and not a CA's cert. Reads the key file (without following a link).
 */
export async function identityRefusal(
  files: LeafFiles,
  cert: NodeCert,
  cas: CaIdentities,
  commonNameHeldBy?: string,
): Promise<string | undefined> {
  let keySpki: string | undefined;
  let keyProblem: string | undefined;
  try {
    const pem = await readKeyText(files.key);
    if (pem === undefined) keyProblem = `${files.key} is missing`;
    else if (pem.includes("ENCRYPTED")) keyProblem = `${files.key} is encrypted`;
    else
      keySpki = createHash("sha256")
        .update(createPublicKey(createPrivateKey(pem)).export({ type: "spki", format: "der" }))
        .digest("hex");
  } catch (e) {
    keyProblem = e instanceof Error ? e.message : String(e);
  }
  let facts: PolicyFacts;
  try {
    facts = readPolicyFacts(cert, sansOf(cert));
  } catch {
    return "its DER cannot be read: left out, foreign";
  }
  const why = adoptionRefusal({
    role: files.role,
    name: files.name,
    cert: facts,
    commonName: commonNameOf(cert.subject),
    certSpki: spkiSha256(cert),
    keySpki,
    keyProblem,
    caFingerprints: cas.fingerprints,
    caSpkis: cas.spkis,
    fingerprint: cert.fingerprint256,
    commonNameHeldBy,
  });
  return why === undefined ? undefined : `${why}: left out, foreign (remove it and issue the leaf again)`;
}

/** The subject CN of a cert (`admin@example.com`), or of a ledger subject line (`CN=x, O=y`). */
export function commonNameOf(subject: string): string | undefined {
  return subject.match(/(?:^|\n|, )CN=([^\n,]*)/)?.[1];
}
