/**
 * What a certificate says, read once: the facts `inspect` prints and `verify` judges. Node's
 * X509Certificate gives the names, dates, fingerprint and key; @peculiar/x509 the extensions
 * with their critical flags; @peculiar/asn1-x509 the two things neither exposes (the version
 * and nameConstraints).
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  Certificate,
  NameConstraints,
  id_ce_nameConstraints,
  type GeneralName as AsnGeneralName,
} from "@peculiar/asn1-x509";
import * as x509 from "./x509.js";
import { splitPemBlocks } from "./pem.js";
import { describeKey, keyBitsOf } from "./keys.js";

export { keyBitsOf };
import { isSelfSigned } from "./issued-by.js";

const DAY_MS = 86_400_000;

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLength: number | null;
  readonly critical: boolean;
}

export interface NameConstraintsFacts {
  readonly permitted: string[];
  readonly excluded: string[];
  readonly critical: boolean;
}

/** One certificate, as `inspect --json` prints it. */
export interface CertFacts {
  readonly subject: string;
  readonly issuer: string;
  /** Hex, upper case, as `openssl x509 -serial` prints it. */
  readonly serial: string;
  /** 1 or 3. */
  readonly version: number;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days until notAfter, negative once expired. */
  readonly daysLeft: number;
  readonly validity: "valid" | "expired" | "not-yet-valid";
  /** "RSA 4096", "EC P-256". */
  readonly key: string;
  readonly keyBits: number | null;
  readonly signatureAlgorithm: string;
  /** "DNS:x", "IP:x", "email:x", "URI:x": what openssl's -addext takes. */
  readonly sans: string[];
  /** null: no keyUsage extension (a CA without one fails strict verification). */
  readonly keyUsage: string[] | null;
  readonly keyUsageCritical: boolean;
  /** "serverAuth", "clientAuth", or the OID; null: no extendedKeyUsage extension. */
  readonly extendedKeyUsage: string[] | null;
  readonly basicConstraints: BasicConstraints | null;
  readonly nameConstraints: NameConstraintsFacts | null;
  readonly subjectKeyId: string | null;
  readonly authorityKeyId: string | null;
  readonly selfSigned: boolean;
  /** How many extensions it carries (a v1 cert must carry none). */
  readonly extensionCount: number;
  /** Every extension's OID and critical flag, repeats kept (the strict-peer policy judges them). */
  readonly extensions: ReadonlyArray<{ readonly oid: string; readonly critical: boolean }>;
  /** SHA-256 of the DER, colon-separated hex, as `openssl x509 -fingerprint -sha256`. */
  readonly fingerprint: string;
}

/** Both parsed forms of one certificate, and its facts. */
export interface ParsedCert {
  readonly pem: string;
  readonly node: NodeCert;
  readonly peculiar: x509.X509Certificate;
  readonly facts: CertFacts;
}

const KEY_USAGE_NAMES: ReadonlyArray<readonly [x509.KeyUsageFlags, string]> = [
  [x509.KeyUsageFlags.digitalSignature, "digitalSignature"],
  [x509.KeyUsageFlags.nonRepudiation, "nonRepudiation"],
  [x509.KeyUsageFlags.keyEncipherment, "keyEncipherment"],
  [x509.KeyUsageFlags.dataEncipherment, "dataEncipherment"],
  [x509.KeyUsageFlags.keyAgreement, "keyAgreement"],
  [x509.KeyUsageFlags.keyCertSign, "keyCertSign"],
  [x509.KeyUsageFlags.cRLSign, "cRLSign"],
  [x509.KeyUsageFlags.encipherOnly, "encipherOnly"],
  [x509.KeyUsageFlags.decipherOnly, "decipherOnly"],
];

const EKU_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(x509.ExtendedKeyUsage).map(([name, oid]) => [oid, name]),
);

export { splitPemBlocks };

/** Parses one certificate (PEM or DER). Throws the parser's error; callers name the file. */
export function parseCert(input: string | Buffer, now: Date = new Date()): ParsedCert {
  const node = new NodeCert(input);
  const peculiar = new x509.X509Certificate(node.raw);
  const pem = node.toString();
  return { pem, node, peculiar, facts: certFacts(node, peculiar, now) };
}

function certFacts(node: NodeCert, cert: x509.X509Certificate, now: Date): CertFacts {
  const notBefore = new Date(node.validFrom);
  const notAfter = new Date(node.validTo);
  const tbs = AsnConvert.parse(node.raw, Certificate).tbsCertificate;
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const nc = cert.extensions.find((e) => e.type === id_ce_nameConstraints);
  return {
    subject: oneLineName(node.subject),
    issuer: oneLineName(node.issuer),
    serial: node.serialNumber.toUpperCase(),
    version: tbs.version + 1,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
    validity: now > notAfter ? "expired" : now < notBefore ? "not-yet-valid" : "valid",
    key: describeKey(node.publicKey),
    keyBits: keyBitsOf(node.publicKey),
    signatureAlgorithm: signatureName(cert),
    sans: san ? san.names.items.map((n) => formatGeneralName(n.type, n.value)) : [],
    keyUsage: ku ? KEY_USAGE_NAMES.filter(([flag]) => (ku.usages & flag) !== 0).map(([, name]) => name) : null,
    keyUsageCritical: ku?.critical ?? false,
    extendedKeyUsage: eku ? eku.usages.map((u) => EKU_NAMES[String(u)] ?? String(u)) : null,
    basicConstraints: bc ? { ca: bc.ca, pathLength: bc.pathLength ?? null, critical: bc.critical } : null,
    nameConstraints: nc ? nameConstraintsFacts(nc) : null,
    subjectKeyId: ski ? colonHex(ski.keyId) : null,
    authorityKeyId: aki?.keyId ? colonHex(aki.keyId) : null,
    selfSigned: isSelfSigned(node),
    extensionCount: cert.extensions.length,
    extensions: cert.extensions.map((e) => ({ oid: e.type, critical: e.critical })),
    fingerprint: node.fingerprint256,
  };
}

/** Node's "CN=a\nO=b" as "CN=a, O=b" (describeCert's form). */
export function oneLineName(name: string): string {
  return name.split("\n").join(", ");
}

function signatureName(cert: x509.X509Certificate): string {
  try {
    const alg = cert.signatureAlgorithm;
    return `${alg.name} with ${alg.hash.name}`;
  } catch {
    return "unknown";
  }
}

export function formatGeneralName(type: string, value: string): string {
  const prefix: Record<string, string> = { dns: "DNS", ip: "IP", email: "email", url: "URI" };
  return `${prefix[type] ?? type}:${value}`;
}

function nameConstraintsFacts(ext: x509.Extension): NameConstraintsFacts {
  const nc = AsnConvert.parse(ext.value, NameConstraints);
  const list = (subtrees: NameConstraints["permittedSubtrees"]) =>
    subtrees ? Array.from(subtrees, (s) => formatSubtree(s.base)) : [];
  return { permitted: list(nc.permittedSubtrees), excluded: list(nc.excludedSubtrees), critical: ext.critical };
}

/** A name-constraint subtree, in the same "DNS:x" / "IP:10.0.0.0/8" notation as SANs. */
function formatSubtree(base: AsnGeneralName): string {
  if (base.dNSName !== undefined) return `DNS:${base.dNSName}`;
  if (base.rfc822Name !== undefined) return `email:${base.rfc822Name}`;
  if (base.uniformResourceIdentifier !== undefined) return `URI:${base.uniformResourceIdentifier}`;
  if (base.iPAddress !== undefined) return `IP:${base.iPAddress}`; // asn1-x509 already writes address/mask as CIDR
  if (base.directoryName !== undefined) return `DirName:${new x509.Name(base.directoryName).toString()}`;
  return "other";
}

function colonHex(hex: string): string {
  return hex.toUpperCase().replace(/(..)(?!$)/g, "$1:");
}
