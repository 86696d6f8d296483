/**
 * `mtls-certs export p12`: a certificate, its key and the CA chain in one PKCS#12 file, for
 * browsers, Java keystores and Windows. Built with pkijs, as OpenSSL 3 writes it by default:
 * certificates in a PBES2-encrypted SafeContents, the key in a PBES2 shrouded key bag (PBKDF2
 * with HMAC-SHA256, AES-256-CBC), and a PKCS#12 MAC with HMAC-SHA256 — no RC2, 3DES or SHA-1,
 * so OpenSSL 3 opens it without `-legacy`.
 */
import * as asn1js from "asn1js";
import { type X509Certificate as NodeCert, createHash, webcrypto } from "node:crypto";
import { dirname } from "node:path";
import * as pkijs from "pkijs";
import { DEFAULT_OUT, PBKDF2_ITERATIONS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { importPrivateKey } from "../pki/keys.js";
import { keyMatchesCert } from "../store/ca-store.js";
import { findCertificate } from "../store/cert-target.js";
import { assertIssuedHere } from "../store/issued-here.js";
import { treePaths, type TreePaths } from "../store/paths.js";
import { splitPemBlocks } from "../pki/pem.js";
import { checkOutputFile } from "../store/output-file.js";
import { KEY_MODE, exists, readKeyText, readText, writeFileAtomically } from "../store/write.js";
import { certificateOf } from "../pki/node-facts.js";
import { assertLeafKeyBelongs, caPublicKeys } from "../store/leaf-key.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";

/**
 * PBKDF2 and MAC iterations. OpenSSL 3 writes 2048; we spend more, since a stolen .p12 is
 * attacked offline through whichever is cheaper. Java (keytool) and Windows read any count.
 */
export const P12_ITERATIONS = PBKDF2_ITERATIONS;

export interface P12Options {
  /** The tree the CA chain (and a leaf name) comes from. Default `certs/mcp`. */
  tree?: string;
  /** The .p12 file to write; an existing file is not overwritten unless `force`; never inside the tree's ca/. */
  file: string;
  force?: boolean;
  /** The PKCS#12 password. */
  password: string;
  /** The key, for a cert file outside the tree. Default: the leaf's key, or `<cert>.key` next to it. */
  keyFile?: string;
  /** Opens an encrypted private key. */
  keyPassphrase?: string;
}

export interface P12Report {
  file: string;
  cert: string;
  key: string;
  /** Subjects of the certs in the file, the leaf first. */
  chain: string[];
  encryption: string;
}

export async function exportP12(target: string, o: P12Options): Promise<P12Report> {
  const tree = treePaths(o.tree ?? DEFAULT_OUT);
  const { path: file, replace } = await checkOutputFile(o.file, { tree: tree.root, force: o.force });
  const found = await findCertificate(tree, target);
  if (found.files) await assertIssuedHere(tree, found.files, found.pem, "export p12");
  const keyPath = o.keyFile ?? found.keyPath ?? siblingKey(found.certPath);
  const keyPem = await readKeyText(keyPath);
  if (keyPem === undefined)
    throw new MtlsError(
      "E_NOT_FOUND",
      `${keyPath}: missing (the key for ${found.certPath})`,
      "give the key with --key FILE",
    );
  // A leaf's bundle carries the leaf's own key: never one of the tree's CA keys.
  if (found.role !== undefined && found.role !== "ca")
    assertLeafKeyBelongs(
      { cert: found.certPath, key: keyPath, dir: dirname(found.certPath) },
      found.pem,
      keyPem,
      await caPublicKeys(tree),
      o.keyPassphrase,
    );
  const key = await importPrivateKey(keyPem, keyPath, o.keyPassphrase);
  if (!keyMatchesCert(keyPem, found.pem, o.keyPassphrase))
    throw new MtlsError(
      "E_USAGE",
      `${keyPath}: does not match ${found.certPath}`,
      "give the certificate's own key with --key FILE",
    );
  const leaf = found.cert;
  const chain = [leaf, ...(await chainFromTree(tree, leaf, found.certPath))];

  const der = await buildPfx({
    certs: chain.map((c) => c.raw),
    pkcs8: new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", key.privateKey)),
    friendlyName: found.name,
    password: o.password,
  });
  await writeFileAtomically(file, der, { mode: KEY_MODE, replace });
  return {
    file,
    cert: found.certPath,
    key: keyPath,
    chain: chain.map((c) => c.subject.split("\n").join(", ")),
    encryption: `PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), MAC HMAC-SHA256, ${P12_ITERATIONS} iterations`,
  };
}

/** `server.crt` → `server.key`, `client.pem` → `client.key`. */
function siblingKey(certPath: string): string {
  return certPath.replace(/\.(crt|pem|cer)$/i, "") + ".key";
}

/** Leaf first, then each issuer up to the root, from the certs the tree's ca.crt copies hold. */
async function chainFromTree(tree: TreePaths, leaf: NodeCert, certPath: string): Promise<NodeCert[]> {
  const bundleFile = (await exists(tree.caBundle)) ? tree.caBundle : tree.intermediateCert;
  const bundle = (await readText(bundleFile)) ?? "";
  const rootText = await readText(tree.caCert);
  // A ca.crt with no certificate in it is named as such, not as "the leaf's chain is unknown".
  if (rootText !== undefined && splitPemBlocks(rootText).length === 0) certificateOf(rootText, tree.caCert);
  const root = rootText ?? "";
  const candidates = [
    ...splitPemBlocks(bundle).map((p) => certificateOf(p, bundleFile)),
    ...splitPemBlocks(root).map((p) => certificateOf(p, tree.caCert)),
  ];
  const chain: NodeCert[] = [];
  let current = leaf;
  while (!isSelfSigned(current)) {
    const issuer = candidates.find((c) => isIssuedBy(current, c) && !chain.includes(c));
    if (!issuer) {
      if (chain.length === 0)
        throw new MtlsError(
          "E_NOT_SIGNED_BY_CA",
          `${certPath}: not signed by the CA of ${tree.root}, so its chain is unknown`,
          "point --tree at the tree whose CA signed it",
        );
      break;
    }
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}

interface PfxContent {
  /** DER certificates, the leaf first. */
  certs: readonly Uint8Array[];
  /** The leaf's unencrypted PKCS#8 DER. */
  pkcs8: Uint8Array;
  friendlyName: string;
  password: string;
}

const BAG = { shroudedKey: "1.2.840.113549.1.12.10.1.2", cert: "1.2.840.113549.1.12.10.1.3" } as const;
const ATTRIBUTE = { friendlyName: "1.2.840.113549.1.9.20", localKeyId: "1.2.840.113549.1.9.21" } as const;

/** The PKCS#12 bytes: what `openssl pkcs12 -export` (OpenSSL 3 defaults) would write. */
export async function buildPfx(c: PfxContent): Promise<Uint8Array> {
  const engine = new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as Crypto });
  const password = toArrayBuffer(new TextEncoder().encode(c.password));
  // No IV here: pkijs draws a fresh random IV and salt for each encryption it makes.
  const aes256Cbc = { name: "AES-CBC", length: 256 } as pkijs.ContentEncryptionAlgorithm;
  const pbes2 = {
    password,
    contentEncryptionAlgorithm: aes256Cbc,
    hmacHashAlgorithm: "SHA-256",
    iterationCount: P12_ITERATIONS,
  };
  // localKeyID pairs the key with its cert: Java's keystore and Windows need it to find the pair.
  const localKeyId = toArrayBuffer(createHash("sha256").update(c.certs[0]!).digest());
  const leafAttributes = [
    new pkijs.Attribute({ type: ATTRIBUTE.friendlyName, values: [new asn1js.BmpString({ value: c.friendlyName })] }),
    new pkijs.Attribute({ type: ATTRIBUTE.localKeyId, values: [new asn1js.OctetString({ valueHex: localKeyId })] }),
  ];
  const certBags = c.certs.map(
    (der, i) =>
      new pkijs.SafeBag({
        bagId: BAG.cert,
        bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(toArrayBuffer(der)) }),
        bagAttributes: i === 0 ? leafAttributes : undefined,
      }),
  );
  const keyBag = new pkijs.SafeBag({
    bagId: BAG.shroudedKey,
    bagValue: new pkijs.PKCS8ShroudedKeyBag({ parsedValue: pkijs.PrivateKeyInfo.fromBER(toArrayBuffer(c.pkcs8)) }),
    bagAttributes: leafAttributes,
  });
  await (keyBag.bagValue as pkijs.PKCS8ShroudedKeyBag).makeInternalValues(pbes2, engine);

  const authenticatedSafe = new pkijs.AuthenticatedSafe({
    parsedValue: {
      safeContents: [
        // privacyMode 1: the certificates encrypted with PBES2; 0: the already-shrouded key as is.
        { privacyMode: 1, value: new pkijs.SafeContents({ safeBags: certBags }) },
        { privacyMode: 0, value: new pkijs.SafeContents({ safeBags: [keyBag] }) },
      ],
    },
  });
  await authenticatedSafe.makeInternalValues({ safeContents: [pbes2, {}] }, engine);
  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues(
    {
      password,
      iterations: P12_ITERATIONS,
      pbkdf2HashAlgorithm: "SHA-256",
      hmacHashAlgorithm: "SHA-256",
    } as pkijs.MakeInternalValuesParams,
    engine,
  );
  return new Uint8Array(pfx.toSchema().toBER(false));
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export function renderP12Report(r: P12Report): string {
  return `wrote ${r.file} (mode 600): ${r.cert}, its key and ${r.chain.length - 1} CA cert(s)\n  ${r.encryption}\n  check: openssl pkcs12 -info -nokeys -in ${r.file}\n`;
}
