/**
 * PKCS#12 (.p12/.pfx) files, read with @peculiar/asn1-pfx. Returns undefined when the bytes are
 * not a PFX at all, so callers can try other formats first.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { PFX } from "@peculiar/asn1-pfx";
import type { KeyObject } from "node:crypto";
import { MtlsError } from "../errors.js";

export interface Pkcs12Contents {
  /** DER certificates, in file order. */
  readonly certificates: Buffer[];
  readonly keys: KeyObject[];
}

export function readPkcs12(bytes: Buffer, file: string, _password: string | undefined): Pkcs12Contents | undefined {
  try {
    AsnConvert.parse(bytes, PFX);
  } catch {
    return undefined;
  }
  throw new MtlsError(
    "E_USAGE",
    `${file}: a PKCS#12 file; inspect cannot open PKCS#12 yet`,
    `convert it first: openssl pkcs12 -in ${file} -nokeys -out certs.pem, then mtls-certs inspect certs.pem`,
  );
}
