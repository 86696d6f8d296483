/**
 * What Node's own X509Certificate tells of a cert, with nothing heavier loaded: its SANs as we
 * print them and the SHA-256 of its public key. `check` and the ledger run these on every leaf.
 */
import { X509Certificate as NodeCert, createHash, type Hash } from "node:crypto";
import { MtlsError } from "../errors.js";

/**
 * The certificate in a PEM text, or exit 2 naming the file and what it holds instead: never
 * OpenSSL's "error:04800064:PEM routines::bad base64 decode" as an internal error.
 */
export function certificateOf(
  pem: string,
  file: string,
  hint = `restore it from a backup or issue it again; \`mtls-certs inspect ${file}\` tells what it holds`,
): NodeCert {
  try {
    return new NodeCert(pem);
  } catch (e) {
    throw new MtlsError("E_DAMAGED", `${file}: not a PEM certificate (${whyNotACertificate(pem, e)})`, hint);
  }
}

/** Why a text is not a PEM certificate, for messages: "the file is empty", "its CERTIFICATE block is damaged: wrong tag". */
export function whyNotACertificate(text: string, e: unknown): string {
  if (text.trim() === "") return "the file is empty";
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]!);
  if (labels.length === 0) return "no PEM block: DER or another format";
  if (!labels.includes("CERTIFICATE")) return `it holds a ${labels[0]!} block, no CERTIFICATE`;
  // OpenSSL's reason without its error-queue prefix: "bad base64 decode", "wrong tag".
  const reason = e instanceof Error ? e.message.split("::").pop() : undefined;
  return `its CERTIFICATE block is damaged${reason ? `: ${reason}` : ""}`;
}

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
  return spkiDigest(cert).digest("hex");
}

/**
 * The SPKI pin as curl's --pinnedpubkey takes it (RFC 7469's pin-sha256): `sha256//` + base64
 * of the same digest. renew reports it before and after; `fingerprint` prints it.
 */
export function spkiPin(cert: NodeCert): string {
  return `sha256//${spkiDigest(cert).digest("base64")}`;
}

function spkiDigest(cert: NodeCert): Hash {
  return createHash("sha256").update(cert.publicKey.export({ type: "spki", format: "der" }));
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

/**
 * Every certificate a PEM file holds, in order; blocks that do not parse are left out (whoever
 * loads that file as the CA names the damage). During a CA rotation ca/ca.crt holds the signing
 * CA and the previous one: a check that asks "is this one of the tree's CAs" must see both.
 */
export function certsInPem(text: string): NodeCert[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((pem) => {
    try {
      return [new NodeCert(pem)];
    } catch {
      return [];
    }
  });
}
