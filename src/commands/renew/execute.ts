/** Re-issuing one leaf: key (new or reused), backup of the old pair, signing and the atomic writes. */
import { X509Certificate as NodeCert } from "node:crypto";
import { promises as fs } from "node:fs";
import { assertNameConstraintsPlan } from "../../pki/constraints.js";
import type { Validity } from "../../pki/issue.js";
import { generateKey, importPrivateKey, keyTypeOf, type KeyPair } from "../../pki/keys.js";
import type { createLimiter } from "../../pki/limiter.js";
import { PROFILES, uniqueSans } from "../../pki/profiles.js";
import type { LoadedCa } from "../../store/ca-store.js";
import type { LeafFiles } from "../../store/paths.js";
import { writeLeaf } from "../../store/tree.js";
import { renewedKeyFile } from "../../store/key-mode.js";
import { CERT_MODE, exists, readText, writeFileAtomically } from "../../store/write.js";
import type { BackupFolder } from "./backup.js";
import { result, stateOf } from "./report.js";
import type { LeafPlan, OldLeaf, RenewOptions, RenewedCert, Signer } from "./types.js";

/** `ca` undefined: the self-signed https cert, signed by its own new key. */
export async function renewLeaf(
  plan: LeafPlan,
  old: OldLeaf,
  ca: LoadedCa | undefined,
  validity: Validity,
  o: RenewOptions,
  limit: ReturnType<typeof createLimiter>,
  backup: BackupFolder,
  signer: Signer,
  warnings: string[],
): Promise<RenewedCert> {
  const { files } = plan;
  const sans = uniqueSans([...old.sans, ...plan.addSans]);
  // A SAN the config added may fall outside the CA's name constraints: refuse before signing.
  if (ca)
    assertNameConstraintsPlan({
      existingCa: ca,
      caExtensions: undefined,
      planned: [{ files, sans }],
      caFile: files.caCopy ?? files.cert,
    });
  // The old key's mode and group carry over (0640 in a container's group, see key-mode.ts).
  const keyFile = await renewedKeyFile(files.key, files.role, warnings);
  const key: KeyPair = o.reuseKey
    ? await importPrivateKey(old.keyPem, files.key, old.keyEncrypted ? o.keyPassphrase : undefined)
    : await limit(() => generateKey(old.keyType));
  await backup.keep(files);
  await writeLeaf(
    {
      files,
      profile: PROFILES[files.role],
      subject: old.peculiar.subjectName,
      sans,
      extensions: old.extensions,
      ...keyFile,
    },
    key,
    ca,
    validity,
    { ...o, keyPassphrase: old.keyEncrypted ? o.keyPassphrase : undefined },
    true,
  );
  const renewed = new NodeCert(await fs.readFile(files.cert));
  return result(
    plan,
    old,
    "renewed",
    Boolean(o.reuseKey),
    stateOf(renewed, keyTypeOf(renewed.publicKey) ?? old.keyType, ca ? signer.role : "self"),
  );
}

/** Every leaf's ca.crt copy holds `pem` afterwards (the rotation bundle, or the CA alone). */
export async function writeCaCopies(leaves: readonly LeafFiles[], pem: string): Promise<void> {
  await Promise.all(
    leaves.map(async (files) => {
      if (files.caCopy === undefined || (await readText(files.caCopy)) === pem) return;
      await writeFileAtomically(files.caCopy, pem, { mode: CERT_MODE, replace: await exists(files.caCopy) });
    }),
  );
}
