/**
 * Who signed a certificate, with Node's parser only: `check` runs this on thousands of leaves and
 * loads nothing heavier.
 */
import type { X509Certificate } from "node:crypto";

/** `issuer` issued `cert`: the names chain (OpenSSL's issuer check) and the signature verifies. */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/** Not checkIssued(): OpenSSL's issuer check wants keyCertSign, which a self-signed leaf lacks. */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.issuer === cert.subject && cert.verify(cert.publicKey);
}
