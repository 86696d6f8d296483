/**
 * Key pairs. Node's own crypto generates them: its async `generateKeyPair` runs in libuv's
 * thread pool, so several RSA keys are made at once across cores (the @peculiar/webcrypto
 * polyfill makes them one after another). @peculiar/x509 then signs with webcrypto keys
 * imported from the same bytes.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  webcrypto,
  type KeyObject,
} from "node:crypto";
import { promisify } from "node:util";
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

/** Encrypted PKCS#8 (PBES2: PBKDF2 + AES-256-CBC), what Python's load_cert_chain(password=) opens. */
export function encryptPrivateKeyPem(pem: string, passphrase: string): string {
  return createPrivateKey(pem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }).toString();
}
