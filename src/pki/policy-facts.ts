/**
 * The facts the strict-peer policy judges, read straight from a certificate's DER with a few
 * dozen lines of TLV walking. `check` runs the policy on thousands of leaves (on worker threads
 * past 500), and Node's X509Certificate exposes neither the version, the keyUsage bits, the
 * criticality of basicConstraints nor the signature algorithm; loading @peculiar's ASN.1 stack for
 * that would cost more start-up than checking a whole tree. `inspect` and `verify` keep the full
 * parser (cert-facts.ts), which yields the same fields.
 */
import type { X509Certificate as NodeCert } from "node:crypto";

export interface BasicConstraintsFacts {
  readonly ca: boolean;
  readonly pathLength: number | null;
  readonly critical: boolean;
}

/** What the rules look at. cert-facts.ts (full parser) and policy-facts.ts (fast DER walk) both yield it. */
export interface PolicyFacts {
  readonly subject: string;
  /** 1 or 3. */
  readonly version: number;
  readonly notAfter: string;
  /** "RSA 4096", "EC P-256". */
  readonly key: string;
  readonly keyBits: number | null;
  readonly signatureAlgorithm: string;
  /** "DNS:x", "IP:x", "email:x". */
  readonly sans: readonly string[];
  /** null: no keyUsage extension. */
  readonly keyUsage: readonly string[] | null;
  /** null: no extendedKeyUsage extension (any purpose). */
  readonly extendedKeyUsage: readonly string[] | null;
  readonly basicConstraints: BasicConstraintsFacts | null;
  readonly subjectKeyId: string | null;
  readonly authorityKeyId: string | null;
  readonly extensionCount: number;
  /** Every extension's OID and critical flag, in the order the cert lists them (repeats kept). */
  readonly extensions: ReadonlyArray<{ readonly oid: string; readonly critical: boolean }>;
}

interface Tlv {
  readonly tag: number;
  /** Start of the value. */
  readonly start: number;
  /** End of the value (exclusive). */
  readonly end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new Error("unsupported DER length");
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  const end = start + length;
  if (end > der.length) throw new Error("truncated DER");
  return { tag, start, end };
}

/** The TLVs inside a constructed value. */
function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const tlv = readTlv(der, at);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

function oidText(der: Uint8Array, tlv: Tlv): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = tlv.start; i < tlv.end; i++) {
    value = value * 128 + (der[i]! & 0x7f);
    if ((der[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

/** Names as OpenSSL prints them; the policy only asks whether the hash is SHA-1 or weaker. */
const SIGNATURE_NAMES: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.3.14.3.2.29": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.10": "rsassaPss",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
  "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
  "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
  "1.2.840.10040.4.3": "dsa-with-SHA1",
  "1.3.101.112": "ED25519",
  "1.3.101.113": "ED448",
};

const KEY_USAGE_BITS = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;

const EKU_NAMES: Readonly<Record<string, string>> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  "1.3.6.1.5.5.7.3.3": "codeSigning",
  "1.3.6.1.5.5.7.3.4": "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "ocspSigning",
  "2.5.29.37.0": "anyExtendedKeyUsage",
};

/** Named curves as describeKey (keys.ts) names them. */
const CURVES: Readonly<Record<string, [string, number]>> = {
  "1.2.840.10045.3.1.7": ["P-256", 256],
  "1.3.132.0.34": ["P-384", 384],
  "1.3.132.0.35": ["P-521", 521],
};

/**
 * "RSA 2048" / "EC P-256" and the bits, from the SubjectPublicKeyInfo's own bytes: building a
 * KeyObject (`cert.publicKey`) for that costs more than the rest of the policy together.
 */
function keyOf(der: Uint8Array, spki: Tlv | undefined): { key: string; keyBits: number | null } {
  if (!spki) return { key: "unknown", keyBits: null };
  const [algorithm, bits] = children(der, spki);
  const [oid, parameter] = algorithm ? children(der, algorithm) : [];
  const id = oid ? oidText(der, oid) : "";
  if (id === "1.2.840.113549.1.1.1" && bits) {
    // BIT STRING: one octet of unused bits, then RSAPublicKey ::= SEQUENCE { modulus INTEGER, … }
    const modulus = children(der, readTlv(der, bits.start + 1))[0];
    if (!modulus) return { key: "RSA ?", keyBits: null };
    let start = modulus.start;
    while (start < modulus.end - 1 && der[start] === 0) start++;
    const size = (modulus.end - start - 1) * 8 + (32 - Math.clz32(der[start]!));
    return { key: `RSA ${size}`, keyBits: size };
  }
  if (id === "1.2.840.10045.2.1") {
    const curve = parameter?.tag === TAG.oid ? oidText(der, parameter) : "";
    const named = CURVES[curve];
    return named ? { key: `EC ${named[0]}`, keyBits: named[1] } : { key: `EC ${curve || "?"}`, keyBits: null };
  }
  if (id === "1.3.101.112") return { key: "ED25519", keyBits: null };
  if (id === "1.3.101.113") return { key: "ED448", keyBits: null };
  return { key: "unknown", keyBits: null };
}

const TAG = { boolean: 0x01, integer: 0x02, bitString: 0x03, octetString: 0x04, oid: 0x06, sequence: 0x30 };

/** The policy's facts of one certificate Node has parsed. Throws on DER it cannot walk. */
export function readPolicyFacts(cert: NodeCert, sans: readonly string[]): PolicyFacts {
  const der = new Uint8Array(cert.raw);
  const [tbs, sigAlg] = children(der, readTlv(der, 0));
  if (!tbs || !sigAlg) throw new Error("not a certificate");
  const fields = children(der, tbs);
  const versioned = fields[0]?.tag === 0xa0;
  const version = versioned ? der[readTlv(der, fields[0]!.start).start]! + 1 : 1;
  const extensionsField = fields.find((f) => f.tag === 0xa3);
  const facts = {
    subject: cert.subject.split("\n").join(", "),
    version,
    notAfter: new Date(cert.validTo).toISOString(),
    ...keyOf(der, fields[versioned ? 6 : 5]),
    signatureAlgorithm: SIGNATURE_NAMES[oidText(der, children(der, sigAlg)[0]!)] ?? "unknown",
    sans: [...sans],
    keyUsage: null as string[] | null,
    extendedKeyUsage: null as string[] | null,
    basicConstraints: null as PolicyFacts["basicConstraints"],
    subjectKeyId: null as string | null,
    authorityKeyId: null as string | null,
    extensionCount: 0,
    extensions: [] as Array<{ oid: string; critical: boolean }>,
  };
  if (!extensionsField) return facts;
  const extensions = children(der, readTlv(der, extensionsField.start));
  facts.extensionCount = extensions.length;
  for (const extension of extensions) {
    const [id, second, third] = children(der, extension);
    const critical = second?.tag === TAG.boolean && der[second.start] !== 0;
    const value = second?.tag === TAG.octetString ? second : third;
    if (!id || !value) continue;
    facts.extensions.push({ oid: oidText(der, id), critical });
    const inner = readTlv(der, value.start);
    const hex = (t: Tlv) => Buffer.from(der.subarray(t.start, t.end)).toString("hex");
    switch (oidText(der, id)) {
      case "2.5.29.15": {
        const bytes = der.subarray(inner.start + 1, inner.end);
        facts.keyUsage = KEY_USAGE_BITS.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
        break;
      }
      case "2.5.29.37":
        facts.extendedKeyUsage = children(der, inner).map((o) => EKU_NAMES[oidText(der, o)] ?? oidText(der, o));
        break;
      case "2.5.29.19": {
        const parts = children(der, inner);
        const ca = parts[0]?.tag === TAG.boolean && der[parts[0].start] !== 0;
        const lengthField = parts.find((p) => p.tag === TAG.integer);
        let pathLength: number | null = null;
        if (lengthField) {
          pathLength = 0;
          for (let i = lengthField.start; i < lengthField.end; i++) pathLength = pathLength * 256 + der[i]!;
        }
        facts.basicConstraints = { ca, pathLength, critical };
        break;
      }
      case "2.5.29.14":
        facts.subjectKeyId = hex(inner);
        break;
      case "2.5.29.35": {
        // Only the keyIdentifier ([0]) counts, as cert-facts.ts reads it.
        const keyId = children(der, inner).find((p) => p.tag === 0x80);
        facts.authorityKeyId = keyId ? hex(keyId) : null;
        break;
      }
    }
  }
  return facts;
}
