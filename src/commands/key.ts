/**
 * `mtls-certs key decrypt`: a plain copy of an encrypted key (`make certs-remove-passphrase`),
 * for a server that cannot take a passphrase. The passphrase comes from an env var, never from
 * the command line (it would show in `ps`).
 */
import { basename, dirname, extname, join } from "node:path";
import { MtlsError } from "../errors.js";
import { describeKey, openPrivateKey } from "../pki/keys.js";
import { assertCaKeyOutsideTrees, checkOutputFile } from "../store/output-file.js";
import { KEY_MODE, readText, writeFileAtomically } from "../store/write.js";

export interface DecryptKeyOptions {
  /** The passphrase the key is encrypted with. */
  passphrase: string;
  /** Where the plain copy goes. Default: `key-encrypted.pem` → `key.pem`, else `<stem>.decrypted<ext>`. */
  out?: string;
  /** Replace an existing `out`. */
  force?: boolean;
}

export interface DecryptKeyResult {
  readonly from: string;
  readonly key: string;
  /** "RSA 4096", "EC P-256", "ED25519": any key type decrypts, not only the ones we issue. */
  readonly keyType: string;
}

export function defaultDecryptedPath(file: string): string {
  const ext = extname(file);
  const stem = basename(file, ext);
  const plain = /[-._]encrypted$/.test(stem) ? stem.replace(/[-._]encrypted$/, "") : `${stem}.decrypted`;
  return join(dirname(file), `${plain}${ext}`);
}

export async function decryptKey(file: string, o: DecryptKeyOptions): Promise<DecryptKeyResult> {
  const out = o.out ?? defaultDecryptedPath(file);
  const pem = await readText(file);
  if (pem === undefined) throw new MtlsError("E_NOT_FOUND", `${file}: no such file`);
  if (!pem.includes("ENCRYPTED"))
    throw new MtlsError("E_USAGE", `${file}: the key is not encrypted; nothing to decrypt`);
  const target = await checkOutputFile(out, { force: o.force });
  const key = openPrivateKey(pem, file, o.passphrase);
  await assertCaKeyOutsideTrees(key, file, target.path);
  await writeFileAtomically(target.path, key.export({ type: "pkcs8", format: "pem" }).toString(), {
    mode: KEY_MODE,
    replace: target.replace,
  });
  return { from: file, key: out, keyType: describeKey(key) };
}
