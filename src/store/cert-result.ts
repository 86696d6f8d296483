/**
 * What a command did to one certificate, and the summary of a cert on disk that says it: the unit
 * of every `--json` result of the writing commands.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { MtlsError } from "../errors.js";
import type { Role } from "../pki/profiles.js";
import { readCertText } from "./write.js";

export type CertAction = "created" | "kept" | "renewed";

/** What a command did to one certificate: the unit of every `--json` result. */
export interface CertResult {
  readonly role: Role;
  readonly name: string;
  readonly action: CertAction;
  readonly cert: string;
  readonly key: string;
  readonly subject: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint: string;
  readonly sans: readonly string[];
  /** What `all` found about a kept cert: policy problems and drift, each with its fix (issue 15). */
  readonly notes?: readonly string[];
}

/** The summary of a certificate on disk. */
export async function describeCert(
  certPath: string,
  keyPath: string,
  role: Role,
  name: string,
  action: CertAction,
): Promise<CertResult> {
  const pem = await readCertText(certPath);
  if (pem === undefined) throw new MtlsError("E_IO", `${certPath}: missing right after it was written`);
  const cert = new NodeCert(pem);
  return {
    role,
    name,
    action,
    cert: certPath,
    key: keyPath,
    subject: cert.subject.split("\n").join(", "),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprint: cert.fingerprint256,
    sans: (cert.subjectAltName ?? "").split(", ").filter(Boolean).map(normalizeSanText),
  };
}

/** Node prints "IP Address:1.2.3.4" and "email:x"; we print what openssl's -addext takes. */
function normalizeSanText(s: string): string {
  return s.replace(/^IP Address:/, "IP:");
}
