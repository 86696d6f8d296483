/**
 * Is a certificate revoked by its issuer's CRL? The check `verify` and `probe` make on a chain
 * (one CRL file may hold two lists during a CA rotation: the one the issuer signed counts).
 */
import { MtlsError } from "../errors.js";
import { humanDate } from "../human.js";
import type { ParsedCert } from "./cert-facts.js";
import { splitPemBlocks } from "./cert-facts.js";
import { crlSignedBy } from "./crl.js";
import * as x509 from "./x509.js";

export type CrlProblemCode = "revoked" | "crl-not-from-issuer" | "crl-expired";

export interface CrlProblem {
  readonly code: CrlProblemCode;
  readonly message: string;
  readonly fix: string;
}

/** Every list in a CRL file: ca/bundle.crl holds two during a CA rotation. */
export function parseCrls(bytes: Buffer, file: string): x509.X509Crl[] {
  try {
    const text = bytes.toString("latin1");
    if (!text.includes("-----BEGIN X509 CRL-----")) return [new x509.X509Crl(new Uint8Array(bytes))];
    return splitPemBlocks(text, "X509 CRL").map((pem) => new x509.X509Crl(pem));
  } catch {
    throw new MtlsError("E_DAMAGED", `${file}: not a CRL (PEM "X509 CRL" or DER)`);
  }
}

/** What the issuer's list in `crls` says about `leaf`; nothing when it is not revoked. */
export async function crlProblems(
  crls: readonly x509.X509Crl[],
  crlFile: string,
  leaf: ParsedCert,
  issuer: ParsedCert | undefined,
  now: Date,
): Promise<CrlProblem[]> {
  let crl: x509.X509Crl | undefined;
  for (const candidate of crls)
    if (
      issuer !== undefined &&
      candidate.issuer === issuer.peculiar.subject &&
      (await crlSignedBy(candidate, issuer.peculiar))
    ) {
      crl = candidate;
      break;
    }
  if (crl === undefined)
    return [
      {
        code: "crl-not-from-issuer",
        message: `${crlFile} is not signed by this certificate's issuer (CRL issuer ${crls.map((c) => `"${c.issuer}"`).join(", ")})`,
        fix: "pass the CRL of the CA that issued the certificate",
      },
    ];
  const out: CrlProblem[] = [];
  if (crl.nextUpdate !== undefined && crl.nextUpdate < now)
    out.push({
      code: "crl-expired",
      message: `${crlFile} expired ${humanDate(crl.nextUpdate)} (nextUpdate): peers checking CRLs refuse every cert`,
      fix: "publish a fresh CRL: `mtls-certs crl`",
    });
  const entry = crl.findRevoked(leaf.peculiar);
  if (entry) {
    // RFC 5280's name for the reason code (an entry without one is "unspecified", RFC 5280 5.3.1).
    const reason = ` (reason ${entry.reason === undefined ? "unspecified" : (x509.X509CrlReason[entry.reason] ?? entry.reason)})`;
    out.push({
      code: "revoked",
      message: `revoked ${entry.revocationDate.toISOString()}${reason} in ${crlFile}`,
      fix: "issue a new certificate for it",
    });
  }
  return out;
}
