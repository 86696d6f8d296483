/**
 * Reads the tree's CAs and leaves for `check` and judges each with pki/check-verdict.ts: one
 * entry per certificate. Files are opened by descriptor (leaf-file.ts), keys without following links.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { MtlsError, errnoCode } from "../errors.js";
import { createLimiter } from "../pki/limiter.js";
import type { Role, San } from "../pki/profiles.js";
import { extensionProblems, structureProblems } from "../pki/peer-policy.js";
import { treeFixes } from "../pki/policy-problem.js";
import { leafPurposeProblems, purposeOfRole } from "../pki/purpose-policy.js";
import { leafRoleProblems } from "../pki/leaf-role-policy.js";
import {
  INTERMEDIATE_FIXES,
  addPolicy,
  blankEntry,
  caWindow,
  describeDates,
  policyOf,
  requiredSans,
  settle,
} from "../pki/check-verdict.js";
import type { CheckEntry, SignedBy } from "../report/check-report.js";
import { privateKeyFiles, type LeafFiles, type TreePaths } from "./paths.js";
import { leafDirectoryProblems } from "./tree.js";
import { exists, readCertText, readText } from "./write.js";
import { checkKey, checkKeyBearingFile } from "./check-key.js";
import { unsafeDirectories } from "./key-mode.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";
import { whyNotACertificate } from "../pki/node-facts.js";
import { sameCertKey } from "../pki/key-match.js";
import { splitPemBlocks } from "../pki/pem.js";
import { staleBundleProblems } from "./leaf-bundles.js";

/** Leaves checked at once: enough to keep the disk busy, few enough to stay under the fd limit. */
const CHECK_CONCURRENCY = 64;

/** What checking leaves needs from the tree's CAs: plain data, so a worker thread can take it. */
export interface LeafCheckJob {
  leaves: LeafFiles[];
  issuers: Array<{ pem: string; signedBy: SignedBy }>;
  bundlePem: string | undefined;
  now: string;
  within: number;
  wanted: Array<[string, San[]]>;
}

export type LeafIssuers = Pick<TreeCas, "issuers" | "bundlePem">;

/** Extra checks a leaf must pass (a CRL, …): return problems found. */
export interface LeafCheckExtras {
  extraChecks?: (entry: CheckEntry, cert: NodeCert, files: LeafFiles) => string[] | Promise<string[]>;
}

export async function checkLeaves(
  leaves: readonly LeafFiles[],
  cas: LeafIssuers,
  now: Date,
  within: number,
  wantedSans: Map<string, San[]>,
  o: LeafCheckExtras = {},
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

export interface TreeCas {
  /** CA first, then the intermediate, then a rotation's previous CA. */
  entries: CheckEntry[];
  /** The certs leaves may be signed by, with which one each is. */
  issuers: Array<{ cert: NodeCert; signedBy: SignedBy }>;
  /** What every ca.crt copy must hold. */
  bundlePem: string | undefined;
  root: { entry: CheckEntry; cert: NodeCert | undefined };
}

export async function readCas(tree: TreePaths, now: Date, leafWithin: number): Promise<TreeCas> {
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
    describeDates(entry, cert, now, within);
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
  o: LeafCheckExtras,
): Promise<CheckEntry> {
  const entry = blankEntry(files.cert, files.role, files.name);
  // A directory another user owns or may write: named, and what renew and export refuse.
  entry.problems.push(...(await leafDirectoryProblems(files)));
  const pem = await readOptional(files.cert, entry);
  const cert = pem === undefined ? undefined : parse(pem, entry);
  if (cert) {
    describeDates(entry, cert, now, within);
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
            wantedSans: requiredSans(files.role, files.name, wantedSans),
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
