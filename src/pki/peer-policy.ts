/**
 * The strict-peer policy: the one list of rules a certificate must pass before a strict TLS peer
 * (Python 3.13's default context with VERIFY_X509_STRICT, OpenSSL's `-x509_strict` at security
 * level 2) accepts it, plus the latent defects that bite later (a v1 leaf, a missing SAN, a leaf
 * that outlives its CA). `verify`, `check`, `all` and `renew` all judge with these functions, so
 * one tree never gets two verdicts. Pure: facts in, problems out; no files, no ASN.1 library.
 * Here: what a cert is at its place in the chain (structure, extensions, key, signature); what its
 * purpose allows in purpose-policy.ts, what a leaf of the tree owes its role in leaf-role-policy.ts,
 * the facts read in policy-facts.ts, the problems and fixes in policy-problem.ts.
 */
import type { PolicyFacts } from "./policy-facts.js";
import type { PolicyCode, PolicyFixes, PolicyProblem } from "./policy-problem.js";

/** OpenSSL security level 2 (Debian/Ubuntu default, Python's default context): 112-bit security. */
export const MIN_RSA_BITS = 2048;
export const MIN_EC_BITS = 224;

/** Where a certificate sits in the chain a peer builds. */
export interface ChainPosition {
  /** It signs the certificate below it (a CA in the chain). */
  readonly issuer: boolean;
  /** It tops the chain (a self-signed root, or as far as the chain goes): no authority key id needed. */
  readonly top: boolean;
  /** It is a trust anchor: a peer never checks its own signature. */
  readonly anchor: boolean;
  /**
   * A self-signed leaf its peers trust as itself (the https cert): a chain of one, to which OpenSSL
   * applies no strict RFC 5280 check (RFC 6818 section 2), so `make certs`'s CA:TRUE cert without
   * keyUsage passes. Only key size and purpose count.
   */
  readonly selfSignedLeaf?: boolean;
  /** CAs between it and the leaf (for pathLenConstraint); 0 for the leaf's issuer. */
  readonly casBelow?: number;
}

/**
 * RFC 5280 rules OpenSSL enforces under X509_V_FLAG_X509_STRICT (x509_vfy.c check_extensions,
 * check_chain_extensions), plus key size and signature hash at security level 2.
 */
export function structureProblems(f: PolicyFacts, at: ChainPosition, fixes: PolicyFixes): PolicyProblem[] {
  const out: PolicyProblem[] = extensionProblems(f, at, fixes);
  const selfSignedLeaf = at.selfSignedLeaf === true;
  const add = (code: PolicyCode, message: string, fix: string, refused = true) =>
    out.push({ code, message, fix, refused });
  const isCa = f.basicConstraints?.ca === true && !selfSignedLeaf;
  if (at.issuer && !isCa) {
    add(
      f.basicConstraints ? "issuer-not-ca" : "ca-missing-basic-constraints",
      `signs other certificates but is not a CA (${f.basicConstraints ? "basicConstraints CA:FALSE" : f.version < 3 ? "X.509 v1, no basicConstraints" : "no basicConstraints"})`,
      fixes.ca,
    );
  }
  const pathLength = f.basicConstraints?.pathLength;
  if (pathLength !== null && pathLength !== undefined) {
    if (!isCa)
      add("path-length-on-non-ca", "has a pathLenConstraint but is not a CA", "issue it again without a path length");
    // pathLen counts the intermediates below this CA (not the leaf): RFC 5280 section 4.2.1.9.
    if ((at.casBelow ?? 0) > pathLength)
      add(
        "path-length-exceeded",
        `pathLenConstraint ${pathLength} allows fewer CAs below it than the ${at.casBelow} in this chain`,
        "issue leaves from a CA higher up, or a CA with a larger path length",
      );
  }
  if (isCa && f.basicConstraints && !f.basicConstraints.critical)
    add("ca-basic-constraints-not-critical", "basicConstraints of a CA is not marked critical", fixes.ca);
  if (isCa && f.keyUsage === null) {
    add(
      "ca-missing-key-usage",
      "CA cert does not include the key usage extension (Python 3.13's default context refuses every handshake through it)",
      fixes.ca,
    );
  } else if (isCa && !f.keyUsage?.includes("keyCertSign")) {
    add(
      "ca-key-usage-no-cert-sign",
      `CA keyUsage lacks keyCertSign (has ${f.keyUsage?.join(", ") || "none"})`,
      fixes.ca,
    );
  }
  if (!isCa && !selfSignedLeaf && f.keyUsage?.includes("keyCertSign"))
    add("cert-sign-on-non-ca", "keyUsage keyCertSign on a certificate that is not a CA", fixes.leaf);
  if (selfSignedLeaf) {
    // nothing: see above
  } else if (f.version >= 3) {
    if (!at.top && f.authorityKeyId === null)
      add(
        "missing-authority-key-id",
        "no authorityKeyIdentifier (required of a cert issued by a conforming CA)",
        isCa ? fixes.ca : fixes.leaf,
      );
    if (isCa && f.subjectKeyId === null) add("missing-subject-key-id", "CA without subjectKeyIdentifier", fixes.ca);
  } else if (f.extensionCount > 0) {
    add("extensions-need-v3", "X.509 v1 certificate with extensions", isCa ? fixes.ca : fixes.leaf);
  }
  const isRsa = f.key.startsWith("RSA");
  if (
    f.keyBits !== null &&
    ((isRsa && f.keyBits < MIN_RSA_BITS) || (!isRsa && f.key.startsWith("EC") && f.keyBits < MIN_EC_BITS))
  ) {
    add(
      "key-too-small",
      `${f.key}-bit key is too small for OpenSSL security level 2 (Python's default)`,
      at.issuer ? fixes.ca : fixes.leafBiggerKey,
    );
  }
  // An anchor's own signature is never checked by a peer; everything below it is.
  if (!at.anchor && isWeakSignature(f.signatureAlgorithm)) {
    add(
      "weak-signature",
      `signed with ${f.signatureAlgorithm}, refused at security level 2`,
      `${at.issuer ? fixes.ca : fixes.leaf} (mtls-certs signs with SHA-256 or SHA-384)`,
    );
  }
  return out;
}

/**
 * The extensions OpenSSL understands (v3_purp.c X509_supported_extension): any other marked
 * critical fails verification ("unhandled critical extension", RFC 5280 section 4.2), also without
 * -x509_strict. Key identifiers are not in its list: a critical one fails too.
 */
const HANDLED_CRITICAL: ReadonlySet<string> = new Set([
  "2.16.840.1.113730.1.1", // netscape cert type
  "2.5.29.15", // keyUsage
  "2.5.29.17", // subjectAltName
  "2.5.29.19", // basicConstraints
  "2.5.29.32", // certificatePolicies
  "2.5.29.31", // cRLDistributionPoints
  "2.5.29.37", // extendedKeyUsage
  "1.3.6.1.5.5.7.1.7", // RFC 3779 IP address blocks
  "1.3.6.1.5.5.7.1.8", // RFC 3779 AS identifiers
  "1.3.6.1.5.5.7.48.1.5", // OCSP no-check
  "2.5.29.36", // policyConstraints
  "1.3.6.1.5.5.7.1.14", // proxyCertInfo
  "2.5.29.30", // nameConstraints
  "2.5.29.33", // policyMappings
  "2.5.29.54", // inhibitAnyPolicy
]);

/**
 * What a cert's extensions say in themselves, wherever it sits: an unknown critical extension
 * (OpenSSL: "unhandled critical extension"), an extension twice (RFC 5280 section 4.2: "MUST
 * NOT include more than one instance"; OpenSSL marks the cert invalid, Go refuses to parse it,
 * and Node shows the first one only, so two parsers would read two different certs), and a leaf
 * that is a CA: CA:TRUE lets its key sign certificates for any name, and `openssl verify
 * -x509_strict` accepts the chain through it (pathLen permitting), so every peer that trusts the
 * tree's CA trusts whoever holds that leaf's key as a CA.
 */
export function extensionProblems(f: PolicyFacts, at: ChainPosition, fixes: PolicyFixes): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const fix = at.issuer ? fixes.ca : fixes.leaf;
  const unknown = f.extensions.filter((e) => e.critical && !HANDLED_CRITICAL.has(e.oid)).map((e) => e.oid);
  if (unknown.length > 0)
    out.push({
      code: "unknown-critical-extension",
      message: `critical extension${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} that peers do not know: OpenSSL refuses the certificate ("unhandled critical extension")`,
      fix,
      refused: true,
    });
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const e of f.extensions) (seen.has(e.oid) ? twice : seen).add(e.oid);
  if (twice.size > 0)
    out.push({
      code: "duplicate-extension",
      message: `extension ${[...twice].join(", ")} appears more than once (RFC 5280 4.2): OpenSSL marks it invalid, Go refuses it, and parsers disagree on which one counts`,
      fix,
      refused: true,
    });
  if (!at.issuer && !at.selfSignedLeaf && f.basicConstraints?.ca === true)
    out.push({
      code: "ca-as-leaf",
      message: `a leaf with basicConstraints CA:TRUE${f.keyUsage?.includes("keyCertSign") ? " and keyCertSign" : ""}: its key can sign certificates for any name, which peers trusting this CA accept`,
      fix: fixes.leaf,
      refused: true,
    });
  return out;
}

/** SHA-1, MD5, MD2: refused at security level 2. */
export function isWeakSignature(name: string): boolean {
  return /sha-?1(?!\d)|md5|md2/i.test(name);
}
