/**
 * A certificate signing request read for `sign`: its own signature checked, its key imported for
 * the signing pipeline. Only the key and (for roles that may take them) the SANs are ever used;
 * the subject, CA:TRUE, key usages and every other extension it asks for are ignored, as
 * `openssl ca` does with `copy_extensions = none`.
 */
import { createHash, createPublicKey, webcrypto } from "node:crypto";
import { MtlsError } from "../errors.js";
import { describeKey, keyTypeOf, signingAlgorithm, type KeyType } from "./keys.js";
import * as x509 from "./x509.js";
import type { SubjectKey } from "./issue.js";

export interface ReadCsr {
  readonly key: SubjectKey & { readonly type: KeyType };
  /** SHA-256 of the DER SubjectPublicKeyInfo, as the ledger records it. */
  readonly spkiSha256: string;
  /** The SANs the CSR asks for, as [type, value]; the caller decides which a role may take. */
  readonly sans: ReadonlyArray<{ readonly type: string; readonly value: string }>;
}

const HINT = "make it with `openssl req -new -key KEY -out FILE.csr` and pass that file";

/** Parses and verifies a PEM or DER CSR; `file` names it in every refusal (exit 2). */
export async function readCsr(bytes: Buffer, file: string): Promise<ReadCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    const text = bytes.toString("latin1");
    csr = text.includes("-----BEGIN")
      ? new x509.Pkcs10CertificateRequest(text.replaceAll("NEW CERTIFICATE REQUEST", "CERTIFICATE REQUEST"))
      : new x509.Pkcs10CertificateRequest(new Uint8Array(bytes));
  } catch {
    throw new MtlsError("E_BAD_CSR", `${file}: not a certificate signing request (PKCS#10, PEM or DER)`, HINT);
  }
  let valid = false;
  try {
    valid = await csr.verify(webcrypto as unknown as Crypto);
  } catch {
    valid = false;
  }
  if (!valid)
    throw new MtlsError(
      "E_BAD_CSR",
      `${file}: the request's signature does not verify; it was altered or not signed by its own key`,
      HINT,
    );
  const spki = Buffer.from(csr.publicKey.rawData);
  const node = createPublicKey({ key: spki, format: "der", type: "spki" });
  const type = keyTypeOf(node);
  if (type === undefined)
    throw new MtlsError(
      "E_BAD_CSR",
      `${file}: its key is ${describeKey(node)}, not one mtls-certs signs`,
      "use RSA 2048/3072/4096 or EC P-256/P-384",
    );
  const publicKey = await webcrypto.subtle.importKey("spki", spki, signingAlgorithm(type), true, ["verify"]);
  const sanExtension = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
  return {
    key: { type, publicKey: publicKey as unknown as CryptoKey },
    spkiSha256: createHash("sha256").update(spki).digest("hex"),
    sans: (sanExtension?.names.items ?? []).map((n) => ({ type: n.type, value: n.value })),
  };
}
