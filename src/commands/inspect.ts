/**
 * `mtls-certs inspect <file>`: what a certificate, key, CSR, CRL, bundle or PKCS#12 file holds,
 * without reading `openssl x509 -text`. Keys are described (type, size, whether they match a
 * certificate), never printed.
 */
import { X509Certificate as NodeCert, createPrivateKey, createPublicKey, webcrypto, type KeyObject } from "node:crypto";
import { readBytes } from "../store/write.js";
import * as x509 from "../pki/x509.js";
import { MtlsError } from "../errors.js";
import { privateKeyMatches } from "../pki/key-match.js";
import { describeKey } from "../pki/keys.js";
import { formatGeneralName, keyBitsOf, parseCert } from "../pki/cert-facts.js";
import { certificateOf } from "../pki/node-facts.js";
import { readPkcs12 } from "../pki/pkcs12.js";
import type {
  CertificateItem,
  CrlItem,
  CsrItem,
  InspectItem,
  InspectReport,
  PrivateKeyItem,
  PublicKeyItem,
} from "../report/inspect-report.js";

export interface InspectOptions {
  /** Opens an encrypted key or a PKCS#12 file (`--password-env VAR` in the CLI). */
  password?: string;
  /** A certificate file: reports whether each private key in the file belongs to it (`--key-of`). */
  keyOf?: string;
  /** The clock for days left. Default: now. */
  now?: Date;
}

export type { CertificateItem, CrlItem, CsrItem, InspectItem, InspectReport, PrivateKeyItem, PublicKeyItem };

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** Exit 1: a key that does not belong to the certificate it was compared with. */
export function inspectFailed(report: InspectReport): boolean {
  return report.items.some((i) => i.type === "private-key" && i.matches === false);
}

export async function inspectFile(file: string, o: InspectOptions = {}): Promise<InspectReport> {
  const bytes = await readFileNamed(file);
  const keyOf = o.keyOf === undefined ? undefined : parseKeyOf(await readFileNamed(o.keyOf), o.keyOf);
  return inspectBytes(bytes, file, o, keyOf);
}

async function readFileNamed(path: string): Promise<Buffer> {
  let bytes: Buffer | undefined;
  try {
    // Regular files only, opened non-blocking: a FIFO or device is refused, never waited on.
    bytes = await readBytes(path);
  } catch (e) {
    if (e instanceof MtlsError) throw e; // a FIFO, a directory, permission denied: named already
    throw new MtlsError("E_NOT_FOUND", e instanceof Error ? e.message : `${path}: cannot read`);
  }
  if (bytes === undefined) throw new MtlsError("E_NOT_FOUND", `${path}: cannot read (no such file)`);
  return bytes;
}

function parseKeyOf(bytes: Buffer, file: string): { cert: NodeCert; name: string } {
  try {
    const cert = new NodeCert(bytes);
    return { cert, name: `${file} (${cert.subject.split("\n").join(", ")})` };
  } catch {
    throw new MtlsError("E_DAMAGED", `--key-of ${file}: not a certificate`);
  }
}

async function inspectBytes(
  bytes: Buffer,
  file: string,
  o: InspectOptions,
  keyOf: { cert: NodeCert; name: string } | undefined,
): Promise<InspectReport> {
  const now = o.now ?? new Date();
  const text = bytes.toString("latin1");
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, pem: m[0] }));
  if (blocks.length > 0) {
    const items: InspectItem[] = [];
    const firstCert = blocks.find((b) => b.label === "CERTIFICATE");
    // A combined file (cert + key, as `make certs` and HAProxy use): compare the key with its cert.
    const against =
      keyOf ??
      (firstCert ? { cert: certificateOf(firstCert.pem, file), name: `the certificate in ${file}` } : undefined);
    for (const b of blocks) items.push(await pemItem(b.label, b.pem, file, o, now, against));
    return { file, kind: kindOf(items), format: "pem", items };
  }
  if (text.includes("-----BEGIN")) throw new MtlsError("E_DAMAGED", `${file}: a PEM block is cut off or damaged`);
  const der = await derItems(bytes, file, o, now, keyOf);
  return { file, ...der };
}

async function pemItem(
  label: string,
  pem: string,
  file: string,
  o: InspectOptions,
  now: Date,
  against: { cert: NodeCert; name: string } | undefined,
): Promise<InspectItem> {
  try {
    switch (label) {
      case "CERTIFICATE":
        return { type: "certificate", ...parseCert(pem, now).facts };
      case "PRIVATE KEY":
      case "RSA PRIVATE KEY":
      case "EC PRIVATE KEY":
      case "ENCRYPTED PRIVATE KEY":
        return privateKeyItem(
          pem,
          file,
          label === "ENCRYPTED PRIVATE KEY" || pem.includes("Proc-Type: 4,ENCRYPTED"),
          o.password,
          against,
        );
      case "CERTIFICATE REQUEST":
      case "NEW CERTIFICATE REQUEST":
        return await csrItem(
          new x509.Pkcs10CertificateRequest(pem.replaceAll("NEW CERTIFICATE REQUEST", "CERTIFICATE REQUEST")),
        );
      case "X509 CRL":
        return crlItem(new x509.X509Crl(pem));
      case "PUBLIC KEY":
        return publicKeyItem(createPublicKey(pem));
    }
  } catch (e) {
    if (e instanceof MtlsError) throw e;
    // OpenSSL's reason without its error-queue prefix: "bad base64 decode", "wrong tag".
    const reason = e instanceof Error ? e.message.split("::").pop() : undefined;
    throw new MtlsError("E_DAMAGED", `${file}: the ${label} block cannot be parsed${reason ? ` (${reason})` : ""}`);
  }
  throw new MtlsError(
    "E_DAMAGED",
    `${file}: unsupported PEM block "${label}"`,
    "inspect reads CERTIFICATE, PRIVATE KEY, CERTIFICATE REQUEST, X509 CRL and PUBLIC KEY blocks, DER, and PKCS#12",
  );
}

/** DER: a certificate, CRL, CSR, PKCS#12 or PKCS#8 key, tried in that order. */
async function derItems(
  bytes: Buffer,
  file: string,
  o: InspectOptions,
  now: Date,
  keyOf: { cert: NodeCert; name: string } | undefined,
): Promise<Omit<InspectReport, "file">> {
  const der = new Uint8Array(bytes);
  const attempts: Array<() => Promise<Omit<InspectReport, "file">>> = [
    async () => ({
      kind: "certificate",
      format: "der",
      items: [{ type: "certificate", ...parseCert(bytes, now).facts }],
    }),
    async () => ({ kind: "crl", format: "der", items: [crlItem(new x509.X509Crl(der))] }),
    async () => ({ kind: "csr", format: "der", items: [await csrItem(new x509.Pkcs10CertificateRequest(der))] }),
    async () => ({
      kind: "private-key",
      format: "der",
      items: [
        privateKeyItem(createPrivateKey({ key: bytes, format: "der", type: "pkcs8" }), file, false, undefined, keyOf),
      ],
    }),
  ];
  for (const attempt of attempts) {
    try {
      return await attempt();
    } catch {
      // not this kind; try the next
    }
  }
  const p12 = await readPkcs12(bytes, file, o.password);
  if (p12 === undefined) throw new MtlsError("E_DAMAGED", `${file}: not a certificate, key, CSR, CRL or PKCS#12 file`);
  const certs = p12.certificates.map((c): CertificateItem => ({ type: "certificate", ...parseCert(c, now).facts }));
  const leaf = p12.certificates[0];
  const against = keyOf ?? (leaf ? { cert: new NodeCert(leaf), name: `the first certificate in ${file}` } : undefined);
  const keys = p12.keys.map((k) => privateKeyItem(k, file, true, undefined, against));
  return { kind: "pkcs12", format: "pkcs12", items: [...keys, ...certs] };
}

function privateKeyItem(
  input: string | KeyObject,
  file: string,
  encrypted: boolean,
  password: string | undefined,
  against: { cert: NodeCert; name: string } | undefined,
): PrivateKeyItem {
  let key: KeyObject;
  if (typeof input === "string") {
    if (encrypted && password === undefined)
      return { type: "private-key", encrypted, key: null, keyBits: null, matches: null, matchedAgainst: null };
    try {
      key = createPrivateKey(encrypted ? { key: input, passphrase: password } : input);
    } catch {
      throw new MtlsError(
        encrypted ? "E_PASSPHRASE" : "E_DAMAGED",
        encrypted ? `${file}: wrong password for the encrypted key` : `${file}: not a readable private key`,
      );
    }
  } else {
    key = input;
  }
  return {
    type: "private-key",
    encrypted,
    key: describeKey(key),
    keyBits: keyBitsOf(key),
    matches: against ? privateKeyMatches(against.cert, key) : null,
    matchedAgainst: against?.name ?? null,
  };
}

async function csrItem(csr: x509.Pkcs10CertificateRequest): Promise<CsrItem> {
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: "der", type: "spki" });
  const san = csr.extensions.find(
    (e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension,
  );
  return {
    type: "csr",
    subject: csr.subject,
    key: describeKey(key),
    keyBits: keyBitsOf(key),
    sans: san ? san.names.items.map((n) => formatGeneralName(n.type, n.value)) : [],
    signatureValid: await csr.verify(webcrypto as unknown as Crypto),
  };
}

function crlItem(crl: x509.X509Crl): CrlItem {
  return {
    type: "crl",
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate?.toISOString() ?? null,
    revoked: crl.entries.map((e) => ({
      serial: e.serialNumber.toUpperCase(),
      date: e.revocationDate.toISOString(),
      reason: e.reason ?? null,
    })),
  };
}

function publicKeyItem(key: KeyObject): PublicKeyItem {
  return { type: "public-key", key: describeKey(key), keyBits: keyBitsOf(key) };
}

function kindOf(items: InspectItem[]): InspectReport["kind"] {
  const types = new Set(items.map((i) => i.type));
  if (types.size > 1) return "mixed";
  const only = items[0]!.type;
  if (only === "certificate") return items.length > 1 ? "bundle" : "certificate";
  return only;
}
