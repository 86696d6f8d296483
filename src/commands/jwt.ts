/**
 * `mtls-certs jwt`: the gateway's JWT signing keys (`make certs-jwt` / `certs-jwt-ecdsa`):
 * certs/jwt/private.pem + public.pem (RSA 4096) or ec_private.pem + ec_public.pem (P-256).
 * Keys only, no certificate: the gateway reads them through JWT_PRIVATE_KEY_PATH and
 * JWT_PUBLIC_KEY_PATH.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_OUT } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { generateKey, keyTypeOf, type KeyType } from "../pki/keys.js";
import { certsDirOf, jwtFiles, treePaths } from "../store/paths.js";
import { withOutputDirectory } from "../store/tree-access.js";
import { CERT_MODE, KEY_MODE, exists, readText, writeFileAtomically } from "../store/write.js";

export interface JwtOptions {
  /** The mcp tree; its parent (certs/) holds jwt/. Default certs/mcp. */
  out?: string;
  /** Where the keys go. Default `<parent of out>/jwt`. */
  dir?: string;
  /** P-256 (ES256) instead of RSA 4096 (RS256). */
  ecdsa?: boolean;
  lockWaitMs?: number;
  onProgress?: (message: string) => void;
}

export interface JwtKeyResult {
  readonly role: "jwt-private" | "jwt-public";
  readonly file: string;
  readonly action: "created" | "kept";
  readonly keyType: KeyType;
}

export interface JwtReport {
  readonly root: string;
  readonly keys: JwtKeyResult[];
  readonly warnings: string[];
}

/** The Makefile's key types: RSA 4096 for RS256, P-256 for ES256. */
const JWT_KEY_TYPE = { rsa: "rsa4096", ecdsa: "ecdsa-p256" } as const satisfies Record<string, KeyType>;

export async function issueJwtKeys(o: JwtOptions = {}): Promise<JwtReport> {
  const keyType = o.ecdsa ? JWT_KEY_TYPE.ecdsa : JWT_KEY_TYPE.rsa;
  const files = jwtFiles(o.dir ?? join(certsDirOf(treePaths(o.out ?? DEFAULT_OUT)), "jwt"), Boolean(o.ecdsa));
  return withOutputDirectory(files.dir, o, async () => {
    const [hasPrivate, hasPublic] = await Promise.all([exists(files.privateKey), exists(files.publicKey)]);
    if (hasPublic && !hasPrivate) {
      throw new MtlsError(
        "E_CERT_WITHOUT_KEY",
        `${files.publicKey}: the public key has no private key (${files.privateKey} is missing)`,
        `restore the private key, or remove ${files.publicKey} to make a new pair`,
      );
    }
    let privatePem: string;
    if (hasPrivate) {
      privatePem = (await readText(files.privateKey)) ?? "";
      const type = readableKeyType(privatePem, files.privateKey);
      if (type !== keyType)
        throw new MtlsError("E_DAMAGED", `${files.privateKey}: holds a ${type} key, expected ${keyType}`);
    } else {
      o.onProgress?.(`generating 1 ${keyType} key`);
      privatePem = (await generateKey(keyType)).privateKeyPem;
      await writeFileAtomically(files.privateKey, privatePem, { mode: KEY_MODE });
    }
    // A public key missing next to its private key is what a killed run leaves: derive it again.
    if (!hasPublic) {
      const publicPem = createPublicKey(privatePem).export({ type: "spki", format: "pem" }).toString();
      await writeFileAtomically(files.publicKey, publicPem, { mode: CERT_MODE });
    }
    return {
      root: files.dir,
      keys: [
        { role: "jwt-private", file: files.privateKey, action: hasPrivate ? "kept" : "created", keyType },
        { role: "jwt-public", file: files.publicKey, action: hasPublic ? "kept" : "created", keyType },
      ],
      warnings: [],
    };
  });
}

function readableKeyType(pem: string, file: string): KeyType | string {
  try {
    const key = createPrivateKey(pem);
    return keyTypeOf(key) ?? key.asymmetricKeyType ?? "unknown";
  } catch {
    throw new MtlsError(
      "E_DAMAGED",
      `${file}: not a readable unencrypted private key`,
      `restore it, or remove it to make a new pair`,
    );
  }
}
