/**
 * Key pairs. Node's own crypto generates them: its async `generateKeyPair` runs in libuv's
 * thread pool, so several RSA keys are made at once across cores (the @peculiar/webcrypto
 * polyfill makes them one after another). @peculiar/x509 then signs with webcrypto keys
 * imported from the same bytes.
 */
import * as asn1js from "asn1js";
import {
  createCipheriv,
  createPrivateKey,
  pbkdf2Sync,
  randomBytes,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  webcrypto,
  type KeyObject,
} from "node:crypto";
import { promisify } from "node:util";
import { PBKDF2_ITERATIONS } from "../defaults.js";
import { MtlsError } from "../errors.js";

const generateKeyPairAsync = promisify(generateKeyPairCb);

/** The key types every issuing command takes (`--key-type`). */
export const KEY_TYPES = {
  rsa4096: { kind: "rsa", bits: 4096 },
  rsa3072: { kind: "rsa", bits: 3072 },
  rsa2048: { kind: "rsa", bits: 2048 },
  "ecdsa-p256": { kind: "ec", curve: "P-256", hash: "SHA-256" },
  "ecdsa-p384": { kind: "ec", curve: "P-384", hash: "SHA-384" },
} as const;

export type KeyType = keyof typeof KEY_TYPES;

export function parseKeyType(value: string, source = "--key-type"): KeyType {
  if (Object.hasOwn(KEY_TYPES, value)) return value as KeyType;
  throw new MtlsError(
    "E_BAD_KEY_TYPE",
    `${source}: unknown key type "${value}"`,
    `use one of: ${Object.keys(KEY_TYPES).join(", ")}`,
  );
}

/** A private key as PEM (what goes on disk) and as webcrypto keys (what signs). */
export interface KeyPair {
  readonly type: KeyType;
  /** Unencrypted PKCS#8 PEM. Never printed. */
  readonly privateKeyPem: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/** The webcrypto algorithm a key of this type signs with (and is imported as). */
export function signingAlgorithm(type: KeyType): RsaHashedImportParams | (EcKeyImportParams & { hash: string }) {
  const spec = KEY_TYPES[type];
  // SHA-256 for RSA, as the seed requires; P-384 pairs with SHA-384 (RFC 5480 section 4).
  return spec.kind === "rsa"
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: spec.curve, hash: spec.hash };
}

export async function generateKey(type: KeyType): Promise<KeyPair> {
  const spec = KEY_TYPES[type];
  const { privateKey } =
    spec.kind === "rsa"
      ? await generateKeyPairAsync("rsa", { modulusLength: spec.bits, publicExponent: 0x10001 })
      : await generateKeyPairAsync("ec", { namedCurve: spec.curve });
  return keyPairFromKeyObject(privateKey, type);
}

async function keyPairFromKeyObject(key: KeyObject, type: KeyType): Promise<KeyPair> {
  const algorithm = signingAlgorithm(type);
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]),
    webcrypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]),
  ]);
  return { type, privateKeyPem: key.export({ type: "pkcs8", format: "pem" }).toString(), privateKey, publicKey };
}

/** The KeyType of a Node key object, or undefined for keys we do not issue with. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "rsa") {
    if (d?.modulusLength === 4096) return "rsa4096";
    if (d?.modulusLength === 3072) return "rsa3072";
    if (d?.modulusLength === 2048) return "rsa2048";
  }
  if (key.asymmetricKeyType === "ec") {
    if (d?.namedCurve === "prime256v1") return "ecdsa-p256";
    if (d?.namedCurve === "secp384r1") return "ecdsa-p384";
  }
  return undefined;
}

/** A human name for a key: "RSA 4096", "EC P-256". */
export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "rsa") return `RSA ${d?.modulusLength ?? "?"}`;
  if (key.asymmetricKeyType === "ec")
    return `EC ${d?.namedCurve === "prime256v1" ? "P-256" : d?.namedCurve === "secp384r1" ? "P-384" : (d?.namedCurve ?? "?")}`;
  return (key.asymmetricKeyType ?? "unknown").toUpperCase();
}

/** Bits of an RSA modulus or an EC curve; null for other keys. */
export function keyBitsOf(key: KeyObject): number | null {
  const d = key.asymmetricKeyDetails;
  if (d?.modulusLength !== undefined) return d.modulusLength;
  const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
  return d?.namedCurve !== undefined ? (curveBits[d.namedCurve] ?? null) : null;
}

/**
 * Reads a PEM private key (plain or encrypted PKCS#8, or PKCS#1 as older openssl wrote it).
 * `file` only names the key in errors; the key bytes never appear in a message.
 */
export async function importPrivateKey(pem: string, file: string, passphrase?: string): Promise<KeyPair> {
  const key = openPrivateKey(pem, file, passphrase);
  const type = keyTypeOf(key);
  if (!type)
    throw new MtlsError(
      "E_DAMAGED",
      `${file}: unsupported key (${describeKey(key)})`,
      `supported: ${Object.keys(KEY_TYPES).join(", ")}`,
    );
  return keyPairFromKeyObject(key, type);
}

/** A PEM private key of any type as a Node key object; errors as `importPrivateKey`'s. */
export function openPrivateKey(pem: string, file: string, passphrase?: string): KeyObject {
  try {
    return createPrivateKey(
      passphrase === undefined ? { key: pem, format: "pem" } : { key: pem, format: "pem", passphrase },
    );
  } catch {
    const encrypted = pem.includes("ENCRYPTED");
    if (encrypted && passphrase === undefined)
      throw new MtlsError(
        "E_PASSPHRASE",
        `${file}: the key is encrypted and no passphrase was given`,
        "pass --key-passphrase-env VAR with the passphrase in that variable",
      );
    if (encrypted) throw new MtlsError("E_PASSPHRASE", `${file}: wrong passphrase for the encrypted key`);
    throw new MtlsError("E_DAMAGED", `${file}: not a readable private key`);
  }
}

const OID = {
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  hmacWithSha256: "1.2.840.113549.2.9",
  aes256Cbc: "2.16.840.1.101.3.4.1.42",
} as const;

/**
 * Encrypted PKCS#8 (RFC 8018 PBES2: PBKDF2-HMAC-SHA256 with PBKDF2_ITERATIONS, AES-256-CBC), what
 * OpenSSL and Python's load_cert_chain(password=) open. Built here because Node's KeyObject.export
 * with a cipher uses OpenSSL's default of 2048 iterations, and takes no count.
 */
export function encryptPrivateKeyPem(pem: string, passphrase: string, iterations = PBKDF2_ITERATIONS): string {
  const pkcs8 = createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, iterations, 32, "sha256");
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  const encrypted = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  const oid = (value: string) => new asn1js.ObjectIdentifier({ value });
  const der = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [
          oid(OID.pbes2),
          new asn1js.Sequence({
            value: [
              new asn1js.Sequence({
                value: [
                  oid(OID.pbkdf2),
                  new asn1js.Sequence({
                    value: [
                      new asn1js.OctetString({ valueHex: salt }),
                      new asn1js.Integer({ value: iterations }),
                      new asn1js.Sequence({ value: [oid(OID.hmacWithSha256), new asn1js.Null()] }),
                    ],
                  }),
                ],
              }),
              new asn1js.Sequence({ value: [oid(OID.aes256Cbc), new asn1js.OctetString({ valueHex: iv })] }),
            ],
          }),
        ],
      }),
      new asn1js.OctetString({ valueHex: encrypted }),
    ],
  }).toBER(false);
  const base64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${base64.replace(/\n$/, "")}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}

/**
 * Why an encrypted PEM key cannot be opened with any passphrase, read without one: a truncated
 * or fake `ENCRYPTED` file is invalid, not skipped (issue 13 §4). Undefined when well formed.
 * Checks the envelope only (EncryptedPrivateKeyInfo, or OpenSSL's traditional Proc-Type/DEK-Info):
 * a known algorithm, and ciphertext whole blocks of its cipher.
 */
export function encryptedKeyProblem(pem: string): string | undefined {
  const traditional =
    /-----BEGIN ([A-Z ]+) PRIVATE KEY-----\r?\nProc-Type: 4,ENCRYPTED\r?\nDEK-Info: ([A-Z0-9-]+),([0-9A-Fa-f]+)\r?\n\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1 PRIVATE KEY-----/.exec(
      pem,
    );
  if (traditional) {
    const block = /^(AES-(128|192|256)-CBC)$/.test(traditional[2]!)
      ? 16
      : /^(DES-EDE3-CBC|DES-CBC)$/.test(traditional[2]!)
        ? 8
        : 0;
    if (block === 0) return `unknown cipher ${traditional[2]} in DEK-Info`;
    if (traditional[3]!.length !== block * 2) return "the DEK-Info IV has the wrong length";
    const body = Buffer.from(traditional[4]!.replace(/\s+/g, ""), "base64");
    if (body.length === 0 || body.length % block !== 0)
      return "the encrypted data is not whole cipher blocks (truncated?)";
    return undefined;
  }
  const match = /-----BEGIN ENCRYPTED PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END ENCRYPTED PRIVATE KEY-----/.exec(pem);
  if (!match) return "not a PEM encrypted private key (no complete ENCRYPTED PRIVATE KEY block)";
  const der = Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset === -1 || parsed.offset !== der.length) return "not DER (truncated or damaged)";
  const top = parsed.result;
  const [algorithm, data] = top instanceof asn1js.Sequence ? top.valueBlock.value : [];
  if (!(algorithm instanceof asn1js.Sequence) || !(data instanceof asn1js.OctetString))
    return "not an EncryptedPrivateKeyInfo";
  const [algorithmOid, params] = algorithm.valueBlock.value;
  if (!(algorithmOid instanceof asn1js.ObjectIdentifier)) return "not an EncryptedPrivateKeyInfo";
  const ciphertext = data.valueBlock.valueHexView.byteLength;
  if (algorithmOid.valueBlock.toString() !== OID.pbes2) {
    // PKCS#12 PBEs (3DES, RC2) and PBES1: 8-byte blocks.
    return ciphertext === 0 || ciphertext % 8 !== 0 ? "the encrypted data is not whole cipher blocks" : undefined;
  }
  const [kdf, scheme] = params instanceof asn1js.Sequence ? params.valueBlock.value : [];
  const [kdfOid] = kdf instanceof asn1js.Sequence ? kdf.valueBlock.value : [];
  const [schemeOid, iv] = scheme instanceof asn1js.Sequence ? scheme.valueBlock.value : [];
  if (!(kdfOid instanceof asn1js.ObjectIdentifier) || !(schemeOid instanceof asn1js.ObjectIdentifier))
    return "PBES2 parameters are damaged";
  const cipher = schemeOid.valueBlock.toString();
  const block = cipher.startsWith("2.16.840.1.101.3.4.1.") ? 16 : cipher === "1.2.840.113549.3.7" ? 8 : 0;
  if (block === 0) return `unknown PBES2 cipher ${cipher}`;
  if (!(iv instanceof asn1js.OctetString) || iv.valueBlock.valueHexView.byteLength !== block)
    return "the PBES2 IV has the wrong length";
  if (ciphertext === 0 || ciphertext % block !== 0) return "the encrypted data is not whole cipher blocks (truncated?)";
  return undefined;
}
