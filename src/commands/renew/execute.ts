/** Re-issuing one leaf: key (new or reused), backup of the old pair, signing and the atomic writes. */
import { X509Certificate as NodeCert, createHash, createPublicKey, webcrypto } from "node:crypto";
import { MtlsError } from "../../errors.js";
import { assertNameConstraintsPlan } from "../../pki/constraints.js";
import { signCertificate, type Validity } from "../../pki/issue.js";
import { generateKey, importPrivateKey, keyTypeOf, signingAlgorithm, type KeyPair } from "../../pki/keys.js";
import type { createLimiter } from "../../pki/limiter.js";
import { nameRefusalError, requested } from "../../pki/name-policy.js";
import { PROFILES, formatSan, uniqueSans, type San } from "../../pki/profiles.js";
import { refusedNames } from "../../store/leaf-names.js";
import type { LoadedCa } from "../../store/ca-store.js";
import type { LeafFiles } from "../../store/paths.js";
import { readKnown, type KnownFiles } from "../../store/file-facts.js";
import { ledgerEntry } from "../../store/ledger.js";
import type { LedgerBook } from "../../store/ledger-book.js";
import { writeLeaf, writeSignedCert } from "../../store/leaf-write.js";
import { assertLeafKeyBelongs, caPublicKeys } from "../../store/leaf-key.js";
import { renewedKeyFile } from "../../store/key-mode.js";
import { rebuildStaleBundles } from "../../store/leaf-bundles.js";
import { CERT_MODE, writeFileAtomically } from "../../store/write.js";
import type { BackupFolder } from "./backup.js";
import { result, stateOf } from "./report.js";
import type { RenewedCert } from "../../report/renew-types.js";
import type { LeafPlan, OldLeaf, RenewOptions, Signer } from "./types.js";

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
  book: LedgerBook,
  now: Date,
  /** The leaf's files as the run holds them (leaf-read.ts): each write is recorded there. */
  known?: KnownFiles,
): Promise<RenewedCert> {
  const { files } = plan;
  // What the tree signed before stays; an added name passes the name policy first (issue 23 §4).
  const sans = uniqueSans([...old.sans.map((s) => requested(s, "ledger")), ...plan.addSans]);
  const [refusals = []] = refusedNames(book, [{ role: files.role, name: files.name, sans }]);
  if (refusals.length > 0) throw nameRefusalError(refusals);
  const asked = askedSansAfter(old, plan);
  // A SAN the config added may fall outside the CA's name constraints: refuse before signing.
  if (ca)
    assertNameConstraintsPlan({
      existingCa: ca,
      caExtensions: undefined,
      planned: [{ files, sans }],
      caFile: files.caCopy ?? files.cert,
    });
  if (old.fromCsr) return renewSignedFromCsr(plan, old, ca, validity, backup, signer, book, now, sans, asked, known);
  // The old key's mode and group carry over (0640 in a container's group, see key-mode.ts).
  const keyFile = old.keyStat ? renewedKeyFile(files.key, old.keyStat, files.role, warnings) : undefined;
  // The key kept must be this cert's and never a CA's (a copy or link planted in the leaf directory).
  if (o.reuseKey)
    assertLeafKeyBelongs(
      files,
      old.pem,
      old.keyPem,
      signer.caPublicKeys ?? (await caPublicKeys(signer.tree)),
      o.keyPassphrase,
    );
  const key: KeyPair = o.reuseKey
    ? await importPrivateKey(old.keyPem, files.key, old.keyEncrypted ? o.keyPassphrase : undefined)
    : await limit(() => generateKey(old.keyType));
  if (o.reuseKey) assertKeyReusable(files, old, key, book);
  await backup.keep(files, { certPem: old.pem, keyPem: old.keyPem, keyFile });
  const cert = await writeLeaf(
    {
      files,
      profile: PROFILES[files.role],
      // The subject and SANs the tree recorded (the ledger holds this cert's fingerprint); the
      // extensions are the profile's alone: nothing else on the old cert is carried over.
      subject: old.peculiar.subjectName,
      sans,
      ...keyFile,
    },
    key,
    ca,
    validity,
    { ...o, keyPassphrase: old.keyEncrypted ? o.keyPassphrase : undefined },
    true,
    known,
  );
  // A haproxy.pem or fullchain.crt beside the pair still holds the old cert, and a proxy serves
  // it: made again from the new pair (store/leaf-bundles.ts). A kill before this leaves them old,
  // whole and consistent; the next renew's restoreInterrupted rebuilds them.
  await rebuildStaleBundles(signer.tree, files, key.privateKeyPem, book, warnings, known);
  if (ca)
    book.issued(
      ledgerEntry(cert, new NodeCert(ca.cert.toString("pem")), files.role, files.name, "issued", now, asked),
      now,
    );
  // The report tells what was signed and written, not what the name holds a moment later: the
  // leaf's directory is its owner's to write.
  return result(
    plan,
    old,
    "renewed",
    Boolean(o.reuseKey),
    stateOf(cert, keyTypeOf(cert.publicKey) ?? old.keyType, ca ? signer.role : "self"),
  );
}

/**
 * A leaf `sign` made from a CSR: its key is not ours, so the renewed cert is signed for the public
 * key of the cert on disk, which readLeaf checked against the ledger (source "csr", serial, SPKI).
 * Never a new key, never a key file; the ledger entry keeps source "csr" for the next renewal.
 */
async function renewSignedFromCsr(
  plan: LeafPlan,
  old: OldLeaf,
  ca: LoadedCa | undefined,
  validity: Validity,
  backup: BackupFolder,
  signer: Signer,
  book: LedgerBook,
  now: Date,
  sans: San[],
  asked: readonly string[],
  known: KnownFiles | undefined,
): Promise<RenewedCert> {
  const { files } = plan;
  if (ca === undefined)
    throw new MtlsError("E_CA_MISSING", `${files.cert}: signed from a CSR, it needs the tree's CA to renew`);
  const spki = Buffer.from(old.peculiar.publicKey.rawData);
  const publicKey = await webcrypto.subtle.importKey("spki", spki, signingAlgorithm(old.keyType), true, ["verify"]);
  await backup.keep(files, { certPem: old.pem });
  const signed = await signCertificate({
    profile: PROFILES[files.role],
    subject: old.peculiar.subjectName,
    sans,
    key: { type: old.keyType, publicKey: publicKey as unknown as CryptoKey },
    issuer: ca,
    validity,
  });
  const cert = await writeSignedCert(files, signed, ca, true, known);
  book.issued(ledgerEntry(cert, new NodeCert(ca.cert.toString("pem")), files.role, files.name, "csr", now, asked), now);
  return result(plan, old, "renewed", true, stateOf(cert, old.keyType, signer.role));
}

/**
 * `--reuse-key` signs the key found in the leaf's directory again, which whoever can write that
 * directory could have replaced: it must be the key of the cert the ledger recorded, and no cert
 * with this key may have been revoked (for any reason: a superseded key may have leaked too).
 */
function assertKeyReusable(files: LeafFiles, old: OldLeaf, key: KeyPair, book: LedgerBook): void {
  const spki = createHash("sha256")
    .update(createPublicKey(key.privateKeyPem).export({ type: "spki", format: "der" }))
    .digest("hex");
  const hint = `renew it without --reuse-key (\`mtls-certs renew --force ${files.name}\`): a new key is made`;
  if (old.entry !== undefined && spki !== old.entry.spkiSha256)
    throw new MtlsError(
      "E_KEY_REFUSED",
      `${files.key}: not the key of the cert the ledger recorded for ${files.role} ${files.name} (serial ${old.entry.serial}); --reuse-key refuses it`,
      hint,
    );
  const revoked = book.entries.find((e) => e.spkiSha256 === spki && e.status === "revoked");
  if (revoked !== undefined || old.revoked !== undefined)
    throw new MtlsError(
      "E_KEY_REFUSED",
      `${files.key}: ${revoked ? `its cert serial ${revoked.serial} was revoked (${revoked.reason ?? "unspecified"}, ${revoked.revokedAt ?? "?"})` : `its cert is ${old.revoked}`}; --reuse-key never signs a revoked key again`,
      hint,
    );
}

/** The ledger's askedSans after this renewal: the recorded ones and the names `--san`/`--ip` add now. */
function askedSansAfter(old: OldLeaf, plan: LeafPlan): string[] {
  const now = plan.addSans.filter((s) => "source" in s && s.source === "flag").map(formatSan);
  return [...new Set([...(old.entry?.askedSans ?? []), ...now])];
}

/**
 * Every leaf's ca.crt copy holds `pem` afterwards (the rotation bundle, or the CA alone). A copy
 * `known` holds (renew read it at its start) is not opened again; each write is recorded there.
 * What stands at the name and cannot be read (a FIFO, a link, a file too large) is replaced by
 * rename, never read or written through: a rotation runs after the new CA is in place, and one
 * leaf's planted file must not stop it halfway.
 */
export async function writeCaCopies(leaves: readonly LeafFiles[], pem: string, known?: KnownFiles): Promise<void> {
  await Promise.all(
    leaves.map(async (files) => {
      if (files.caCopy === undefined) return;
      const held = readKnown(files.caCopy, {}, known);
      if (held.found === "read" && held.text === pem) return;
      await writeFileAtomically(files.caCopy, pem, { mode: CERT_MODE, replace: held.found !== "missing", known });
    }),
  );
}
