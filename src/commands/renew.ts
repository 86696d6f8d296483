/**
 * `mtls-certs renew`: re-issues every leaf that has expired or expires within the window, with
 * the same subject (byte for byte), SANs, extensions, profile and key type, under the tree's CA,
 * which is kept as it is. The previous cert and key go to a dated backup folder inside the tree
 * (0600). `renew --ca` first rotates the CA; `ca --finish-rotation` ends the change-over.
 *
 * Exit codes are for cron and systemd (issue 10): what matters is the state afterwards, not
 * whether something was renewed. `renewNeedsAttention` is the one rule.
 */
import { X509Certificate as NodeCert, createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join, relative } from "node:path";
import * as x509 from "../pki/x509.js";
import { DEFAULT_DAYS, DEFAULT_HTTPS_DAYS, DEFAULT_RENEW_WITHIN_DAYS } from "../defaults.js";
import { MtlsError, isMtlsError } from "../errors.js";
import {
  encryptPrivateKeyPem,
  generateKey,
  importPrivateKey,
  keyTypeOf,
  type KeyPair,
  type KeyType,
} from "../pki/keys.js";
import { capWarning, signCertificate, toPem, validityFor, type Validity } from "../pki/issue.js";
import { createLimiter } from "../pki/limiter.js";
import { checkName } from "../pki/names.js";
import { PROFILES, formatSan, uniqueSans, type San } from "../pki/profiles.js";
import { assertCaValid, loadSigningCa, parseCertificate, type LoadedCa } from "../store/ca-store.js";
import { LEAF_DIRS, type LeafFiles, type TreePaths } from "../store/paths.js";
import { listIssuedLeaves, withExistingTree, writeLeaf, type TreeOptions } from "../store/tree.js";
import { CERT_MODE, HTTPS_KEY_MODE, KEY_MODE, exists, readText, writeFileAtomically } from "../store/write.js";
import { assertNameConstraintsPlan } from "../pki/constraints.js";
import { checkTree, configSans, entryFails, missingSans, sansOf, type CheckEntry, type SignedBy } from "./check.js";
import { mayChangeGroupTo } from "./https.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";

export interface RenewOptions extends TreeOptions {
  /** Validity of the renewed https cert (certs/cert.pem) in days. Default 365; `days` is the mcp certs'. */
  httpsDays?: number;
  /** Renew what expires within this many days. Default 30. */
  within?: number;
  /** Only these leaves: `gateway`, `https`, a plugin/server/client name, or `plugin/<name>`. Default: all. */
  names?: readonly string[];
  /** Keep each leaf's key (clients pinning the SPKI keep working). Default: a new key. */
  reuseKey?: boolean;
  /** Renew the selected leaves whatever their dates. */
  force?: boolean;
  /** Plan only: nothing is written. */
  dryRun?: boolean;
  /** Plugin config: a SAN it asks for that a plugin's cert lacks is added on renewal. */
  config?: string;
  /** Rotate the CA first (new key, same subject); every ca.crt copy trusts old and new. */
  ca?: boolean;
  /** With `ca`: only the CA and the bundles; the leaves are renewed by a later `renew`. */
  keepLeaves?: boolean;
  /**
   * The key type of new keys. Unset (the default for renew): each leaf keeps its own key type.
   * Overrides TreeOptions.keyType's meaning of "default rsa4096".
   */
  keyType?: KeyType;
}

/** What a leaf looked like, or looks like after renewal. */
export interface CertState {
  /** Null in a dry run: not signed yet. */
  serial: string | null;
  notBefore: string;
  notAfter: string;
  sans: string[];
  keyType: KeyType;
  /** base64 SHA-256 of the SubjectPublicKeyInfo: curl's `--pinnedpubkey sha256//<pin>`. Null: a new key not made yet. */
  spkiPin: string | null;
  /** SHA-256 of the DER, as openssl prints it. Null in a dry run. */
  fingerprint: string | null;
  signedBy: SignedBy | null;
}

export interface RenewedCert {
  role: string;
  name: string;
  cert: string;
  key: string;
  action: "renewed" | "would-renew";
  /** Why: expired, expiring within the window, --force, signed by the previous CA, a SAN the config asks for. */
  reasons: string[];
  keyReused: boolean;
  before: CertState;
  after: CertState;
  /** One line per field that changes: "notAfter 2026-12-01T… → 2029-02-25T…". */
  changes: string[];
}

export interface FailedCert {
  role: string;
  name: string;
  cert: string;
  error: { code: string; message: string; hint: string | null };
}

export interface CaRotation {
  action: "rotated" | "would-rotate";
  /** The CA rotated out, now in ca/previous/. */
  previous: { cert: string; serial: string; notAfter: string };
  /** The new CA; null in a dry run. */
  current: { cert: string; serial: string; notBefore: string; notAfter: string } | null;
  /** ca/bundle.crt: new CA then previous CA; what every ca.crt copy now holds. */
  bundle: string;
  /** How many ca.crt copies now hold the bundle. */
  copies: number;
}

export interface RenewReport {
  root: string;
  renewedAt: string;
  within: number;
  dryRun: boolean;
  /** The dated folder holding the previous certs and keys; null when nothing was replaced. */
  backup: string | null;
  ca: CaRotation | null;
  renewed: RenewedCert[];
  /** Leaves left as they were, as `check` sees them. */
  kept: CheckEntry[];
  failed: FailedCert[];
  warnings: string[];
  /** What still needs attention afterwards (as `check --within` judges it): exit 1 when not empty. */
  attention: CheckEntry[];
}

/** Exit 1 when something still needs attention afterwards; 0 otherwise, renewed or not. */
export function renewNeedsAttention(report: RenewReport): boolean {
  return report.failed.length > 0 || report.attention.length > 0;
}

const DAY_MS = 86_400_000;
/** Leaves read at once: keeps a tree of thousands under the open-file limit. */
const READ_CONCURRENCY = 64;
/** Extensions the pipeline makes from the profile and key; any other one on the old cert is kept. */
const PIPELINE_EXTENSIONS = new Set(["2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35", "2.5.29.17"]);

export async function renewTree(o: RenewOptions = {}): Promise<RenewReport> {
  for (const name of o.names ?? []) checkName(name.replace(/^[a-z]+\//, ""), "renew: name");
  if (o.reuseKey && o.keyType !== undefined)
    throw new MtlsError(
      "E_USAGE",
      "--reuse-key and --key-type ask for both the old key and a new key type",
      "give one of them",
    );
  if (o.keepLeaves && !o.ca) throw new MtlsError("E_USAGE", "--keep-leaves only goes with --ca");
  return withExistingTree(o, async (tree) => {
    const now = o.now ?? new Date();
    const within = o.within ?? DEFAULT_RENEW_WITHIN_DAYS;
    const dryRun = Boolean(o.dryRun);
    const leaves = selectLeaves(await listIssuedLeaves(tree), o.names);
    const wantedSans = await configSans(o.config);
    const backup = new BackupFolder(tree, now);
    const warnings: string[] = [];

    let rotation: { ca: LoadedCa | undefined; report: CaRotation } | undefined;
    if (o.ca) rotation = await rotateCa(tree, leaves.all, o, now, backup);
    // A dry run of a rotation has no new CA to compare with: every leaf would move to it.
    const rotatingDry = Boolean(o.ca && dryRun);
    const signer: Signer = {
      cert: rotatingDry ? undefined : await signerCert(tree, rotation?.ca, now),
      role: (await exists(tree.intermediateCert)) ? "intermediate" : "ca",
      previous: await readOptionalCert(tree.previousCaCert),
    };

    const failed: FailedCert[] = [];
    const plans: LeafPlan[] = [];
    const keptPaths = new Set<string>();
    // --keep-leaves: the change-over's first step touches the CA and the bundles only.
    const reading = createLimiter(READ_CONCURRENCY);
    await Promise.all(
      (o.keepLeaves ? [] : leaves.selected).map((files) =>
        reading(async () => {
          try {
            const disk = await readLeaf(files, signer);
            if (disk === undefined) return; // an empty directory: nothing to renew
            const plan = planFor(files, disk, wantedSans, o, now, within, rotatingDry);
            if (plan.reasons.length > 0) plans.push(plan);
            else keptPaths.add(files.cert);
          } catch (e) {
            failed.push(failure(files, e));
          }
        }),
      ),
    );
    if (o.keepLeaves) for (const files of leaves.selected) keptPaths.add(files.cert);

    const renewed: RenewedCert[] = [];
    if (plans.length > 0) {
      // Refuses a dead CA (exit 1, its dates, the `renew --ca` hint) before anything is written.
      const ca = dryRun
        ? undefined
        : (rotation?.ca ?? (await loadSigningCa(tree, { now, passphrase: o.keyPassphrase })));
      const limit = createLimiter(o.jobs);
      o.onProgress?.(`${dryRun ? "planning" : "renewing"} ${plans.length} certificate(s)`);
      await Promise.all(
        plans.map(async (plan) => {
          try {
            const old = await readDetails(plan, o, signer);
            // A self-signed https cert stays self-signed: no CA signs it and none caps its dates.
            const selfSigned = old.signedBy === "self";
            const days = plan.files.role === "https" ? (o.httpsDays ?? DEFAULT_HTTPS_DAYS) : (o.days ?? DEFAULT_DAYS);
            const caNotAfter = signer.cert && !selfSigned ? new Date(signer.cert.validTo) : undefined;
            const validity = validityFor({ days, now, notBefore: o.notBefore, notAfter: o.notAfter }, caNotAfter);
            const capped = capWarning(plan.files.cert, validity);
            if (capped) warnings.push(capped);
            renewed.push(
              ca === undefined
                ? planned(plan, old, validity, o, signer)
                : await renewLeaf(plan, old, selfSigned ? undefined : ca, validity, o, limit, backup, signer, warnings),
            );
          } catch (e) {
            failed.push(failure(plan.files, e));
          }
        }),
      );
    }

    const after = await checkTree({ out: tree.root, now, within, config: o.config });
    const selectedPaths = new Set(leaves.selected.map((l) => l.cert));
    const relevant = after.certificates.filter(
      (c) => c.role === "ca" || c.role === "intermediate" || selectedPaths.has(c.path),
    );
    const byName = (a: { role: string; name: string }, b: { role: string; name: string }) =>
      a.role.localeCompare(b.role) || a.name.localeCompare(b.name);
    return {
      root: tree.root,
      renewedAt: now.toISOString(),
      within,
      dryRun,
      backup: backup.used ? backup.path : null,
      ca: rotation?.report ?? null,
      renewed: renewed.sort(byName),
      kept: after.certificates.filter((c) => keptPaths.has(c.path)),
      failed: failed.sort(byName),
      warnings: [...warnings, ...after.warnings],
      attention: relevant.filter((c) => entryFails(c, true)),
    };
  });
}

/** The cert that signs renewed leaves, and the one a rotation moved out. */
interface Signer {
  /** Undefined in a dry run of a rotation (the new CA does not exist yet). */
  cert: NodeCert | undefined;
  role: SignedBy;
  previous: NodeCert | undefined;
}

/** What deciding needs, read for every leaf with Node's fast parser. */
interface LeafOnDisk {
  node: NodeCert;
  pem: string;
  /** Known up front only during a rotation (the previous CA's leaves are due); else filled in later. */
  signedBy: SignedBy | null;
}

/** What re-issuing needs, read only for the leaves that are due. */
interface OldLeaf extends LeafOnDisk {
  peculiar: x509.X509Certificate;
  keyPem: string;
  keyEncrypted: boolean;
  keyType: KeyType;
  sans: San[];
  /** Extensions beyond the profile's, carried over as they are. */
  extensions: x509.Extension[];
}

interface LeafPlan {
  files: LeafFiles;
  disk: LeafOnDisk;
  reasons: string[];
  /** SANs the plugin config asks for that the old cert lacks. */
  addSans: San[];
}

/** `gateway`, `<name>` (any role), `plugin/<name>` or `plugins/<name>`; an unknown one is exit 2. */
function selectLeaves(
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

async function readLeaf(files: LeafFiles, signer: Signer): Promise<LeafOnDisk | undefined> {
  const [pem, hasKey] = await Promise.all([readText(files.cert), exists(files.key)]);
  if (pem === undefined && !hasKey) return undefined;
  if (pem === undefined)
    throw new MtlsError(
      "E_DAMAGED",
      `${files.cert}: missing, so there is nothing to renew`,
      "run the command that made it (plugin, gateway, server, client) to issue it again",
    );
  if (!hasKey)
    throw new MtlsError(
      "E_CERT_WITHOUT_KEY",
      `${files.cert}: the certificate has no key (${files.key} is missing)`,
      `restore the key, or remove ${files.dir} and issue it again`,
    );
  let node: NodeCert;
  try {
    node = new NodeCert(pem);
  } catch {
    throw new MtlsError(
      "E_DAMAGED",
      `${files.cert}: not a PEM certificate`,
      "restore it from the backup folder, or remove its directory and issue it again",
    );
  }
  if (files.role === "https" && isSelfSigned(node)) return { node, pem, signedBy: "self" };
  const previous =
    signer.previous && !(signer.cert && isIssuedBy(node, signer.cert)) && isIssuedBy(node, signer.previous);
  return { node, pem, signedBy: previous ? "previous-ca" : null };
}

async function readDetails(plan: LeafPlan, o: RenewOptions, signer: Signer): Promise<OldLeaf> {
  const { files, disk } = plan;
  const keyPem = await readText(files.key);
  if (keyPem === undefined)
    throw new MtlsError(
      "E_CERT_WITHOUT_KEY",
      `${files.cert}: the certificate has no key (${files.key} is missing)`,
      `restore the key, or remove ${files.dir} and issue it again`,
    );
  const peculiar = parseCertificate(disk.pem, files.cert);
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
  const extensions = peculiar.extensions.filter((e) => !PIPELINE_EXTENSIONS.has(e.type));
  const by = disk.signedBy ?? (signer.cert && isIssuedBy(disk.node, signer.cert) ? signer.role : null);
  return { ...disk, signedBy: by, peculiar, keyPem, keyEncrypted, keyType, sans, extensions };
}

function planFor(
  files: LeafFiles,
  old: LeafOnDisk,
  wantedSans: Map<string, San[]>,
  o: RenewOptions,
  now: Date,
  within: number,
  rotatingDry: boolean,
): LeafPlan {
  const reasons: string[] = [];
  const notAfter = new Date(old.node.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (now > notAfter) reasons.push(`expired on ${notAfter.toISOString()}`);
  else if (notAfter.getTime() - now.getTime() <= within * DAY_MS)
    reasons.push(`expires on ${notAfter.toISOString()} (${daysLeft} days left, within ${within})`);
  if (rotatingDry && old.signedBy !== "self") reasons.push("the CA is rotated");
  else if (old.signedBy === "previous-ca") reasons.push("signed by the previous CA");
  const addSans = files.role === "plugin" ? missingSans(sansOf(old.node), wantedSans.get(files.name) ?? []) : [];
  if (addSans.length > 0) reasons.push(`the plugin config asks for ${addSans.map(formatSan).join(", ")}`);
  if (o.force && reasons.length === 0) reasons.push("--force");
  return { files, disk: old, reasons, addSans };
}

/** `ca` undefined: the self-signed https cert, signed by its own new key. */
async function renewLeaf(
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
  const keyFile =
    files.role === "https" ? await httpsKeyFile(files.key, warnings) : { keyMode: KEY_MODE, keyGroup: undefined };
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

/** The https key keeps its 0640 and its group (`https --group`) where this user may set it. */
async function httpsKeyFile(
  path: string,
  warnings: string[],
): Promise<{ keyMode: number; keyGroup: number | undefined }> {
  const { gid } = await fs.stat(path);
  if (gid === process.getgid?.()) return { keyMode: HTTPS_KEY_MODE, keyGroup: undefined };
  if (mayChangeGroupTo(gid)) return { keyMode: HTTPS_KEY_MODE, keyGroup: gid };
  warnings.push(
    `${path}: the renewed key is not in group ${gid} as the old one was (only root or a member of that group may set it); run chgrp as root`,
  );
  return { keyMode: HTTPS_KEY_MODE, keyGroup: undefined };
}

/** What renewal would make, without a signature: dates, SANs, key type; serial and fingerprint unknown. */
function planned(plan: LeafPlan, old: OldLeaf, validity: Validity, o: RenewOptions, signer: Signer): RenewedCert {
  const before = stateOf(old.node, old.keyType, old.signedBy);
  const after: CertState = {
    serial: null,
    notBefore: validity.notBefore.toISOString(),
    notAfter: validity.notAfter.toISOString(),
    sans: uniqueSans([...old.sans, ...plan.addSans]).map(formatSan),
    keyType: o.keyType ?? old.keyType,
    spkiPin: o.reuseKey ? before.spkiPin : null,
    fingerprint: null,
    signedBy: old.signedBy === "self" ? "self" : signer.role,
  };
  return result(plan, old, "would-renew", Boolean(o.reuseKey), after);
}

function result(
  plan: LeafPlan,
  old: OldLeaf,
  action: RenewedCert["action"],
  keyReused: boolean,
  after: CertState,
): RenewedCert {
  const before = stateOf(old.node, old.keyType, old.signedBy);
  return {
    role: plan.files.role,
    name: plan.files.name,
    cert: plan.files.cert,
    key: plan.files.key,
    action,
    reasons: plan.reasons,
    keyReused,
    before,
    after,
    changes: changesBetween(before, after, keyReused),
  };
}

function stateOf(cert: NodeCert, keyType: KeyType, signer: SignedBy | null): CertState {
  return {
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    sans: sansOf(cert),
    keyType,
    spkiPin: spkiPin(cert),
    fingerprint: cert.fingerprint256,
    signedBy: signer,
  };
}

/** The SPKI pin as curl's --pinnedpubkey takes it: `sha256//` + base64 of SHA-256 over the DER SPKI. */
export function spkiPin(cert: NodeCert): string {
  return `sha256//${createHash("sha256")
    .update(cert.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64")}`;
}

function changesBetween(before: CertState, after: CertState, keyReused: boolean): string[] {
  const changes: string[] = [];
  const field = (name: string, a: string | null, b: string | null): void => {
    if (a !== b) changes.push(`${name} ${a ?? "-"} → ${b ?? "(new)"}`);
  };
  field("serial", before.serial, after.serial);
  field("notBefore", before.notBefore, after.notBefore);
  field("notAfter", before.notAfter, after.notAfter);
  for (const san of after.sans.filter((s) => !before.sans.includes(s))) changes.push(`SAN added ${san}`);
  field("keyType", before.keyType, after.keyType);
  changes.push(
    keyReused
      ? `key kept: SPKI pin ${before.spkiPin} unchanged`
      : `new key: SPKI pin ${before.spkiPin} → ${after.spkiPin ?? "(new)"}`,
  );
  if (before.signedBy !== after.signedBy) changes.push(`issuer ${before.signedBy ?? "-"} → ${after.signedBy ?? "-"}`);
  return changes;
}

function failure(files: LeafFiles, e: unknown): FailedCert {
  if (!isMtlsError(e)) throw e;
  return {
    role: files.role,
    name: files.name,
    cert: files.cert,
    error: { code: e.code, message: e.message, hint: e.hint ?? null },
  };
}

/** Every leaf's ca.crt copy holds `pem` afterwards (the rotation bundle, or the CA alone). */
async function writeCaCopies(leaves: readonly LeafFiles[], pem: string): Promise<void> {
  await Promise.all(
    leaves.map(async (files) => {
      if (files.caCopy === undefined || (await readText(files.caCopy)) === pem) return;
      await writeFileAtomically(files.caCopy, pem, { mode: CERT_MODE, replace: await exists(files.caCopy) });
    }),
  );
}

/** The cert that signs renewed leaves, checked for validity (a dry run does not open the key). */
async function signerCert(tree: TreePaths, rotated: LoadedCa | undefined, now: Date): Promise<NodeCert> {
  if (rotated) return new NodeCert(rotated.cert.toString("pem"));
  const path = (await exists(tree.intermediateCert)) ? tree.intermediateCert : tree.caCert;
  const pem = await readText(path);
  if (pem === undefined) throw new MtlsError("E_CA_MISSING", `${path}: missing`, "restore ca/ from a backup");
  const cert = parseCertificate(pem, path);
  assertCaValid(cert, path, now);
  return new NodeCert(pem);
}

async function readOptionalCert(path: string): Promise<NodeCert | undefined> {
  const pem = await readText(path);
  return pem === undefined ? undefined : new NodeCert(pem);
}

/**
 * `.backup/<UTC time>/` inside the tree, made on the first file it keeps. Directories 0700 and
 * files 0600: a backup holds keys, and a cert next to them reveals nothing but also needs nothing.
 */
class BackupFolder {
  path: string;
  used = false;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly tree: TreePaths,
    now: Date,
  ) {
    this.path = join(
      tree.backupDir,
      now
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
        .replace(/:/g, "-"),
    );
  }

  /** Copies a leaf's cert, key (and client.pem) before they are replaced. */
  async keep(files: LeafFiles): Promise<void> {
    // The https cert lives outside the tree (certs/cert.pem): its copies go to https/.
    const subdir = files.role === "https" ? "https" : relative(this.tree.root, files.dir);
    await this.copy(subdir, [files.cert, files.key, files.combined]);
  }

  /** Copies files into `<backup>/<subdir>/`. */
  async copy(subdir: string, paths: ReadonlyArray<string | undefined>): Promise<void> {
    this.ready ??= this.create();
    await this.ready;
    const dir = join(this.path, subdir);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const path of paths) {
      if (path === undefined) continue;
      const content = await readText(path);
      if (content !== undefined)
        await writeFileAtomically(join(dir, path.slice(path.lastIndexOf("/") + 1)), content, { mode: KEY_MODE });
    }
  }

  private async create(): Promise<void> {
    await fs.mkdir(this.tree.backupDir, { recursive: true, mode: 0o700 });
    // Two runs in one second would share a folder: the second one gets its own.
    if (await exists(this.path)) this.path = `${this.path}-${process.pid}`;
    await fs.mkdir(this.path, { mode: 0o700 });
    this.used = true;
  }
}

/**
 * `renew --ca`: a new CA key and cert with the same subject and extensions (nameConstraints
 * stay); the old pair moves to ca/previous/; ca/bundle.crt = new + old goes into every ca.crt
 * copy, so leaves of either CA verify on every peer during the change-over.
 */
async function rotateCa(
  tree: TreePaths,
  leaves: readonly LeafFiles[],
  o: RenewOptions,
  now: Date,
  backup: BackupFolder,
): Promise<{ ca: LoadedCa | undefined; report: CaRotation }> {
  if (await exists(tree.intermediateCert)) {
    throw new MtlsError(
      "E_USAGE",
      `${tree.intermediateCert}: renew --ca rotates a root that signs leaves itself; this tree signs with an intermediate`,
      "make a new tree with `mtls-certs ca --intermediate --out DIR` and move the leaves over",
    );
  }
  const oldPem = await readText(tree.caCert);
  if (oldPem === undefined)
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: missing`,
      "run `mtls-certs ca` to create a CA; there is nothing to rotate",
    );
  const oldKeyPem = await readText(tree.caKey);
  if (oldKeyPem === undefined)
    throw new MtlsError(
      "E_CA_DAMAGED",
      `${tree.caKey}: missing, but ${tree.caCert} exists`,
      "restore the key from a backup before rotating",
    );
  if (oldKeyPem.includes("ENCRYPTED") && o.keyPassphrase === undefined) {
    throw new MtlsError(
      "E_PASSPHRASE",
      `${tree.caKey}: the CA key is encrypted`,
      "pass --key-passphrase-env VAR so the new CA key is encrypted too",
    );
  }
  const previousPem = await readText(tree.previousCaCert);
  // A run killed after saving the old CA left previous == current: carry on from there.
  if (previousPem !== undefined && previousPem !== oldPem) {
    throw new MtlsError(
      "E_USAGE",
      `${tree.previousCaCert}: a CA rotation is already in progress`,
      "finish it first: `mtls-certs renew` the leaves, then `mtls-certs ca --finish-rotation`",
    );
  }
  const old = parseCertificate(oldPem, tree.caCert);
  const oldNode = new NodeCert(oldPem);
  const previous = { cert: tree.previousCaCert, serial: oldNode.serialNumber, notAfter: old.notAfter.toISOString() };
  const copies = leaves.filter((l) => l.caCopy !== undefined).length;
  if (o.dryRun)
    return {
      ca: undefined,
      report: { action: "would-rotate", previous, current: null, bundle: tree.caBundle, copies },
    };

  const keyType = o.keyType ?? keyTypeOf(oldNode.publicKey) ?? "rsa4096";
  o.onProgress?.(`generating a ${keyType} key for the new CA`);
  const key = await generateKey(keyType);
  const cert = await signCertificate({
    profile: PROFILES.ca,
    subject: old.subjectName,
    key,
    validity: validityFor({ days: o.days ?? DEFAULT_DAYS, now }),
    extensions: old.extensions.filter((e) => !PIPELINE_EXTENSIONS.has(e.type)),
  });
  const pem = toPem(cert);
  const bundlePem = pem + oldPem;
  // Order matters for a crash: the old CA is saved before anything points away from it.
  await backup.copy("ca", [tree.caCert, tree.caKey]);
  await fs.mkdir(tree.previousCaDir, { recursive: true, mode: 0o700 });
  if (previousPem === undefined) {
    await writeFileAtomically(tree.previousCaKey, oldKeyPem, { mode: KEY_MODE });
    await writeFileAtomically(tree.previousCaCert, oldPem, { mode: CERT_MODE });
  }
  await writeFileAtomically(tree.caBundle, bundlePem, { mode: CERT_MODE, replace: true });
  const keyPem =
    o.keyPassphrase === undefined ? key.privateKeyPem : encryptPrivateKeyPem(key.privateKeyPem, o.keyPassphrase);
  await writeFileAtomically(tree.caKey, keyPem, { mode: KEY_MODE, replace: true });
  await writeFileAtomically(tree.caCert, pem, { mode: CERT_MODE, replace: true });
  const ca: LoadedCa = { cert, key, bundlePem, rootPem: pem };
  await writeCaCopies(leaves, bundlePem);
  const node = new NodeCert(pem);
  return {
    ca: o.keepLeaves ? undefined : ca,
    report: {
      action: "rotated",
      previous,
      current: {
        cert: tree.caCert,
        serial: node.serialNumber,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
      },
      bundle: tree.caBundle,
      copies,
    },
  };
}

export interface FinishRotationOptions extends TreeOptions {
  /** Finish even though some leaves are still signed by the previous CA (they stop verifying). */
  force?: boolean;
}

export interface FinishRotationReport {
  root: string;
  /** The CA no longer trusted, and where its files went. */
  removed: { serial: string; notAfter: string; backup: string };
  /** How many ca.crt copies now hold the new CA alone. */
  copies: number;
  /** Leaves still signed by the removed CA (only with force): they no longer verify. */
  orphaned: string[];
}

/** `ca --finish-rotation`: drops the previous CA from ca/bundle.crt and every ca.crt copy. */
export async function finishCaRotation(o: FinishRotationOptions = {}): Promise<FinishRotationReport> {
  return withExistingTree(o, async (tree) => {
    const previousPem = await readText(tree.previousCaCert);
    if (previousPem === undefined)
      throw new MtlsError(
        "E_USAGE",
        `${tree.previousCaCert}: no CA rotation in progress`,
        "start one with `mtls-certs renew --ca`",
      );
    const currentPem = await readText(tree.caCert);
    if (currentPem === undefined)
      throw new MtlsError("E_CA_MISSING", `${tree.caCert}: missing`, "restore ca/ from a backup");
    const previous = new NodeCert(previousPem);
    const current = new NodeCert(currentPem);
    const leaves = await listIssuedLeaves(tree);
    const orphaned: string[] = [];
    for (const files of leaves) {
      const pem = await readText(files.cert);
      if (pem === undefined) continue;
      const cert = new NodeCert(pem);
      if (!isIssuedBy(cert, current) && isIssuedBy(cert, previous)) orphaned.push(files.cert);
    }
    if (orphaned.length > 0 && !o.force) {
      throw new MtlsError(
        "E_ROTATION_PENDING",
        `${orphaned.length} certificate(s) are still signed by the previous CA and would stop verifying: ${orphaned.join(", ")}`,
        "run `mtls-certs renew` (it re-issues them under the new CA), deploy them, then finish the rotation",
      );
    }
    const backup = new BackupFolder(tree, o.now ?? new Date());
    await backup.copy(join("ca", "previous"), [tree.previousCaCert, tree.previousCaKey]);
    await writeCaCopies(leaves, currentPem);
    await fs.rm(tree.caBundle, { force: true });
    await fs.rm(tree.previousCaDir, { recursive: true, force: true });
    return {
      root: tree.root,
      removed: {
        serial: previous.serialNumber,
        notAfter: new Date(previous.validTo).toISOString(),
        backup: join(backup.path, "ca", "previous"),
      },
      copies: leaves.filter((l) => l.caCopy !== undefined).length,
      orphaned,
    };
  });
}
