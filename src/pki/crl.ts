/**
 * Certificate revocation lists (RFC 5280 section 5), built with @peculiar/x509's
 * X509CrlGenerator; the CRL number extension is @peculiar/asn1-x509's CRLNumber. Pure: the
 * clock, the issuer and the previous CRL are parameters.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLNumber, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import { webcrypto } from "node:crypto";
import { CLOCK_SKEW_MS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { floorToSecond, type Issuer } from "./issue.js";
import { signingAlgorithm } from "./keys.js";
import { normalizeSerial } from "./node-facts.js";
import * as x509 from "./x509.js";

export { normalizeSerial };

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
  if (!found)
    throw new MtlsError(
      "E_USAGE",
      `${where}: ${JSON.stringify(value)} is not a revocation reason`,
      `use one of ${Object.keys(REVOCATION_REASONS).join(", ")}`,
    );
  return found;
}

/** One revoked certificate, as the CRL lists it. */
export interface RevokedEntry {
  /** Lower-case hex without leading zeros: the same spelling whatever parsed it. */
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
}

export interface CrlParams {
  readonly issuer: Issuer;
  readonly entries: readonly RevokedEntry[];
  /** RFC 5280 5.2.3: a monotonically increasing number; the previous CRL's plus one. */
  readonly number: number;
  readonly now: Date;
  /** Days until nextUpdate. */
  readonly days: number;
}

/** A signed v2 CRL with CRL number and authority key identifier (RFC 5280 5.2.1, 5.2.3). */
export async function buildCrl(p: CrlParams): Promise<x509.X509Crl> {
  const crypto = webcrypto as unknown as Crypto;
  // thisUpdate goes back as far as a new cert's notBefore, so a peer whose clock is a little
  // behind does not call the CRL "not yet valid" and refuse every handshake.
  const thisUpdate = floorToSecond(new Date(p.now.getTime() - CLOCK_SKEW_MS));
  const nextUpdate = floorToSecond(new Date(p.now.getTime() + p.days * DAY_MS));
  return x509.X509CrlGenerator.create(
    {
      issuer: p.issuer.cert.subjectName,
      thisUpdate,
      nextUpdate,
      signingKey: p.issuer.key.privateKey,
      signingAlgorithm: signingAlgorithm(p.issuer.key.type),
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(p.issuer.cert, false, crypto),
        new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(p.number))),
      ],
      entries: p.entries.map((e) => ({
        serialNumber: e.serial,
        revocationDate: e.revokedAt,
        reason: REVOCATION_REASONS[e.reason],
      })),
    },
    crypto,
  );
}

/** PEM as openssl, nginx and node:tls read it: "X509 CRL" (RFC 7468 5.1), not "CRL". */
export function crlToPem(crl: x509.X509Crl): string {
  return x509.PemConverter.encode(crl.rawData, "X509 CRL") + "\n";
}

/** What a CRL on disk says, read back. */
export interface ParsedCrl {
  readonly crl: x509.X509Crl;
  readonly number: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly entries: RevokedEntry[];
}

export function parseCrl(pem: string, file: string): ParsedCrl {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(pem);
  } catch {
    throw new MtlsError(
      "E_DAMAGED",
      `${file}: not a PEM CRL`,
      "restore it from a backup, or move it aside and run `mtls-certs crl` to start a new, empty one",
    );
  }
  const numberExtension = crl.getExtension(id_ce_cRLNumber);
  const number = numberExtension ? Number(AsnConvert.parse(numberExtension.value, CRLNumber).value) : 0;
  const reasonNames = new Map<number, RevocationReason>(
    Object.entries(REVOCATION_REASONS).map(([name, code]) => [code, name as RevocationReason]),
  );
  const entries = crl.entries.map((e) => ({
    serial: normalizeSerial(e.serialNumber),
    revokedAt: e.revocationDate,
    reason: reasonNames.get(e.reason ?? x509.X509CrlReason.unspecified) ?? "unspecified",
  }));
  return { crl, number, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, entries };
}

/** Was the CRL signed by this CA's key? */
export async function crlSignedBy(crl: x509.X509Crl, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await crl.verify({ publicKey: issuer }, webcrypto as unknown as Crypto);
  } catch {
    return false;
  }
}
