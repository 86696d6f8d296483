/**
 * Certificate revocation lists (RFC 5280 section 5), built with @peculiar/x509's
 * X509CrlGenerator; the CRL number extension is @peculiar/asn1-x509's CRLNumber. Pure: the
 * clock, the issuer and the previous CRL are parameters.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLNumber, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import { webcrypto } from "node:crypto";
import { MtlsError } from "../errors.js";
import type { Issuer } from "./issue.js";
import { signingAlgorithm } from "./keys.js";
import * as x509 from "./x509.js";

const DAY_MS = 86_400_000;

/** The RFC 5280 reason names a user may give, as openssl's `-crl_reason` spells them. */
export const REVOCATION_REASONS = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  cACompromise: x509.X509CrlReason.cACompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
  certificateHold: x509.X509CrlReason.certificateHold,
  privilegeWithdrawn: x509.X509CrlReason.privilegeWithdrawn,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** Accepts the RFC names case-insensitively, and kebab-case (`key-compromise`). */
export function parseRevocationReason(value: string, where = "--reason"): RevocationReason {
  const wanted = value.replace(/-/g, "").toLowerCase();
  const found = (Object.keys(REVOCATION_REASONS) as RevocationReason[]).find((r) => r.toLowerCase() === wanted);
  if (!found) throw new MtlsError("E_USAGE", `${where}: ${JSON.stringify(value)} is not a revocation reason`, `use one of ${Object.keys(REVOCATION_REASONS).join(", ")}`);
  return found;
}
