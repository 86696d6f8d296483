/**
 * `mtls-certs fingerprint`: the two ways peers pin a certificate. The SHA-256 fingerprint of the
 * whole cert, spelled as `openssl x509 -fingerprint -sha256` prints it, changes with every
 * renewal; the SPKI pin (`sha256//` + base64 of the SHA-256 of the public key, RFC 7469's
 * pin-sha256 as curl --pinnedpubkey and seed 003 take it) survives a renewal on the same key.
 */
import { DEFAULT_OUT } from "../defaults.js";
import { findCertificate } from "../store/cert-target.js";
import { treePaths } from "../store/paths.js";
import { spkiPin } from "../pki/node-facts.js";

export interface FingerprintReport {
  cert: string;
  subject: string;
  serial: string;
  notAfter: string;
  /** `AB:CD:…`, as openssl prints it. */
  sha256: string;
  /** `sha256//…`, for curl --pinnedpubkey. */
  spkiPin: string;
}

/** A file or a name in the tree (`gateway`, a plugin, server or client, `ca`). */
export async function fingerprintCertificate(target: string, o: { out?: string } = {}): Promise<FingerprintReport> {
  const found = await findCertificate(treePaths(o.out ?? DEFAULT_OUT), target);
  const { cert } = found;
  return {
    cert: found.certPath,
    subject: cert.subject.split("\n").join(", "),
    serial: cert.serialNumber,
    notAfter: new Date(cert.validTo).toISOString(),
    sha256: cert.fingerprint256,
    spkiPin: spkiPin(cert),
  };
}

export function renderFingerprint(r: FingerprintReport): string {
  return `${r.cert}\n  subject: ${r.subject}\n  sha256 Fingerprint=${r.sha256}\n  SPKI pin: ${r.spkiPin}\n`;
}
