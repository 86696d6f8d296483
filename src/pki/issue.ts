/**
 * The one signing pipeline: a profile, a subject, SANs, a public key and an issuer go in; a PEM
 * certificate comes out. Pure: no files, the clock is a parameter.
 */
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "./x509.js";
import { CLOCK_SKEW_MS } from "../defaults.js";
import { signingAlgorithm, type KeyPair } from "./keys.js";
import type { Profile, San, Subject } from "./profiles.js";
import { humanDate } from "../human.js";
import { MtlsError } from "../errors.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The certificate and key that sign: a CA or intermediate loaded from the tree or memory. */
export interface Issuer {
  readonly cert: x509.X509Certificate;
  readonly key: KeyPair;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Set when notAfter was cut back to the issuer's notAfter: a leaf never outlives its CA. */
  readonly cappedAt?: Date;
  /** The notAfter that was asked for, when it was capped (the warning names both dates). */
  readonly requestedNotAfter?: Date;
}

export interface ValidityOptions {
  now?: Date;
  days?: number;
  /** Explicit dates win over now/days: test suites make expired or not-yet-valid certs. */
  notBefore?: Date;
  notAfter?: Date;
}

export function validityFor(o: ValidityOptions & { days: number }, issuerNotAfter?: Date): Validity {
  const now = o.now ?? new Date();
  // Whole seconds: X.509 times carry no fractions, so what we report is what is signed.
  const notBefore = floorToSecond(o.notBefore ?? new Date(now.getTime() - CLOCK_SKEW_MS));
  const wanted = floorToSecond(o.notAfter ?? new Date(now.getTime() + o.days * DAY_MS));
  if (issuerNotAfter && wanted > issuerNotAfter)
    return { notBefore, notAfter: issuerNotAfter, cappedAt: issuerNotAfter, requestedNotAfter: wanted };
  return { notBefore, notAfter: wanted };
}

/**
 * The warning for a capped leaf, or undefined. A cut shorter than a day is not worth one: it is
 * what every leaf made after its CA with the same --days gets, seconds short of what was asked.
 */
export function capWarning(certPath: string, v: Validity): string | undefined {
  if (!v.cappedAt || !v.requestedNotAfter || v.requestedNotAfter.getTime() - v.cappedAt.getTime() < DAY_MS)
    return undefined;
  return `${certPath}: notAfter capped at the CA's notAfter ${humanDate(v.cappedAt)} (asked for ${humanDate(v.requestedNotAfter)}); a leaf never outlives its issuer: rotate the CA with \`mtls-certs renew --ca\` to issue longer`;
}

export function floorToSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** A random positive 128-bit serial (RFC 5280 allows 20 octets; mkcert uses 128 bits too). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40; // positive, and no leading zero octet to strip
  return bytes.toString("hex");
}

export function toName(subject: Subject): x509.Name {
  return new x509.Name(subject.map(([type, value]) => ({ [type]: [value] })));
}

/**
 * The key a certificate is issued for. A CSR's key comes without its private half (the key is
 * not ours); only a self-signed certificate needs `privateKey`.
 */
export type SubjectKey = Pick<KeyPair, "type" | "publicKey"> & Partial<Pick<KeyPair, "privateKey">>;

export interface SignParams {
  readonly profile: Profile;
  /** Either a Subject built from names, or the exact name of an existing cert (renewal). */
  readonly subject: Subject | x509.Name;
  readonly sans?: readonly San[];
  readonly key: SubjectKey;
  /** Undefined: self-signed with `key`. */
  readonly issuer?: Issuer;
  readonly validity: Validity;
  /** Extra extensions, e.g. nameConstraints on a CA. */
  readonly extensions?: readonly x509.Extension[];
  readonly serial?: string;
}

const KEY_USAGE_FLAGS = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
} as const;

export async function signCertificate(p: SignParams): Promise<x509.X509Certificate> {
  const { profile } = p;
  const crypto = webcrypto as unknown as Crypto;
  const isRsa = p.key.type.startsWith("rsa");
  const usages = profile.keyUsage
    .filter((u) => isRsa || u !== "keyEncipherment")
    .reduce((flags, u) => flags | KEY_USAGE_FLAGS[u], 0);
  const subjectKeyId = await x509.SubjectKeyIdentifierExtension.create(p.key.publicKey, false, crypto);
  const authorityKeyId = p.issuer
    ? await x509.AuthorityKeyIdentifierExtension.create(p.issuer.cert, false, crypto)
    : new x509.AuthorityKeyIdentifierExtension(subjectKeyId.keyId, false);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(profile.ca, profile.pathLength, true),
    new x509.KeyUsagesExtension(usages, true),
  ];
  if (profile.extendedKeyUsage.length > 0) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension(
        profile.extendedKeyUsage.map((u) => x509.ExtendedKeyUsage[u]),
        false,
      ),
    );
  }
  extensions.push(subjectKeyId, authorityKeyId);
  if (p.sans && p.sans.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        p.sans.map((s) => ({ type: s.type, value: s.value })),
        false,
      ),
    );
  }
  extensions.push(...(p.extensions ?? []));

  const subject = p.subject instanceof x509.Name ? p.subject : toName(p.subject);
  const signer = p.issuer?.key ?? selfSigner(p.key);
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: p.serial ?? randomSerial(),
      subject,
      issuer: p.issuer ? p.issuer.cert.subjectName : subject,
      notBefore: p.validity.notBefore,
      notAfter: p.validity.notAfter,
      publicKey: p.key.publicKey,
      signingKey: signer.privateKey,
      signingAlgorithm: signingAlgorithm(signer.type),
      extensions,
    },
    crypto,
  );
}

function selfSigner(key: SubjectKey): Pick<KeyPair, "type" | "privateKey"> {
  if (key.privateKey === undefined)
    throw new MtlsError("E_USAGE", "a self-signed certificate needs its private key", "sign it with a CA");
  return { type: key.type, privateKey: key.privateKey };
}

export function toPem(cert: x509.X509Certificate): string {
  return cert.toString("pem") + "\n";
}
