/**
 * The judge of the whole tree, once its CAs (ca-verdict.ts) and leaves (leaf-verdict.ts) are
 * judged: the CA's CRL and name constraints, the issuance ledger's standing of each leaf (ledger.ts
 * standingOf), then the report: the entries settled, the warnings, what to run next. Facts in,
 * `check`'s report out; no file is opened here.
 */
import { normalizeSerial, spkiSha256 } from "../pki/node-facts.js";
import { cannotCheckAs, dropKeyMissing, settle, unverifiable, warningsFor } from "../pki/check-verdict.js";
import type { CheckEntry, CheckReport } from "../pki/check-entry.js";
import { judgeCaPolicy, type TreeCas } from "./ca-verdict.js";
import type { TreeInventory } from "./inventory.js";
import { standingOf } from "./ledger.js";
import type { LeafVerdict } from "./leaf-verdict.js";

export async function judgeTree(
  inv: TreeInventory,
  cas: TreeCas,
  leaves: readonly LeafVerdict[],
  now: Date,
  within: number,
): Promise<CheckReport> {
  const { tree } = inv;
  const entries = leaves.map((l) => l.entry);
  if (cas.rootCert === undefined) unverifiable(entries, tree.caCert);
  // The CA's CRL and name constraints (issues 7, 10); loads nothing when the tree has neither.
  await judgeCaPolicy(inv, now, cas.entries, leaves);
  const ledgerWarning = judgeAgainstLedger(inv, cas, entries, now, within);
  for (const entry of [...cas.entries, ...entries]) settle(entry);
  const certificates = [...cas.entries, ...entries];
  return {
    checkedAt: now.toISOString(),
    root: tree.root,
    within,
    certificates,
    cannotCheck: cannotCheckAs(certificates, process.getuid?.()),
    warnings: [
      ...(inv.stackWarning ? [inv.stackWarning] : []),
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
function judgeAgainstLedger(
  inv: TreeInventory,
  cas: TreeCas,
  leaves: CheckEntry[],
  now: Date,
  within: number,
): string | undefined {
  const { tree } = inv;
  if (inv.ledger.found === "damaged") {
    cas.entries[0]?.problems.push(inv.ledger.message);
    return undefined;
  }
  if (inv.ledger.found === "missing")
    return `${tree.ledger}: not adopted yet (no issuance ledger): foreign certificates cannot be told apart; run \`mtls-certs adopt --out ${tree.root}\` (any writing command adopts it too)`;
  // A cert a tree CA signed (check verified the signature) is named by its issuer and serial: a
  // CA never signs two certs with one serial. One no tree CA signed is in no ledger.
  const key = (serial: string, issuerSpki: string): string => `${normalizeSerial(serial)} ${issuerSpki}`;
  const bySerial = new Map(inv.ledger.ledger.entries.map((e) => [key(e.serial, e.issuer.spkiSha256), e]));
  const issuerSpki = new Map(cas.issuers.map((i) => [i.signedBy, spkiSha256(i.cert)]));
  for (const entry of leaves) {
    if (entry.serial === null || entry.signedBy === "self") continue;
    // No readable CA cert, no issuer to look it up by: "not verified" (unverifiable) says why.
    if (entry.signedBy === null && cas.rootCert === undefined) continue;
    const spki = entry.signedBy === null ? undefined : issuerSpki.get(entry.signedBy);
    const found = spki === undefined ? undefined : bySerial.get(key(entry.serial, spki));
    const standing = standingOf(found, entry.role, entry.name);
    // A revoked cert the CRL already named (judgeCaPolicy) is said once.
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
