/**
 * Whether a private key is the private half of a certificate's public key, judged from the
 * private part alone.
 *
 * A key file in a leaf directory is the attacker's. The public part it merely carries (an RSA
 * key's modulus and exponent, an EC key's optional public point) can be copied from the cert
 * while the private part is another key's, the CA's say. OpenSSL's X509_check_private_key (Node's
 * `checkPrivateKey`) and `createPublicKey(privateKey)` compare that carried part, so neither is
 * used to match a key to a cert:
 * - RSA: the modulus must be the product of the key's own primes, and the CRT values a signer
 *   uses consistent with them; only then are its n and e compared with the cert's.
 * - EC: the public point is computed from the private scalar (ECDH does one multiplication), then
 *   compared.
 * - Any other key: a signature made with it must verify with the cert's key.
 * `privateKeyPemMatches` is check's fast path: a P-256 or P-384 PKCS#8 file in exactly the shape
 * Node and openssl write is read without OpenSSL's key decoders (~0.5 ms a key); every other file
 * goes through them, then through the same rules.
 */
import { X509Certificate as NodeCert, createECDH, sign, verify, type KeyObject } from "node:crypto";
import { openPrivateKey } from "./keys.js";

/** A public key as the numbers that make it, one string: equal strings, one key. */
type PublicNumbers = string;

/** A JWK curve name, the name ECDH knows it by, and its PKCS#8 shape (RFC 5208 around RFC 5915). */
const CURVES: Record<string, { ecdh: string; size: number; head: string; middle: string }> = {
  "P-256": {
    ecdh: "prime256v1",
    size: 32,
    head: "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420",
    middle: "a14403420004",
  },
  "P-384": {
    ecdh: "secp384r1",
    size: 48,
    head: "3081b6020100301006072a8648ce3d020106052b8104002204819e30819b0201010430",
    middle: "a16403620004",
  },
};

const certNumbers = new WeakMap<NodeCert, PublicNumbers>();

/** The numbers of a public key (a cert's): RSA n and e, an EC curve and point, else its SPKI. */
export function publicNumbersOf(key: KeyObject): PublicNumbers {
  const jwk = key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "ec" ? key.export({ format: "jwk" }) : {};
  if (jwk.kty === "RSA") return `RSA ${jwk.n} ${jwk.e}`;
  if (jwk.kty === "EC") return `EC ${jwk.crv} ${jwk.x} ${jwk.y}`;
  return `SPKI ${key.export({ type: "spki", format: "der" }).toString("base64")}`;
}

/** A cert's public numbers, computed once per cert object (check compares each leaf with every CA). */
export function certPublicNumbers(cert: NodeCert): PublicNumbers {
  let numbers = certNumbers.get(cert);
  if (numbers === undefined) {
    numbers = publicNumbersOf(cert.publicKey);
    certNumbers.set(cert, numbers);
  }
  return numbers;
}

/** Two certs carry one public key. */
export function sameCertKey(a: NodeCert, b: NodeCert): boolean {
  return certPublicNumbers(a) === certPublicNumbers(b);
}

const big = (b64url: string | undefined): bigint =>
  b64url === undefined ? 0n : BigInt(`0x0${Buffer.from(b64url, "base64url").toString("hex")}`);

/**
 * The public numbers a private key's private part makes; null when its parts do not make one key
 * (a modulus that is not p·q); undefined for a key type this reads no numbers from.
 */
export function derivedPublicNumbers(key: KeyObject): PublicNumbers | null | undefined {
  if (key.asymmetricKeyType === "ec") {
    const jwk = key.export({ format: "jwk" });
    const curve = CURVES[jwk.crv ?? ""];
    if (curve === undefined || jwk.d === undefined) return undefined;
    return ecNumbers(jwk.crv!, curve, Buffer.from(jwk.d, "base64url"));
  }
  if (key.asymmetricKeyType !== "rsa") return undefined;
  const jwk = key.export({ format: "jwk" });
  if (jwk.p === undefined || jwk.q === undefined) return undefined;
  const [n, e, p, q, dp, dq, qi] = [jwk.n, jwk.e, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi].map(big) as bigint[];
  const consistent =
    p! > 1n &&
    q! > 1n &&
    p! * q! === n &&
    (e! * dp!) % (p! - 1n) === 1n &&
    (e! * dq!) % (q! - 1n) === 1n &&
    (q! * qi!) % p! === 1n;
  return consistent ? `RSA ${jwk.n} ${jwk.e}` : null;
}

function ecNumbers(crv: string, curve: (typeof CURVES)[string], d: Buffer): PublicNumbers | null {
  const ecdh = createECDH(curve.ecdh);
  try {
    ecdh.setPrivateKey(d); // refuses 0 and anything not below the curve's order
  } catch {
    return null;
  }
  const point = ecdh.getPublicKey(); // 04 || x || y
  const x = point.subarray(1, 1 + curve.size).toString("base64url");
  const y = point.subarray(1 + curve.size).toString("base64url");
  return `EC ${crv} ${x} ${y}`;
}

/** The key's private part signs what the public key verifies (a private part makes it, never a carried one). */
function signsFor(publicKey: KeyObject, key: KeyObject): boolean {
  const message = Buffer.from("mtls-certs: does this key belong to this certificate?");
  const digest = key.asymmetricKeyType === "ed25519" || key.asymmetricKeyType === "ed448" ? null : "sha256";
  try {
    return verify(digest, message, publicKey, sign(digest, message, key));
  } catch {
    return false;
  }
}

/**
 * Whether `key` (an opened private key) is the private half of `of`: a cert's public key, or a
 * public key (a CA's, to refuse a CA key planted as a leaf's).
 */
export function privateKeyMatches(of: NodeCert | KeyObject, key: KeyObject): boolean {
  const derived = derivedPublicNumbers(key);
  if (derived === null) return false;
  if (of instanceof NodeCert)
    return derived === undefined ? signsFor(of.publicKey, key) : derived === certPublicNumbers(of);
  return derived === undefined ? signsFor(of, key) : derived === publicNumbersOf(of);
}

/**
 * `privateKeyMatches` for a PEM text: the canonical P-256 and P-384 PKCS#8 files Node and
 * openssl write are read here (their bytes must be exactly that shape, so OpenSSL reads the same
 * scalar); any other file is opened by OpenSSL (`file` names it in errors: E_DAMAGED or E_PASSPHRASE).
 */
export function privateKeyPemMatches(cert: NodeCert, pem: string, file: string): boolean {
  const derived = canonicalEcNumbers(pem);
  if (derived !== undefined) return derived === certPublicNumbers(cert);
  return privateKeyMatches(cert, openPrivateKey(pem, file));
}

/**
 * The public numbers of a canonical EC PKCS#8 PEM, from its scalar; undefined when the text is not
 * exactly one such block (then OpenSSL reads it). The point the file carries must be the one the
 * scalar makes, else the file is not canonical either.
 */
function canonicalEcNumbers(pem: string): PublicNumbers | null | undefined {
  const block = /^-----BEGIN PRIVATE KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PRIVATE KEY-----\r?\n?$/.exec(pem);
  if (!block) return undefined;
  const body = block[1]!.replace(/\r?\n/g, "");
  const der = Buffer.from(body, "base64");
  if (der.toString("base64") !== body) return undefined; // not canonical base64: let OpenSSL judge it
  for (const [crv, curve] of Object.entries(CURVES)) {
    const head = Buffer.from(curve.head, "hex");
    const middle = Buffer.from(curve.middle, "hex");
    if (der.length !== head.length + curve.size + middle.length + 2 * curve.size) continue;
    if (!der.subarray(0, head.length).equals(head)) continue;
    const afterD = head.length + curve.size;
    if (!der.subarray(afterD, afterD + middle.length).equals(middle)) continue;
    const derived = ecNumbers(crv, curve, der.subarray(head.length, afterD));
    if (derived === null) return null;
    const carried = der.subarray(afterD + middle.length);
    const [, , x, y] = derived.split(" ");
    const made = Buffer.concat([Buffer.from(x!, "base64url"), Buffer.from(y!, "base64url")]);
    return carried.equals(made) ? derived : undefined;
  }
  return undefined;
}
