/** What to renew and why: reads each leaf, decides, and reads the details re-issuing needs. */
import { X509Certificate as NodeCert } from "node:crypto";
import { DEFAULT_DAYS, DEFAULT_HTTPS_DAYS } from "../../defaults.js";
import { MtlsError } from "../../errors.js";
import { validityFor } from "../../pki/issue.js";
import { isIssuedBy, isSelfSigned } from "../../pki/issued-by.js";
import { keyTypeOf } from "../../pki/keys.js";
import { requested } from "../../pki/name-policy.js";
import { formatSan, uniqueSans, type San } from "../../pki/profiles.js";
import * as x509 from "../../pki/x509.js";
import { assertCaValid, parseCertificate, type LoadedCa } from "../../store/ca-store.js";
import { LEAF_DIRS, type LeafFiles, type TreePaths } from "../../store/paths.js";
import type { LedgerEntry } from "../../store/ledger.js";
import type { LedgerBook } from "../../store/ledger-book.js";
import type { TreeIssuers } from "../../store/issued-here.js";
import { assertLeafDirectory } from "../../store/leaf-state.js";
import { normalizeSerial, spkiSha256, certificateOf } from "../../pki/node-facts.js";
import { exists } from "../../store/write.js";
import { missingSans } from "../../pki/check-verdict.js";
import { sansOf } from "../../pki/node-facts.js";
import type { LeafRead } from "./leaf-read.js";
import { textOrThrow, readKnown, type KnownFiles } from "../../store/file-facts.js";
import { CERT_FILE } from "../../store/leaf-file.js";
import type { LeafOnDisk, LeafPlan, OldLeaf, RenewOptions, Signer } from "./types.js";
import { days, humanDate } from "../../human.js";

const DAY_MS = 86_400_000;

/** `gateway`, `<name>` (any role), `plugin/<name>` or `plugins/<name>`; an unknown one is exit 2. */
export function selectLeaves(
  all: LeafFiles[],
  names: readonly string[] | undefined,
): { all: LeafFiles[]; selected: LeafFiles[] } {
  if (!names || names.length === 0) return { all, selected: all };
  const matches = (files: LeafFiles, name: string): boolean =>
    name === files.name ||
    name === `${files.role}/${files.name}` ||
    name === `${LEAF_DIRS[files.role as keyof typeof LEAF_DIRS]}/${files.name}`;
  const unknown = names.filter((n) => !all.some((f) => matches(f, n)));
  if (unknown.length > 0) {
    throw new MtlsError(
      "E_NOT_FOUND",
      `renew: no certificate named ${unknown.map((n) => JSON.stringify(n)).join(", ")} in the tree`,
      `names in the tree: ${all.map((f) => f.name).join(", ") || "(none)"}`,
    );
  }
  return { all, selected: all.filter((f) => names.some((n) => matches(f, n))) };
}

/**
 * The leaf's cert and what the ledger says of it. A cert the ledger did not record for this leaf
 * (planted in a directory a container can write, or an old one put back) is foreign: renew never
 * takes it as a record of what to sign, leaves it alone and says so (exit 1).
 */
export async function readLeaf(read: LeafRead, signer: Signer, book: LedgerBook): Promise<LeafOnDisk | undefined> {
  const { files } = read;
  // A directory another user owns or may write: nothing is taken from it, nothing written into it.
  await assertLeafDirectory(files);
  const pem = read.certPem();
  const hasKey = await exists(files.key);
  if (pem === undefined && !hasKey) return undefined;
  if (pem === undefined)
    throw new MtlsError(
      "E_DAMAGED",
      `${files.cert}: missing, so there is nothing to renew`,
      "run the command that made it (plugin, gateway, server, client) to issue it again",
    );
  const node = certificateOf(
    pem,
    files.cert,
    "restore it from the backup folder, or remove its directory and issue it again",
  );
  if (files.role === "https" && isSelfSigned(node))
    return withKey(files, hasKey, { node, pem, signedBy: "self", entry: undefined, fromCsr: false });
  // A cert of this leaf that was revoked (and is back in its place) is never kept: it is due,
  // and re-issued on a new key (`--reuse-key` refuses a revoked key).
  const recorded = book.entryFor(node);
  if (recorded?.status === "revoked" && recorded.role === files.role && recorded.name === files.name)
    return withKey(files, hasKey, {
      node,
      pem,
      signedBy: null,
      entry: recorded,
      fromCsr: false,
      revokedInLedger: `revoked (${recorded.reason ?? "unspecified"}) on ${humanDate(recorded.revokedAt ?? "")}`,
    });
  const standing = book.standing(files.role, files.name, node);
  if (standing.kind === "foreign")
    throw new MtlsError(
      "E_FOREIGN",
      `${files.cert}: ${standing.why}; renew leaves it alone`,
      `if nobody you trust put it there, remove ${files.cert} and its key, then issue the leaf again (\`mtls-certs ${files.role} ${files.name}\`)`,
    );
  const previous =
    signer.previous && !(signer.cert && isIssuedBy(node, signer.cert)) && isIssuedBy(node, signer.previous);
  const fromCsr = signedFromCsr(node, standing.entry);
  return withKey(files, hasKey || fromCsr, {
    node,
    pem,
    signedBy: previous ? "previous-ca" : null,
    entry: standing.entry,
    fromCsr,
  });
}

/**
 * Did the tree sign this very cert from a CSR? Only the ledger says so: source "csr", valid, and
 * its serial and SPKI those of the cert on disk. A key file the leaf's owner dropped beside it
 * changes nothing: renewal never takes a key from the directory for such a leaf.
 */
function signedFromCsr(node: NodeCert, entry: LedgerEntry | undefined): boolean {
  return (
    entry !== undefined &&
    entry.source === "csr" &&
    entry.status === "valid" &&
    entry.serial === normalizeSerial(node.serialNumber) &&
    entry.spkiSha256 === spkiSha256(node)
  );
}

function withKey(files: LeafFiles, hasKey: boolean, disk: LeafOnDisk): LeafOnDisk {
  if (!hasKey)
    throw new MtlsError(
      "E_CERT_WITHOUT_KEY",
      `${files.cert}: the certificate has no key (${files.key} is missing)`,
      `restore the key, or remove ${files.dir} and issue it again`,
    );
  return disk;
}

export async function readDetails(
  plan: LeafPlan,
  read: LeafRead,
  o: RenewOptions,
  signer: Signer,
  revoked: string | undefined,
): Promise<OldLeaf> {
  const { files, disk } = plan;
  // Read once, by descriptor: the bytes backed up and reused, and the mode renewal carries over.
  const key = disk.fromCsr ? { bytes: Buffer.alloc(0), stat: undefined } : await read.key();
  const keyPem = key?.bytes.toString("utf8");
  if (keyPem === undefined)
    throw new MtlsError(
      "E_CERT_WITHOUT_KEY",
      `${files.cert}: the certificate has no key (${files.key} is missing)`,
      `restore the key, or remove ${files.dir} and issue it again`,
    );
  const peculiar = parseCertificate(disk.pem, files.cert);
  if (disk.fromCsr && o.keyType !== undefined && o.keyType !== keyTypeOf(disk.node.publicKey))
    throw new MtlsError(
      "E_USAGE",
      `${files.cert}: signed from a CSR, so its key is not ours to change (--key-type ${o.keyType})`,
      "renew it without --key-type; for another key, have its owner send a new CSR to `mtls-certs sign`",
    );
  const keyType = o.keyType ?? keyTypeOf(disk.node.publicKey);
  if (keyType === undefined)
    throw new MtlsError(
      "E_DAMAGED",
      `${files.cert}: its key type is not one mtls-certs issues`,
      "renew it with --key-type",
    );
  const sans: San[] = [];
  for (const name of peculiar.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []) {
    if (name.type !== "dns" && name.type !== "ip" && name.type !== "email") {
      throw new MtlsError(
        "E_DAMAGED",
        `${files.cert}: carries a ${name.type} SAN, which renew cannot re-issue`,
        "issue it again with the tool that made it",
      );
    }
    sans.push({ type: name.type, value: name.value });
  }
  // A leaf's key stays encrypted or plain as it was: a plugin configured without a password
  // must not get an encrypted key because the CA's passphrase was given, nor the reverse.
  const keyEncrypted = keyPem.includes("ENCRYPTED");
  if (keyEncrypted && o.keyPassphrase === undefined) {
    throw new MtlsError(
      "E_PASSPHRASE",
      `${files.key}: the key is encrypted`,
      "pass --key-passphrase-env VAR so the renewed key is encrypted with the same passphrase",
    );
  }
  const by = disk.signedBy ?? (signer.cert && isIssuedBy(disk.node, signer.cert) ? signer.role : null);
  return { ...disk, signedBy: by, peculiar, keyPem, keyStat: key?.stat, keyEncrypted, keyType, sans, revoked };
}

/** A renewed leaf's validity in days: the https cert has its own (365), the mcp certs `--days` (825). */
export function renewalDays(files: LeafFiles, o: RenewOptions): number {
  return files.role === "https" ? (o.httpsDays ?? DEFAULT_HTTPS_DAYS) : (o.days ?? DEFAULT_DAYS);
}

export function planFor(
  files: LeafFiles,
  old: LeafOnDisk,
  wantedSans: Map<string, San[]>,
  o: RenewOptions,
  now: Date,
  within: number,
  rotatingDry: boolean,
  caNotAfter: Date | undefined,
  flagSans: readonly San[],
): LeafPlan {
  const reasons: string[] = [];
  const notAfter = new Date(old.node.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (now > notAfter) reasons.push(`expired on ${humanDate(notAfter)}`);
  else if (notAfter.getTime() - now.getTime() <= within * DAY_MS)
    reasons.push(`expires on ${humanDate(notAfter)} (${days(daysLeft)} left, within ${within})`);
  if (old.revokedInLedger) reasons.push(old.revokedInLedger);
  if (rotatingDry && old.signedBy !== "self") reasons.push("the CA is rotated");
  else if (old.signedBy === "previous-ca") reasons.push("signed by the previous CA");
  const have = sansOf(old.node);
  const fromConfig = files.role === "plugin" ? missingSans(have, wantedSans.get(files.name) ?? []) : [];
  if (fromConfig.length > 0) reasons.push(`the plugin config asks for ${fromConfig.map(formatSan).join(", ")}`);
  // Names asked for on the command line, now (`renew NAME --san`) or when it was issued (the ledger).
  const recorded = (old.entry?.askedSans ?? []).flatMap((text) => {
    const san = sanOfText(text);
    return san ? [requested(san, "flag", "the ledger's askedSans")] : [];
  });
  const fromFlags = missingSans(have, [...flagSans, ...recorded]);
  if (fromFlags.length > 0) reasons.push(`--san/--ip ask for ${fromFlags.map(formatSan).join(", ")}`);
  const addSans = uniqueSans([...fromFlags, ...fromConfig]);
  // Issue 15: when only the dates call for it, re-issue only if the new cert would live longer.
  // A leaf capped at its CA's notAfter gets the same notAfter again: no new key, no backup.
  const dueByDateOnly = reasons.length > 0 && reasons.every((r) => r.startsWith("expire"));
  if (dueByDateOnly && old.signedBy !== "self" && caNotAfter !== undefined) {
    const next = validityFor({ days: renewalDays(files, o), now, notAfter: o.notAfter }, caNotAfter).notAfter;
    if (next.getTime() <= notAfter.getTime()) return { files, disk: old, reasons: [], addSans, caExpiresFirst: true };
  }
  if (o.force && reasons.length === 0) reasons.push("--force");
  return { files, disk: old, reasons, addSans, caExpiresFirst: false };
}

/**
 * The cert that signs renewed leaves, checked for validity (a dry run does not open the key), from
 * the CA files as the run read them at its start (`read`), or the CA a rotation just made.
 */
export async function signerCert(
  tree: TreePaths,
  rotated: LoadedCa | undefined,
  now: Date,
  read: TreeIssuers,
): Promise<NodeCert> {
  if (rotated) return new NodeCert(rotated.cert.toString("pem"));
  const intermediate = await exists(tree.intermediateCert);
  const path = intermediate ? tree.intermediateCert : tree.caCert;
  const pem = intermediate ? read.intermediatePem : read.caPem;
  if (pem === undefined) throw new MtlsError("E_CA_MISSING", `${path}: missing`, "restore ca/ from a backup");
  const cert = parseCertificate(pem, path);
  assertCaValid(cert, path, now);
  return new NodeCert(pem);
}

/**
 * The previous CA: as read at the start, or (after a rotation moved the CA there) as the rotation
 * wrote or read it (`known`).
 */
export async function previousCaCert(
  tree: TreePaths,
  rotated: boolean,
  read: TreeIssuers,
  known: KnownFiles,
): Promise<NodeCert | undefined> {
  const pem = rotated ? textOrThrow(readKnown(tree.previousCaCert, CERT_FILE, known)) : read.previousPem;
  return pem === undefined ? undefined : new NodeCert(pem);
}

/** `DNS:x` / `IP:y` as the ledger records them, back to a SAN; another kind is not ours to add. */
function sanOfText(text: string): San | undefined {
  if (text.startsWith("DNS:")) return { type: "dns", value: text.slice(4) };
  if (text.startsWith("IP:")) return { type: "ip", value: text.slice(3) };
  return undefined;
}
