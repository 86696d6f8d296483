/**
 * What a certificate's purpose allows: OpenSSL's TLS server and client purpose checks
 * (v3_purp.c), on the leaf and on each CA above it, since a CA's extendedKeyUsage restricts its
 * whole subtree. Part of the strict-peer policy (peer-policy.ts).
 */
import type { PolicyFacts } from "./policy-facts.js";
import type { PolicyFixes, PolicyProblem } from "./policy-problem.js";
import type { Role } from "./profiles.js";

export type Purpose = "server" | "client";

const PURPOSE_EKU = { server: "serverAuth", client: "clientAuth" } as const;

/** The purpose each leaf role serves in TLS. */
export function purposeOfRole(role: Role): Purpose | undefined {
  if (role === "gateway" || role === "client") return "client";
  if (role === "plugin" || role === "server" || role === "https") return "server";
  return undefined;
}

/** OpenSSL's check_purpose_ssl_server / _client for the leaf (v3_purp.c). */
export function leafPurposeProblems(f: PolicyFacts, purpose: Purpose, fixes: PolicyFixes): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const wanted = PURPOSE_EKU[purpose];
  if (f.extendedKeyUsage !== null && !f.extendedKeyUsage.includes(wanted)) {
    out.push({
      code: "wrong-purpose",
      message: `extendedKeyUsage ${f.extendedKeyUsage.join(", ")} does not allow use as a TLS ${purpose} (needs ${wanted})`,
      fix: fixes.leaf,
      refused: true,
    });
  }
  // RSA key exchange needs keyEncipherment, (EC)DHE signing digitalSignature; a server may use either.
  const allowed =
    purpose === "server"
      ? ["digitalSignature", "keyEncipherment", "keyAgreement"]
      : ["digitalSignature", "keyAgreement"];
  if (f.keyUsage !== null && !f.keyUsage.some((u) => allowed.includes(u))) {
    out.push({
      code: "key-usage-purpose",
      message: `keyUsage ${f.keyUsage.join(", ") || "(empty)"} does not allow a TLS ${purpose} (needs one of ${allowed.join(", ")})`,
      fix: fixes.leaf,
      refused: true,
    });
  }
  return out;
}

/** A CA that carries extendedKeyUsage restricts its whole subtree (OpenSSL check_ssl_ca). */
export function issuerPurposeProblems(f: PolicyFacts, purpose: Purpose, fixes: PolicyFixes): PolicyProblem[] {
  const eku = f.extendedKeyUsage;
  if (eku === null || eku.includes(PURPOSE_EKU[purpose])) return [];
  return [
    {
      code: "ca-wrong-purpose",
      message: `the CA's extendedKeyUsage ${eku.join(", ")} excludes TLS ${purpose} certificates below it`,
      fix: fixes.ca,
      refused: true,
    },
  ];
}
