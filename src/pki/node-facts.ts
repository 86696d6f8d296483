/**
 * What Node's own X509Certificate tells of a cert, with nothing heavier loaded: its SANs as we
 * print them and the SHA-256 of its public key. `check` and the ledger run these on every leaf.
 */
import { type X509Certificate as NodeCert, createHash } from "node:crypto";

/** The SANs a cert carries, as `DNS:x`, `IP:y`, `email:z` (IPs in their shortest form). */
export function sansOf(cert: NodeCert): string[] {
  return (cert.subjectAltName ?? "")
    .split(", ")
    .filter(Boolean)
    .map((s) => (s.startsWith("IP Address:") ? `IP:${canonicalIp(s.slice("IP Address:".length))}` : s));
}

/** `0:0:0:0:0:0:0:1` (how OpenSSL prints) and `::1` (how people write) are one address. */
export function canonicalIp(value: string): string {
  return value.includes(":") ? new URL(`http://[${value}]/`).hostname.slice(1, -1) : value;
}

/**
 * Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo, as
 * `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum` prints it.
 */
export function spkiSha256(cert: NodeCert): string {
  return createHash("sha256")
    .update(cert.publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
}

/** Hex without leading zeros, whichever case the source printed it in (Node upper, @peculiar lower). */
export function normalizeSerial(hex: string): string {
  // Upper case, as openssl and node:crypto print serials everywhere else in our output.
  return hex.toUpperCase().replace(/^0+(?=.)/, "");
}

/** The subject on one line, as check and list print it: `CN=x, O=y`. */
export function subjectLine(cert: NodeCert): string {
  return cert.subject.split("\n").join(", ");
}
