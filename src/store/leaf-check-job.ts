/**
 * Reading and judging a slice of the leaves: on the main thread, or in a worker thread of `check`
 * on a big tree (check-worker.ts). A job is plain data (the CAs as PEM), so a worker can take it.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import type { San } from "../pki/profiles.js";
import type { SignedBy } from "../pki/check-entry.js";
import { LEAVES_PER_TURN, readLeavesFacts, type LeafFacts } from "./inventory-leaf.js";
import { judgeLeaf, type LeafIssuers, type LeafVerdict } from "./leaf-verdict.js";
import type { LeafFiles } from "./paths.js";
import type { FileRead } from "./file-facts.js";

/** What checking leaves needs from the tree's CAs: plain data, so a worker thread can take it. */
export interface LeafCheckJob {
  leaves: LeafFiles[];
  issuers: Array<{ pem: string; signedBy: SignedBy }>;
  bundlePem: string | undefined;
  now: string;
  within: number;
  wanted: Array<[string, San[]]>;
  /** Files of these leaves the caller holds already (check-tree.ts CheckOptions.known). */
  known?: Array<[string, FileRead]>;
}

/** Each leaf's facts judged: one verdict per leaf, in order, yielding between slices as the read does. */
export async function judgeLeaves(
  facts: readonly LeafFacts[],
  cas: LeafIssuers,
  now: Date,
  within: number,
  wanted: ReadonlyMap<string, readonly San[]>,
): Promise<LeafVerdict[]> {
  const verdicts: LeafVerdict[] = [];
  for (const [i, f] of facts.entries()) {
    if (i > 0 && i % LEAVES_PER_TURN === 0) await new Promise(setImmediate);
    verdicts.push(judgeLeaf(f, cas, now, within, wanted));
  }
  return verdicts;
}

/** Runs a job: reads its leaves once, then judges them. */
export async function runLeafCheckJob(job: LeafCheckJob): Promise<LeafVerdict[]> {
  const issuers = job.issuers.map((i) => ({ cert: new NodeCert(i.pem), signedBy: i.signedBy }));
  const facts = await readLeavesFacts(job.leaves, job.known && new Map(job.known));
  return judgeLeaves(facts, { issuers, bundlePem: job.bundlePem }, new Date(job.now), job.within, new Map(job.wanted));
}
