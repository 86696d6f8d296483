/**
 * Reading PKCS#12 (.p12/.pfx) with pkijs, the library `export p12` writes them with: the MAC is
 * checked with the password, PBES2-encrypted safe contents and shrouded key bags are decrypted.
 * OpenSSL 3's defaults (PBES2, AES-256-CBC, HMAC-SHA256) are what it reads; the legacy RC2/3DES
 * encryption of old exports is refused with how to convert it.
 */
import * as asn1js from "asn1js";
import { createPrivateKey, webcrypto, type KeyObject } from "node:crypto";
import * as pkijs from "pkijs";
import { MtlsError } from "../errors.js";

export interface Pkcs12Contents {
  /** DER certificates, in file order. */
  readonly certificates: Buffer[];
  readonly keys: KeyObject[];
}

const BAG = {
  key: "1.2.840.113549.1.12.10.1.1",
  shroudedKey: "1.2.840.113549.1.12.10.1.2",
  cert: "1.2.840.113549.1.12.10.1.3",
} as const;

/** Undefined when the bytes are not a PFX at all, so callers can try other formats. */
export async function readPkcs12(
  bytes: Buffer,
  file: string,
  password: string | undefined,
): Promise<Pkcs12Contents | undefined> {
  let pfx: pkijs.PFX;
  try {
    const asn = asn1js.fromBER(new Uint8Array(bytes));
    if (asn.offset === -1) return undefined;
    pfx = new pkijs.PFX({ schema: asn.result });
  } catch {
    return undefined;
  }
  if (password === undefined)
    throw new MtlsError(
      "E_PASSPHRASE",
      `${file}: a PKCS#12 file needs its password`,
      "pass --password-env VAR with the password in that variable",
    );
  const engine = new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as Crypto });
  const secret = toArrayBuffer(new TextEncoder().encode(password));
  try {
    await pfx.parseInternalValues({ password: secret, checkIntegrity: true }, engine);
  } catch {
    throw new MtlsError("E_PASSPHRASE", `${file}: wrong password (the PKCS#12 MAC does not verify)`);
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new MtlsError("E_DAMAGED", `${file}: a PKCS#12 file without content`);
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: secret })) }, engine);
  } catch {
    throw new MtlsError(
      "E_USAGE",
      `${file}: encrypted with a legacy PKCS#12 algorithm (RC2 or 3DES)`,
      `convert it: openssl pkcs12 -legacy -in ${file} -nodes | openssl pkcs12 -export -out new.p12`,
    );
  }
  const certificates: Buffer[] = [];
  const keys: KeyObject[] = [];
  for (const contents of safe.parsedValue?.safeContents ?? []) {
    for (const bag of contents.value.safeBags) {
      if (bag.bagId === BAG.cert) {
        const cert = (bag.bagValue as pkijs.CertBag).parsedValue;
        if (cert instanceof pkijs.Certificate) certificates.push(Buffer.from(cert.toSchema().toBER(false)));
      } else if (bag.bagId === BAG.shroudedKey) {
        // An EncryptedPrivateKeyInfo: OpenSSL (through node:crypto) decrypts it with the same password.
        keys.push(
          privateKey(Buffer.from((bag.bagValue as pkijs.PKCS8ShroudedKeyBag).toSchema().toBER(false)), file, password),
        );
      } else if (bag.bagId === BAG.key) {
        keys.push(privateKey(Buffer.from((bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER(false)), file));
      }
    }
  }
  return { certificates, keys };
}

function privateKey(der: Buffer, file: string, passphrase?: string): KeyObject {
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8", passphrase });
  } catch {
    throw new MtlsError("E_DAMAGED", `${file}: holds a private key that cannot be read`);
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
