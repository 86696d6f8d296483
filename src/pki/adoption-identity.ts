/**
 * Whether a cert found in a leaf directory is that leaf's, before the ledger adopts it (issue 23
 * §5). A tree CA's signature says the CA made it, not for whom: an old cert of another client
 * copied to `clients/bob`, or `ca.crt` itself copied to `plugins/evil/server.crt`, verifies just
 * as well, and once adopted, `renew` re-issues its identity on a new key for whoever put it there.
 * So adoption also asks what the role's profile would have made for this name. Pure: facts in,
 * the reason out (undefined: it may be adopted).
 */
import type { PolicyFacts } from "./policy-facts.js";
import { purposeOfRole } from "./purpose-policy.js";
import type { Role } from "./profiles.js";

export interface AdoptionFacts {
  readonly role: Role;
  /** The leaf directory's name. */
  readonly name: string;
  readonly cert: PolicyFacts;
  /** The cert's subject CN. */
  readonly commonName: string | undefined;
  /** SHA-256 of the cert's SubjectPublicKeyInfo, and of the key file's (undefined: none, or encrypted). */
  readonly certSpki: string;
  readonly keySpki: string | undefined;
  /** Why the key could not be read, when it could not ("missing", "encrypted"). */
  readonly keyProblem?: string;
  /** SHA-256 fingerprints and SPKI hashes of every cert in ca/ (root, intermediate, previous CA, bundles). */
  readonly caFingerprints: ReadonlySet<string>;
  readonly caSpkis: ReadonlySet<string>;
  readonly fingerprint: string;
  /** Another leaf of the role whose cert (on disk, or valid in the ledger) has this CN: `client admin`. */
  readonly commonNameHeldBy?: string;
}

const EKU = { server: "serverAuth", client: "clientAuth" } as const;

/** The CN the role's profile gives a leaf of this name (profiles.ts), or a test for it. */
function commonNameFits(role: Role, name: string, cn: string | undefined): boolean {
  switch (role) {
    case "plugin":
      return cn === `mcp-plugin-${name}`;
    case "gateway":
      return cn === "mcp-gateway-client";
    case "server":
      return cn === name;
    case "https":
      return cn === "localhost";
    case "client":
      // `--cn` may give a client any CN, so only one that another client holds is refused (below).
      return cn !== undefined;
    default:
      return false;
  }
}

/** The SAN every cert of the role carries for this name (what makes it that leaf's and no other's). */
function ownSan(role: Role, name: string): string | undefined {
  return role === "plugin" || role === "server" ? `DNS:${name}`.toLowerCase() : undefined;
}

export function adoptionRefusal(f: AdoptionFacts): string | undefined {
  if (f.caFingerprints.has(f.fingerprint) || f.caSpkis.has(f.certSpki))
    return "it is one of this tree's CA certificates (or carries a CA's key), not a leaf";
  if (f.cert.basicConstraints?.ca === true) return "basicConstraints CA:TRUE: a CA, never a leaf";
  const purpose = purposeOfRole(f.role);
  const eku = f.cert.extendedKeyUsage;
  if (purpose && eku !== null && !eku.includes(EKU[purpose]))
    return `extendedKeyUsage ${eku.join(", ")}: not a TLS ${purpose} cert, as a ${f.role} cert is`;
  if (!commonNameFits(f.role, f.name, f.commonName))
    return `subject CN=${f.commonName ?? "(none)"} is not what a ${f.role} cert named ${f.name} carries`;
  if (f.role === "client" && f.commonNameHeldBy !== undefined)
    return `subject CN=${f.commonName} is ${f.commonNameHeldBy}'s identity, not client ${f.name}'s`;
  const own = ownSan(f.role, f.name);
  if (own && f.cert.sans.length > 0 && !f.cert.sans.some((s) => s.toLowerCase() === own))
    return `no SAN ${own.replace("dns:", "DNS:")}: not ${f.role} ${f.name}'s names`;
  if (f.keySpki === undefined) return `its key cannot be matched to it (${f.keyProblem ?? "no key"})`;
  if (f.keySpki !== f.certSpki) return "its key is not the certificate's (the SPKI differs)";
  return undefined;
}
