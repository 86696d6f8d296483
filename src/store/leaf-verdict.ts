/**
 * The judge of one certificate read into plain data (inventory-leaf.ts): its dates, its key (the
 * key-mode rule, the match), the files beside it, which tree CA signed it, its ca.crt copy and
 * bundles, and the strict-peer policy (pki/peer-policy.ts and its siblings). No file is opened
 * here: facts in, a `check` entry out, the same in a worker thread as on the main one.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import type { Role, San } from "../pki/profiles.js";
import { extensionProblems, structureProblems } from "../pki/peer-policy.js";
import { treeFixes } from "../pki/policy-problem.js";
import { leafPurposeProblems, purposeOfRole } from "../pki/purpose-policy.js";
import { leafRoleProblems } from "../pki/leaf-role-policy.js";
import { addPolicy, blankEntry, describeDates, policyOf, requiredSans, settle } from "../pki/check-verdict.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";
import { sameCertKey } from "../pki/key-match.js";
import { sansOf } from "../pki/node-facts.js";
import type { CheckEntry, SignedBy } from "../pki/check-entry.js";
import { keyModeProblem } from "./key-mode.js";
import { staleBundleProblem } from "./leaf-bundles.js";
import type { CertFacts, KeyBearingFacts, KeyFacts, LeafFacts } from "./inventory-leaf.js";

/** What judging a leaf needs from the tree's CAs. */
export interface LeafIssuers {
  /** The certs leaves may be signed by, with which one each is. */
  readonly issuers: ReadonlyArray<{ readonly cert: NodeCert; readonly signedBy: SignedBy }>;
  /** What every ca.crt copy must hold. */
  readonly bundlePem: string | undefined;
}

/** A leaf's entry, and its SANs (the CA's name constraints are judged on them, on the main thread). */
export interface LeafVerdict {
  entry: CheckEntry;
  sans: string[];
}

/** What a key's read refuses that someone put there (a FIFO, a hard link, a huge file): check exits 2. */
const PLANTED_CODES: ReadonlySet<string> = new Set(["E_NOT_REGULAR_FILE", "E_HARDLINK", "E_TOO_LARGE"]);

/** The cert's read problems ("missing", a refusal, not a certificate) on the entry; its dates when it parsed. */
export function judgeCertFile(entry: CheckEntry, facts: CertFacts, now: Date, within: number): NodeCert | undefined {
  const { read } = facts;
  if (read.found === "missing") entry.problems.push("missing");
  else if (read.found !== "read") entry.problems.push(read.refusal.message);
  else if (facts.notACertificate !== undefined) entry.problems.push(`not a PEM certificate (${facts.notACertificate})`);
  if (facts.cert) describeDates(entry, facts.cert, now, within);
  return facts.cert;
}

/** The key exists, matches, and only who the key-mode rule allows may read it (key-mode.ts). */
export function judgeKey(entry: CheckEntry, key: KeyFacts, role: Role, optional = false): void {
  const { path } = key;
  if (key.found === "missing") {
    if (!optional) entry.problems.push(`${path}: key missing`);
    return;
  }
  // A link in place of a key could point at the CA key (or anything): named, never followed.
  if (key.found === "link") {
    entry.problems.push(`${path}: is a symbolic link, not a key file; replace it with the key itself`);
    entry.plantedFile = true;
    return;
  }
  // A FIFO or socket in its place is named below as not a regular file; its mode is no key's.
  const modeProblem = key.stat?.kind === "a regular file" ? keyModeProblem(path, key.stat, { role }) : undefined;
  if (modeProblem) entry.problems.push(modeProblem);
  if (key.found === "unreadable") {
    entry.keyUnreadable = { path, ownerUid: key.stat?.uid ?? -1 };
    return;
  }
  if (key.refusal) {
    entry.problems.push(key.refusal.message);
    if (PLANTED_CODES.has(key.refusal.code)) entry.plantedFile = true;
    return;
  }
  if (key.encrypted) {
    // Cannot be compared without the passphrase (`verify` can), but its envelope can be checked.
    if (key.encrypted.problem)
      entry.problems.push(`${path}: an encrypted key that no passphrase opens: ${key.encrypted.problem}`);
    return;
  }
  if (key.matches === false) entry.problems.push(`${path}: does not match the certificate`);
}

/**
 * A file beside the key that holds it too (client.pem, HAProxy's haproxy.pem): the same mode
 * rule as the key, and never a link. Absent is fine: they are written on demand.
 */
function judgeKeyBearingFile(entry: CheckEntry, { path, stat }: KeyBearingFacts, role: Role): void {
  if (stat === undefined) return;
  if (stat.kind !== "a regular file") {
    entry.problems.push(
      stat.kind === "a symbolic link"
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

export function judgeLeaf(
  facts: LeafFacts,
  cas: LeafIssuers,
  now: Date,
  within: number,
  wantedSans: ReadonlyMap<string, readonly San[]>,
): LeafVerdict {
  const { files } = facts;
  const entry = blankEntry(files.cert, files.role, files.name);
  // A directory another user owns or may write: named, and what renew and export refuse.
  entry.problems.push(...facts.directoryProblems);
  const cert = judgeCertFile(entry, facts.cert, now, within);
  if (cert) {
    if (facts.key) judgeKey(entry, facts.key, files.role);
    for (const file of facts.keyBearing) judgeKeyBearingFile(entry, file, files.role);
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
      return { entry, sans: sansOf(cert) };
    }
    const copy = facts.caCopy;
    if (copy && cas.bundlePem !== undefined) {
      if (copy.found === "missing")
        entry.problems.push(`${copy.path}: missing (run the command that made this cert again to restore it)`);
      else if (copy.found !== "read") entry.problems.push(copy.refusal.message);
      else if (copy.text !== cas.bundlePem) entry.problems.push(`${copy.path}: differs from the CA certificate`);
    }
    // A haproxy.pem or fullchain.crt that no longer holds this pair: the proxy serves the old cert.
    for (const { bundle, read } of facts.bundles) {
      const problem = staleBundleProblem(files, bundle, read, cert);
      if (problem) entry.problems.push(problem);
      // What a read of it by name refuses ends in exit 2, as it did when it ended the run.
      if ((read.found === "refused" || read.found === "unopened") && read.refusal.code !== "E_NOT_REGULAR_FILE")
        entry.plantedFile = true;
    }
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
  }
  settle(entry);
  return { entry, sans: cert ? sansOf(cert) : [] };
}
