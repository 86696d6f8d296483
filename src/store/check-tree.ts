/**
 * `check`'s judgement of a whole tree: read once (inventory.ts), judged (ca-verdict.ts,
 * leaf-verdict.ts, tree-verdict.ts): one entry per certificate, CA first, with a status a CI
 * schedule can act on, the tree's warnings and what to run next. `check` reports it; `renew` and
 * `all` start from it. Files are read and parsed concurrently with Node's own X509Certificate
 * (a fraction of a millisecond each; one `openssl x509` process costs ~26 ms).
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import { DEFAULT_OUT, DEFAULT_RENEW_WITHIN_DAYS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { loadPluginConfig } from "../config/plugin-config.js";
import type { San } from "../pki/profiles.js";
import { settle } from "../pki/check-verdict.js";
import type { CheckEntry, CheckReport } from "../pki/check-entry.js";
import { treePaths, type LeafFiles } from "./paths.js";
import { readTreeInventory, type TreeInventory } from "./inventory.js";
import type { Ledger } from "./ledger.js";
import type { KnownFiles } from "./file-facts.js";
import { readLeavesFacts } from "./inventory-leaf.js";
import { judgeCas, type TreeCas } from "./ca-verdict.js";
import type { LeafVerdict } from "./leaf-verdict.js";
import { judgeLeaves, type LeafCheckJob } from "./leaf-check-job.js";
import { judgeTree } from "./tree-verdict.js";
import { embeddedCheckWorker } from "../package-files.js";

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
  /** The ledger as the caller holds it, just written (renew): not read again. */
  ledger?: Ledger;
  /**
   * The tree as the caller read it (renew, which read it at its start and changed no CA since):
   * not read again; `out`, `config` and `leaves` are the inventory's.
   */
  inventory?: TreeInventory;
  /**
   * Files of the tree the caller holds already (renew: read at its start, or written by it), by
   * path: judged as held, not opened again, ca/'s too when the tree is read here (after renew's
   * CA rotation). Any other file is read.
   */
  known?: KnownFiles;
  /** Extra checks a leaf signed by this tree must pass (a CRL, …): return problems found. */
  extraChecks?: (entry: CheckEntry, cert: NodeCert, files: LeafFiles) => string[] | Promise<string[]>;
}

/**
 * From this many leaves on, they are checked on every core: parsing a key to match it to its
 * cert costs ~0.5 ms of CPU, so 2,000 plugins are ~1 s on one core. Below it, a worker's start-up
 * (~100 ms) costs more than it saves.
 */
export const WORKER_THRESHOLD = 500;

export async function checkTree(o: CheckOptions = {}): Promise<CheckReport> {
  const now = o.now ?? new Date();
  const within = o.within ?? DEFAULT_RENEW_WITHIN_DAYS;
  const inventory = o.inventory
    ? { ...o.inventory, ...(o.ledger && { ledger: { found: "read", ledger: o.ledger } as const }) }
    : await readInventoryOf(o);
  const cas = judgeCas(inventory, now, within);
  const { leaves, wanted } = inventory;
  const verdicts =
    leaves.length >= WORKER_THRESHOLD && !o.extraChecks
      ? await judgeAcrossCores(leaves, cas, now, within, wanted, o.known)
      : await judgeHere(leaves, cas, now, within, wanted, o.extraChecks, o.known);
  return judgeTree(inventory, cas, verdicts, now, within);
}

async function readInventoryOf(o: CheckOptions): Promise<TreeInventory> {
  const config = o.config === undefined ? undefined : await loadPluginConfig(o.config);
  // An mcp-stack.yaml's certificates.*_path name the tree when no --out does: where `all --config` wrote.
  const tree = treePaths(o.out ?? config?.stack?.out ?? DEFAULT_OUT);
  return readTreeInventory(tree, { config, leaves: o.leaves, ledger: o.ledger, known: o.known });
}

async function judgeHere(
  leaves: readonly LeafFiles[],
  cas: TreeCas,
  now: Date,
  within: number,
  wanted: ReadonlyMap<string, readonly San[]>,
  extraChecks: CheckOptions["extraChecks"],
  known: KnownFiles | undefined,
): Promise<LeafVerdict[]> {
  const facts = await readLeavesFacts(leaves, known);
  const verdicts = await judgeLeaves(facts, cas, now, within, wanted);
  if (extraChecks)
    for (const [i, { entry }] of verdicts.entries()) {
      const cert = facts[i]?.cert.cert;
      // As the judge: a cert no tree CA signed gets its one line and nothing more.
      if (cert === undefined || (cas.issuers.length > 0 && entry.signedBy === null)) continue;
      entry.problems.push(...(await extraChecks(entry, cert, leaves[i]!)));
      settle(entry);
    }
  return verdicts;
}

/** Splits the leaves into one slice per core: the first is read and judged here, the others on workers. */
async function judgeAcrossCores(
  leaves: readonly LeafFiles[],
  cas: TreeCas,
  now: Date,
  within: number,
  wanted: ReadonlyMap<string, readonly San[]>,
  known: KnownFiles | undefined,
): Promise<LeafVerdict[]> {
  const { Worker } = await import("node:worker_threads");
  const slices = Math.max(1, Math.min(availableParallelism(), Math.floor(leaves.length / (WORKER_THRESHOLD / 2))));
  const size = Math.ceil(leaves.length / slices);
  const job = (part: LeafFiles[]): LeafCheckJob => {
    // A leaf's files lie directly in its directory: a set of those, not a scan of the slice per file
    // (renew's map holds the whole tree's files: 6,000 paths × 1,000 leaves took ~0.5 s).
    const dirs = new Set(part.map((l) => l.dir));
    return {
      leaves: part,
      issuers: cas.issuers.map((i) => ({ pem: i.cert.toString(), signedBy: i.signedBy })),
      bundlePem: cas.bundlePem,
      now: now.toISOString(),
      within,
      wanted: [...wanted].map(([name, sans]) => [name, [...sans]]),
      // Plain data too: what the caller holds of this slice's leaves is not opened again there.
      known: known && [...known].filter(([path]) => dirs.has(dirname(path))),
    };
  };
  const onWorker = (part: LeafFiles[]): Promise<LeafVerdict[]> =>
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
  const results = await Promise.all([
    judgeHere(first, cas, now, within, wanted, undefined, known),
    ...rest.map(onWorker),
  ]);
  return results.flat();
}
