/**
 * `mtls-certs check`: one entry per certificate in the tree, CA first, with a status a CI
 * schedule can act on. Files are read and parsed concurrently with Node's own X509Certificate
 * (a fraction of a millisecond each; one `openssl x509` process costs ~26 ms).
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { promises as fs, type Stats } from "node:fs";
import { availableParallelism } from "node:os";
import { CA_ROTATION_LEAD_DAYS, DEFAULT_OUT, DEFAULT_RENEW_WITHIN_DAYS } from "../defaults.js";
import { EXIT, MtlsError, errnoCode } from "../errors.js";
import { loadPluginConfig, type PluginConfig } from "../config/plugin-config.js";
import { stackTreeWarning } from "../config/stack.js";
import { createLimiter } from "../pki/limiter.js";
import { HTTPS_SANS, dns, formatSan, pluginSans, type Role, type San } from "../pki/profiles.js";
import { extensionProblems, structureProblems } from "../pki/peer-policy.js";
import { describeProblem, treeFixes, type PolicyFixes, type PolicyProblem } from "../pki/policy-problem.js";
import { leafPurposeProblems, purposeOfRole } from "../pki/purpose-policy.js";
import { leafRoleProblems } from "../pki/leaf-role-policy.js";
import { readPolicyFacts } from "../pki/policy-facts.js";
import {
  entryFails,
  type CertStatus,
  type CheckEntry,
  type CheckReport,
  type SignedBy,
} from "../report/check-report.js";
import { privateKeyFiles, treePaths, type LeafFiles, type TreePaths } from "../store/paths.js";
import { assertTreeExists, leafDirectoryProblems, listIssuedLeaves } from "../store/tree.js";
import { exists, readKeyText, readCertText, readText } from "../store/write.js";
import { keyModeProblem, unsafeDirectories } from "../store/key-mode.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";
import { days, humanDate, plural } from "../report/human.js";
import { canonicalIp, normalizeSerial, sansOf, spkiSha256, whyNotACertificate } from "../pki/node-facts.js";
import { readLedger, standingOf, type Ledger } from "../store/ledger.js";
import { privateKeyPemMatches, sameCertKey } from "../pki/key-match.js";
import { splitPemBlocks } from "../pki/pem.js";
import { staleBundleProblems } from "../store/leaf-bundles.js";
import { encryptedKeyProblem } from "../pki/keys.js";
import { embeddedCheckWorker } from "../package-files.js";

export { sansOf };

export type { CertStatus, CheckEntry, CheckReport, SignedBy } from "../report/check-report.js";
export { entryFails };

export interface CheckOptions {
  out?: string;
  now?: Date;
  /** Days ahead that count as expiring. With it, `expiring` fails the check. */
  within?: number;
  /**
   * The plugin config (plugins/external/config.yaml): a plugin cert that lacks a SAN the config
   * asks for (its URL's host) is invalid. A missing file is no requirement.
   */
  config?: string;
  /**
   * Only these leaves (the CAs always): what `renew NAME` touched, so one leaf costs one leaf's
   * check, not the tree's. During a CA rotation the whole tree is read all the same: its warning
   * counts the leaves the previous CA still signs.
   */
  leaves?: readonly LeafFiles[];
  /** Extra checks a leaf must pass (a CRL, …): return problems found. */
  extraChecks?: (entry: CheckEntry, cert: NodeCert, files: LeafFiles) => string[] | Promise<string[]>;
}

const DAY_MS = 86_400_000;
/** Leaves checked at once: enough to keep the disk busy, few enough to stay under the fd limit. */
const CHECK_CONCURRENCY = 64;
/**
 * From this many leaves on, they are checked on every core: parsing a key to match it to its
 * cert costs ~0.5 ms of CPU, so 2,000 plugins are ~1 s on one core. Below it, a worker's start-up
 * (~100 ms) costs more than it saves.
 */
export const WORKER_THRESHOLD = 500;

/** What checking leaves needs from the tree's CAs: plain data, so a worker thread can take it. */
export interface LeafCheckJob {
  leaves: LeafFiles[];
  issuers: Array<{ pem: string; signedBy: SignedBy }>;
  bundlePem: string | undefined;
  now: string;
  within: number;
  wanted: Array<[string, San[]]>;
}

type LeafIssuers = Pick<TreeCas, "issuers" | "bundlePem">;

export async function checkLeaves(
  leaves: readonly LeafFiles[],
  cas: LeafIssuers,
  now: Date,
  within: number,
  wantedSans: Map<string, San[]>,
  o: CheckOptions = {},
): Promise<CheckEntry[]> {
  const limit = createLimiter(CHECK_CONCURRENCY);
  return Promise.all(leaves.map((files) => limit(() => checkLeaf(files, cas, now, within, wantedSans, o))));
}

/** Runs a check job: in a worker thread (check-worker.ts) or here. */
export function runLeafCheckJob(job: LeafCheckJob): Promise<CheckEntry[]> {
  const issuers = job.issuers.map((i) => ({ cert: new NodeCert(i.pem), signedBy: i.signedBy }));
  return checkLeaves(
    job.leaves,
    { issuers, bundlePem: job.bundlePem },
    new Date(job.now),
    job.within,
    new Map(job.wanted),
  );
}

/** Splits the leaves into one slice per core: the first is checked here, the others on workers. */
async function checkLeavesAcrossCores(
  leaves: readonly LeafFiles[],
  cas: LeafIssuers,
  now: Date,
  within: number,
  wantedSans: Map<string, San[]>,
): Promise<CheckEntry[]> {
  const { Worker } = await import("node:worker_threads");
  const slices = Math.max(1, Math.min(availableParallelism(), Math.floor(leaves.length / (WORKER_THRESHOLD / 2))));
  const size = Math.ceil(leaves.length / slices);
  const job = (part: LeafFiles[]): LeafCheckJob => ({
    leaves: part,
    issuers: cas.issuers.map((i) => ({ pem: i.cert.toString(), signedBy: i.signedBy })),
    bundlePem: cas.bundlePem,
    now: now.toISOString(),
    within,
    wanted: [...wantedSans],
  });
  const onWorker = (part: LeafFiles[]): Promise<CheckEntry[]> =>
    new Promise((resolve, reject) => {
      const embedded = embeddedCheckWorker();
      const script = embedded ?? new URL("./check-worker.js", import.meta.url);
      const worker = new Worker(script, { eval: embedded !== undefined, workerData: job(part) });
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once(
        "exit",
        (code) => code !== 0 && reject(new MtlsError("E_IO", `check: a worker thread stopped with code ${code}`)),
      );
    });
  const parts = Array.from({ length: slices }, (_, i) => leaves.slice(i * size, (i + 1) * size));
  const [first = [], ...rest] = parts;
  const results = await Promise.all([checkLeaves(first, cas, now, within, wantedSans), ...rest.map(onWorker)]);
  return results.flat();
}

export async function checkTree(o: CheckOptions = {}): Promise<CheckReport> {
  const now = o.now ?? new Date();
  const within = o.within ?? DEFAULT_RENEW_WITHIN_DAYS;
  const config = o.config === undefined ? undefined : await loadPluginConfig(o.config);
  // An mcp-stack.yaml's certificates.*_path name the tree when no --out does: where `all --config` wrote.
  const tree = treePaths(o.out ?? config?.stack?.out ?? DEFAULT_OUT);
  await assertTreeExists(tree);
  const [cas, leaves] = await Promise.all([
    readCas(tree, now, within),
    o.leaves !== undefined && !(await exists(tree.previousCaCert)) ? o.leaves : listIssuedLeaves(tree),
  ]);
  const wantedSans = sansWanted(config);
  const moved = config && stackTreeWarning(config);
  const entries =
    leaves.length >= WORKER_THRESHOLD && !o.extraChecks
      ? await checkLeavesAcrossCores(leaves, cas, now, within, wantedSans)
      : await checkLeaves(leaves, cas, now, within, wantedSans, o);
  if (cas.root.cert === undefined) unverifiable(entries, tree);
  // The CA's CRL and name constraints (issues 7, 10); loads nothing when the tree has neither.
  await (await import("./check-ca-policy.js")).checkCaPolicy(tree, now, cas.entries, entries);
  const ledgerWarning = await checkAgainstLedger(tree, cas, entries, now, within);
  for (const entry of [...cas.entries, ...entries]) settle(entry);
  const certificates = [...cas.entries, ...entries];
  return {
    checkedAt: now.toISOString(),
    root: tree.root,
    within,
    certificates,
    cannotCheck: cannotCheckAs(certificates, process.getuid?.()),
    warnings: [
      ...(moved ? [moved] : []),
      ...(ledgerWarning ? [ledgerWarning] : []),
      ...warningsFor(cas, entries, tree, within),
    ],
    next: cas.entries.some((e) => e.role === "ca" && e.name === "ca" && e.policy.length > 0)
      ? "mtls-certs renew --ca"
      : null,
  };
}

/**
 * A leaf cert the issuance ledger did not record for its directory is foreign (a problem: exit
 * 1). A tree without a ledger yet gets a note, not a failure: `check` never writes, and the
 * first writing command (or `mtls-certs adopt`) adopts it.
 */
async function checkAgainstLedger(
  tree: TreePaths,
  cas: TreeCas,
  leaves: CheckEntry[],
  now: Date,
  within: number,
): Promise<string | undefined> {
  let ledger: Ledger | undefined;
  try {
    ledger = await readLedger(tree);
  } catch (e) {
    cas.entries[0]?.problems.push(e instanceof Error ? e.message : String(e));
    return undefined;
  }
  if (ledger === undefined)
    return `${tree.ledger}: not adopted yet (no issuance ledger): foreign certificates cannot be told apart; run \`mtls-certs adopt --out ${tree.root}\` (any writing command adopts it too)`;
  // A cert a tree CA signed (check verified the signature) is named by its issuer and serial: a
  // CA never signs two certs with one serial. One no tree CA signed is in no ledger.
  const key = (serial: string, issuerSpki: string): string => `${normalizeSerial(serial)} ${issuerSpki}`;
  const bySerial = new Map(ledger.entries.map((e) => [key(e.serial, e.issuer.spkiSha256), e]));
  const issuerSpki = new Map(cas.issuers.map((i) => [i.signedBy, spkiSha256(i.cert)]));
  for (const entry of leaves) {
    if (entry.serial === null || entry.signedBy === "self") continue;
    // No readable CA cert, no issuer to look it up by: "not verified" (unverifiable) says why.
    if (entry.signedBy === null && cas.root.cert === undefined) continue;
    const spki = entry.signedBy === null ? undefined : issuerSpki.get(entry.signedBy);
    const found = spki === undefined ? undefined : bySerial.get(key(entry.serial, spki));
    const standing = standingOf(found, entry.role, entry.name);
    // A revoked cert the CRL already named (check-ca-policy.ts) is said once.
    const saidRevoked =
      standing.kind === "foreign" &&
      standing.why.startsWith("revoked") &&
      entry.problems.some((p) => p.startsWith("revoked"));
    if (standing.kind === "foreign" && !saidRevoked) entry.problems.push(standing.why);
    // A leaf signed from a CSR (`sign`) has no key file here by design: the key is its owner's.
    else if (found?.source === "csr" && found.status === "valid") dropKeyMissing(entry, now, within);
  }
  return undefined;
}

function dropKeyMissing(entry: CheckEntry, now: Date, within: number): void {
  const kept = entry.problems.filter((p) => !p.endsWith(": key missing"));
  if (kept.length === entry.problems.length) return;
  entry.problems.splice(0, entry.problems.length, ...kept);
  // checkLeaf settled the entry as invalid for the missing key alone: back to what its dates say.
  if (entry.status === "invalid" && kept.length === 0 && entry.notBefore !== null && entry.notAfter !== null)
    entry.status = datedStatus(new Date(entry.notBefore), new Date(entry.notAfter), now, within);
}

/**
 * A key others may not read is the rule (key-mode.ts), so a check run as another user (a cron
 * line as `gateway` over a tree root made) cannot judge the keys: it says who can, once.
 */
export function cannotCheckAs(entries: readonly CheckEntry[], uid: number | undefined): string | null {
  const unreadable = entries.flatMap((e) => (e.keyUnreadable ? [e.keyUnreadable] : []));
  if (unreadable.length === 0) return null;
  const owners = [...new Set(unreadable.map((k) => k.ownerUid))];
  const who = uid === undefined ? "this user" : `uid ${uid}`;
  return `cannot check as ${who}: run as the tree's owner (uid ${owners.join(", uid ")}) or give read access (${plural(unreadable.length, "key")} unreadable: ${unreadable.map((k) => k.path).join(", ")}); the certificates were checked`;
}

/** Exit 1 when a cert is unusable, or (with --within) expires inside the window. */
export function checkFailed(report: CheckReport, failOnExpiring: boolean): boolean {
  return report.certificates.some((c) => entryFails(c, failOnExpiring));
}

/**
 * check's exit code: 2 when a symlink, FIFO or device sits where a key should be (what every
 * command that would read it refuses) or a key could not be read as this user; 1 when a cert is unusable or, with --within, expiring.
 */
export function checkExitCode(report: CheckReport, failOnExpiring: boolean): number {
  if (report.certificates.some((c) => c.plantedFile) || report.cannotCheck) return EXIT.usage;
  return checkFailed(report, failOnExpiring) ? EXIT.problem : EXIT.ok;
}

/** The SANs in `wanted` that `have` lacks (DNS names compare case-insensitively, as DNS does). */
export function missingSans(have: readonly string[], wanted: readonly San[]): San[] {
  const key = (s: string): string => (s.startsWith("DNS:") ? s.toLowerCase() : s);
  const present = new Set(have.map(key));
  return wanted.filter(
    (s) => !present.has(key(formatSan(s.type === "ip" ? { type: "ip", value: canonicalIp(s.value) } : s))),
  );
}

/** Plugin name → the SANs its cert must carry, from the config; empty without a config. */
export async function configSans(config: string | undefined): Promise<Map<string, San[]>> {
  return sansWanted(config === undefined ? undefined : await loadPluginConfig(config));
}

function sansWanted(config: PluginConfig | undefined): Map<string, San[]> {
  const wanted = new Map<string, San[]>();
  for (const p of config?.plugins ?? []) wanted.set(p.name, pluginSans(p.name, p.sans));
  return wanted;
}

interface TreeCas {
  /** CA first, then the intermediate, then a rotation's previous CA. */
  entries: CheckEntry[];
  /** The certs leaves may be signed by, with which one each is. */
  issuers: Array<{ cert: NodeCert; signedBy: SignedBy }>;
  /** What every ca.crt copy must hold. */
  bundlePem: string | undefined;
  root: { entry: CheckEntry; cert: NodeCert | undefined };
}

/**
 * A CA counts as expiring this long ahead: `--within` plus the lead a rotation with overlap needs
 * (the new bundle on every peer, every leaf re-issued and deployed, then the old CA dropped).
 */
export function caWindow(within: number): number {
  return within + CA_ROTATION_LEAD_DAYS;
}

/**
 * Without a readable root CA cert nothing can be verified against it: a leaf is not reported ok
 * on the strength of an intermediate (or no CA at all) alone.
 */
function unverifiable(leaves: CheckEntry[], tree: TreePaths): void {
  for (const entry of leaves) {
    if (entry.signedBy === "self") continue; // the self-signed HTTPS cert needs no CA
    entry.problems.push(`not verified: ${tree.caCert} cannot be read as the CA certificate`);
  }
}

async function readCas(tree: TreePaths, now: Date, leafWithin: number): Promise<TreeCas> {
  const within = caWindow(leafWithin);
  // With an intermediate, the root key may rightly live offline (issue 7): only the signer's is needed.
  const hasIntermediate = await exists(tree.intermediateCert);
  const root = await readCaCert(tree.caCert, tree.caKey, "ca", "ca", now, within, hasIntermediate);
  // What every signing command refuses (key-mode.ts assertCaKeyProtected), reported: check only reads.
  root.entry.problems.push(...(await unsafeDirectories(tree.root, tree.caDir)));
  const cas: TreeCas = { entries: [root.entry], issuers: [], bundlePem: undefined, root };
  if (root.cert) {
    root.entry.signedBy = root.cert.verify(root.cert.publicKey) ? "ca" : null;
    if (root.entry.signedBy === null) root.entry.problems.push("the self-signature does not verify");
    cas.issuers.push({ cert: root.cert, signedBy: "ca" });
    cas.bundlePem = root.pem;
  }
  if (hasIntermediate) {
    const inter = await readCaCert(
      tree.intermediateCert,
      tree.intermediateKey,
      "intermediate",
      "intermediate",
      now,
      within,
    );
    cas.entries.push(inter.entry);
    if (inter.cert) {
      if (root.cert && isIssuedBy(inter.cert, root.cert)) inter.entry.signedBy = "ca";
      else inter.entry.problems.push(`not signed by ${tree.caCert}`);
      cas.issuers.push({ cert: inter.cert, signedBy: "intermediate" });
    }
  }
  if (await exists(tree.previousCaCert)) {
    const previous = await readCaCert(tree.previousCaCert, tree.previousCaKey, "ca", "previous", now, within);
    previous.entry.problems.push(...(await unsafeDirectories(tree.previousCaDir, tree.previousCaDir)));
    cas.entries.push(previous.entry);
    if (previous.cert) {
      previous.entry.signedBy = "previous-ca";
      cas.issuers.push({ cert: previous.cert, signedBy: "previous-ca" });
    }
  }
  const bundle = await readText(tree.caBundle).catch(() => undefined);
  if (bundle !== undefined) {
    cas.bundlePem = bundle;
    const blocks = splitPemBlocks(bundle);
    for (const block of blocks) {
      try {
        new NodeCert(block);
      } catch {
        root.entry.problems.push(`${tree.caBundle}: holds a block that is not a certificate`);
      }
    }
    if (blocks.length === 0) root.entry.problems.push(`${tree.caBundle}: holds no certificate`);
  }
  for (const entry of cas.entries) settle(entry);
  return cas;
}

async function readCaCert(
  certPath: string,
  keyPath: string,
  role: Role,
  name: string,
  now: Date,
  within: number,
  keyOptional = false,
): Promise<{ entry: CheckEntry; cert: NodeCert | undefined; pem: string | undefined }> {
  const entry = blankEntry(certPath, role, name);
  const pem = await readOptional(certPath, entry);
  const cert = pem === undefined ? undefined : parse(pem, entry);
  if (cert) {
    describe(entry, cert, now, within);
    // The CA being rotated out is judged no more: the rotation warning says how it leaves.
    if (name !== "previous") {
      const root = role === "ca";
      const fixes = root ? treeFixes("") : INTERMEDIATE_FIXES;
      addPolicy(
        entry,
        policyOf(cert, entry, (f) => structureProblems(f, { issuer: true, top: root, anchor: root }, fixes)),
      );
    }
    await checkKey(keyPath, cert, entry, keyOptional, role);
  }
  return { entry, cert, pem };
}

async function checkLeaf(
  files: LeafFiles,
  cas: LeafIssuers,
  now: Date,
  within: number,
  wantedSans: Map<string, San[]>,
  o: CheckOptions,
): Promise<CheckEntry> {
  const entry = blankEntry(files.cert, files.role, files.name);
  // A directory another user owns or may write: named, and what renew and export refuse.
  entry.problems.push(...(await leafDirectoryProblems(files)));
  const pem = await readOptional(files.cert, entry);
  const cert = pem === undefined ? undefined : parse(pem, entry);
  if (cert) {
    describe(entry, cert, now, within);
    await checkKey(files.key, cert, entry, false, files.role);
    for (const path of privateKeyFiles(files).filter((p) => p !== files.key))
      await checkKeyBearingFile(path, entry, files.role);
    const sameKeyAsCa = cas.issuers.find((i) => sameCertKey(i.cert, cert));
    if (sameKeyAsCa)
      entry.problems.push(
        `carries the public key of the tree's ${sameKeyAsCa.signedBy === "intermediate" ? "intermediate " : ""}CA: its key is a CA key; remove ${files.dir} and issue it again`,
      );
    const issuer = cas.issuers.find((i) => isIssuedBy(cert, i.cert));
    entry.signedBy = issuer?.signedBy ?? (files.role === "https" && isSelfSigned(cert) ? "self" : null);
    const fixes = treeFixes(files.name);
    if (cas.issuers.length > 0 && entry.signedBy === null) {
      // renew leaves a cert it did not issue alone: the way out is a new one from this CA. Its
      // profile is not ours to judge: "renew NAME" or "renew --ca" would be wrong advice for a
      // cert someone else planted, so it gets this one line (and the ledger's), nothing more.
      entry.problems.push(
        `not signed by this tree's CA; move ${files.dir} away and issue it again with the command that made it`,
      );
      // OpenSSL cannot even match the issuer of a cert with an extension twice (it marks it
      // invalid): its extensions are the likelier cause, and named.
      // The fix stays the one above: a planted cert is not ours to renew.
      addPolicy(
        entry,
        policyOf(cert, entry, (f) =>
          extensionProblems(f, { issuer: false, top: false, anchor: false }, fixes)
            .filter((p) => p.code === "duplicate-extension")
            .map((p) => ({ ...p, fix: `move ${files.dir} away` })),
        ),
      );
      settle(entry);
      return entry;
    }
    if (files.caCopy && cas.bundlePem !== undefined) {
      // readText: a FIFO planted as the copy would block check, and renew, which holds the lock.
      const copy = await readText(files.caCopy).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      if (copy instanceof Error) entry.problems.push(copy.message);
      else if (copy === undefined)
        entry.problems.push(`${files.caCopy}: missing (run the command that made this cert again to restore it)`);
      else if (copy !== cas.bundlePem) entry.problems.push(`${files.caCopy}: differs from the CA certificate`);
    }
    // A haproxy.pem or fullchain.crt that no longer holds this pair: the proxy serves the old cert.
    entry.problems.push(...(await staleBundleProblems(files, cert)));
    const self = entry.signedBy === "self";
    addPolicy(
      entry,
      policyOf(cert, entry, (f) => [
        ...structureProblems(f, { issuer: false, top: self, anchor: self, selfSignedLeaf: self }, fixes),
        ...leafPurposeProblems(f, purposeOfRole(files.role) ?? "server", fixes),
        ...leafRoleProblems(
          f,
          {
            wantedSans: requiredSans(files, wantedSans),
            sanFix: `run \`mtls-certs renew ${files.name}\``,
            issuerNotAfter: issuer ? new Date(issuer.cert.validTo).toISOString() : undefined,
          },
          fixes,
        ),
      ]),
    );
    if (o.extraChecks) entry.problems.push(...(await o.extraChecks(entry, cert, files)));
  }
  settle(entry);
  return entry;
}

/**
 * A dead CA kills every leaf at once, whatever the leaves' own dates (issue 10): so its expiry
 * comes first, before any leaf's.
 */
function warningsFor(cas: TreeCas, leaves: readonly CheckEntry[], tree: TreePaths, within: number): string[] {
  const warnings: string[] = [];
  const ca = cas.entries.filter((e) => e.name !== "previous");
  for (const entry of ca) {
    if (entry.daysLeft === null || entry.notAfter === null) continue;
    if (entry.daysLeft <= caWindow(within)) {
      const when =
        entry.daysLeft < 0
          ? `expired on ${humanDate(entry.notAfter)}`
          : `expires on ${humanDate(entry.notAfter)} (${days(entry.daysLeft ?? 0)} left, within ${caWindow(within)}: --within ${within} plus ${CA_ROTATION_LEAD_DAYS} days for a rotation with overlap)`;
      warnings.push(
        `${entry.path}: the ${entry.role === "ca" ? "CA" : "intermediate CA"} ${when}: every leaf it signed stops verifying then; rotate it with \`mtls-certs renew --ca\`, deploy the ca.crt copies (old and new CA), then \`mtls-certs ca --finish-rotation\``,
      );
    }
  }
  if (cas.entries.some((e) => e.name === "previous")) {
    const old = leaves.filter((l) => l.signedBy === "previous-ca").length;
    warnings.push(
      old > 0
        ? `CA rotation in progress: ${plural(old, "certificate")} still signed by the previous CA (${tree.previousCaCert}); run \`mtls-certs renew\`, deploy them, then \`mtls-certs ca --finish-rotation\``
        : `CA rotation in progress: every certificate is signed by the new CA; run \`mtls-certs ca --finish-rotation\` once they are deployed`,
    );
  }
  return warnings;
}

function blankEntry(path: string, role: Role, name: string): CheckEntry {
  return {
    path,
    role,
    name,
    subject: null,
    serial: null,
    notBefore: null,
    notAfter: null,
    daysLeft: null,
    status: "ok",
    problems: [],
    signedBy: null,
    policy: [],
  };
}

async function readOptional(path: string, entry: CheckEntry): Promise<string | undefined> {
  try {
    const text = await readCertText(path);
    if (text === undefined) entry.problems.push("missing");
    return text;
  } catch (e) {
    entry.problems.push(e instanceof MtlsError ? e.message : `cannot be read (${errnoCode(e) ?? "error"})`);
    return undefined;
  }
}

function parse(pem: string, entry: CheckEntry): NodeCert | undefined {
  try {
    return new NodeCert(pem);
  } catch (e) {
    entry.problems.push(`not a PEM certificate (${whyNotACertificate(pem, e)})`);
    return undefined;
  }
}

function describe(entry: CheckEntry, cert: NodeCert, now: Date, within: number): void {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  entry.subject = cert.subject.split("\n").join(", ");
  entry.serial = cert.serialNumber;
  entry.notBefore = notBefore.toISOString();
  entry.notAfter = notAfter.toISOString();
  entry.daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  entry.status = datedStatus(notBefore, notAfter, now, within);
}

function datedStatus(notBefore: Date, notAfter: Date, now: Date, within: number): CertStatus {
  if (now > notAfter) return "expired";
  if (now < notBefore) return "not-yet-valid";
  if (notAfter.getTime() - now.getTime() <= within * DAY_MS) return "expiring";
  return "ok";
}

/** What a key's read refuses that someone put there (a FIFO, a hard link, a huge file): check exits 2. */
const PLANTED_CODES: ReadonlySet<string> = new Set(["E_NOT_REGULAR_FILE", "E_HARDLINK", "E_TOO_LARGE"]);

/** The key exists, matches, and only who the key-mode rule allows may read it (key-mode.ts). */
async function checkKey(path: string, cert: NodeCert, entry: CheckEntry, optional = false, role?: Role): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.lstat(path);
  } catch {
    if (!optional) entry.problems.push(`${path}: key missing`);
    return;
  }
  // A link in place of a key could point at the CA key (or anything): named, never followed.
  if (stat.isSymbolicLink()) {
    entry.problems.push(`${path}: is a symbolic link, not a key file; replace it with the key itself`);
    entry.plantedFile = true;
    return;
  }
  const modeProblem = keyModeProblem(path, stat, { role });
  if (modeProblem) entry.problems.push(modeProblem);
  let matches: boolean;
  try {
    const pem = (await readKeyText(path)) ?? "";
    if (pem.includes("ENCRYPTED")) {
      // Cannot be compared without the passphrase (`verify` can), but its envelope can be checked.
      const problem = encryptedKeyProblem(pem);
      if (problem) entry.problems.push(`${path}: an encrypted key that no passphrase opens: ${problem}`);
      return;
    }
    // From the key's private part: the public part a key file carries can be forged (key-match.ts).
    matches = privateKeyPemMatches(cert, pem, path);
  } catch (e) {
    const errno = errnoCode(e instanceof Error ? e.cause : undefined);
    if (errno === "EACCES" || errno === "EPERM") {
      entry.keyUnreadable = { path, ownerUid: stat.uid };
      return;
    }
    entry.problems.push(e instanceof MtlsError ? e.message : `${path}: not a readable private key`);
    if (e instanceof MtlsError && PLANTED_CODES.has(e.code)) entry.plantedFile = true;
    return;
  }
  if (!matches) entry.problems.push(`${path}: does not match the certificate`);
}

/**
 * A file beside the key that holds it too (client.pem, HAProxy's haproxy.pem): the same mode
 * rule as the key, and never a link. Absent is fine: they are written on demand.
 */
async function checkKeyBearingFile(path: string, entry: CheckEntry, role: Role): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.lstat(path);
  } catch {
    return;
  }
  if (stat.isSymbolicLink() || !stat.isFile()) {
    entry.problems.push(
      stat.isSymbolicLink()
        ? `${path}: is a symbolic link, not a file; replace it with the file`
        : `${path}: not a regular file`,
    );
    entry.plantedFile = true;
  } else if (stat.nlink > 1) {
    entry.problems.push(`${path}: has ${stat.nlink} names (a hard link); remove it and export it again`);
    entry.plantedFile = true;
  } else {
    const problem = keyModeProblem(path, stat, { role });
    if (problem) entry.problems.push(problem);
  }
}

/** An intermediate cannot be rotated in place (`renew --ca` rotates a root that signs leaves). */
const INTERMEDIATE_FIXES: PolicyFixes = {
  ...treeFixes(""),
  ca: "make a new tree with `mtls-certs ca --intermediate --out DIR` and move the leaves over",
};

/** Runs policy rules on a cert; a cert whose DER the fast reader cannot walk is named as such. */
function policyOf(
  cert: NodeCert,
  entry: CheckEntry,
  rules: (facts: ReturnType<typeof readPolicyFacts>) => PolicyProblem[],
): PolicyProblem[] {
  try {
    return rules(readPolicyFacts(cert, sansOf(cert)));
  } catch {
    entry.problems.push("its DER cannot be read for the strict-peer checks; `mtls-certs inspect` shows what it holds");
    return [];
  }
}

function addPolicy(entry: CheckEntry, problems: readonly PolicyProblem[]): void {
  entry.policy.push(...problems);
  entry.problems.push(...problems.map(describeProblem));
}

/**
 * The SANs a leaf must carry: its role's fixed names (the Makefile's three for a plugin, the
 * server's own name, `make certs`'s localhost and 127.0.0.1), then what the plugin config asks for.
 */
function requiredSans(files: LeafFiles, fromConfig: Map<string, San[]>): Array<{ san: string; why: string }> {
  const fixed: San[] =
    files.role === "plugin"
      ? pluginSans(files.name)
      : files.role === "server"
        ? [dns(files.name)]
        : files.role === "https"
          ? [...HTTPS_SANS]
          : [];
  const configured = files.role === "plugin" ? (fromConfig.get(files.name) ?? []) : [];
  const fixedKeys = new Set(fixed.map(formatSan));
  return [
    ...fixed.map((s) => ({ san: formatSan(s), why: `(a name every ${files.role} cert carries)` })),
    ...missingSans(
      fixed.map(formatSan),
      configured.filter((s) => !fixedKeys.has(formatSan(s))),
    ).map((s) => ({ san: formatSan(s), why: "that the plugin config asks for" })),
  ];
}

/** Problems make a cert invalid whatever its dates; revocation is named as such. */
function settle(entry: CheckEntry): void {
  if (entry.problems.some((p) => p.startsWith("revoked"))) entry.status = "revoked";
  else if (entry.problems.some((p) => p.startsWith("foreign"))) entry.status = "foreign";
  else if (entry.problems.length > 0) entry.status = "invalid";
}
