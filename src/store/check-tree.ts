/**
 * `check`'s judgement of a whole tree: one entry per certificate, CA first, with a status a CI
 * schedule can act on, the tree's warnings and what to run next. `check` reports it; `renew` and
 * `all` start from it. Files are read and parsed concurrently with Node's own X509Certificate
 * (a fraction of a millisecond each; one `openssl x509` process costs ~26 ms).
 */
import { availableParallelism } from "node:os";
import { DEFAULT_OUT, DEFAULT_RENEW_WITHIN_DAYS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { loadPluginConfig } from "../config/plugin-config.js";
import { stackTreeWarning } from "../config/stack.js";
import { wantedSans as sansWanted } from "../config/wanted-sans.js";
import type { San } from "../pki/profiles.js";
import { cannotCheckAs, dropKeyMissing, settle, unverifiable, warningsFor } from "../pki/check-verdict.js";
import { normalizeSerial, spkiSha256 } from "../pki/node-facts.js";
import type { CheckEntry, CheckReport } from "../report/check-report.js";
import { treePaths, type LeafFiles, type TreePaths } from "./paths.js";
import { assertTreeExists, listIssuedLeaves } from "./tree.js";
import { exists } from "./write.js";
import { readLedger, standingOf, type Ledger } from "./ledger.js";
import { checkCaPolicy } from "./ca-policy-check.js";
import {
  checkLeaves,
  readCas,
  type LeafCheckExtras,
  type LeafCheckJob,
  type LeafIssuers,
  type TreeCas,
} from "./check-read.js";
import { embeddedCheckWorker } from "../package-files.js";

export interface CheckOptions extends LeafCheckExtras {
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
}

/**
 * From this many leaves on, they are checked on every core: parsing a key to match it to its
 * cert costs ~0.5 ms of CPU, so 2,000 plugins are ~1 s on one core. Below it, a worker's start-up
 * (~100 ms) costs more than it saves.
 */
export const WORKER_THRESHOLD = 500;

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
  if (cas.root.cert === undefined) unverifiable(entries, tree.caCert);
  // The CA's CRL and name constraints (issues 7, 10); loads nothing when the tree has neither.
  await checkCaPolicy(tree, now, cas.entries, entries);
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
      ...warningsFor(cas.entries, entries, tree.previousCaCert, within),
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
