/**
 * Entering what the ledger lacks: a tree made before the ledger (by the Makefile or an earlier
 * mtls-certs) is adopted whole, and on a tree with one, a cert a killed run wrote but never
 * recorded. Kept apart from the record (ledger.ts) because it is the one place that takes a cert
 * from a leaf directory, which its owner can write, into the record: every refusal that protects
 * the CA from a planted cert is here (issue 13, issue 23 §5).
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { relative } from "node:path";
import { CLOCK_SKEW_MS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { escapeControlCharacters } from "../control-characters.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";
import { createLimiter } from "../pki/limiter.js";
import { normalizeSerial, whyNotACertificate } from "../pki/node-facts.js";
import type { Role } from "../pki/profiles.js";
import { humanDate } from "../human.js";
import { readTreeIssuers, type TreeIssuers } from "./issued-here.js";
import { caIdentities, commonNameOf, identityRefusal } from "./leaf-identity.js";
import { listIssuedLeaves } from "./leaf-list.js";
import { LedgerBook } from "./ledger-book.js";
import { ledgerEntry, readLedger, type Ledger } from "./ledger.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readRevocationStatus, type RevocationStatus } from "./revocation-status.js";
import { readCertText } from "./write.js";

/** One line of adoption output per cert looked at. */
export interface Adoption {
  cert: string;
  role: Role;
  name: string;
  adopted: boolean;
  /** adopted: "serial …, CN=…, until …"; not adopted: why. */
  detail: string;
}

export interface Reconciled {
  book: LedgerBook;
  /** Certs entered now, and certs looked at but left out (foreign). */
  adoptions: Adoption[];
  /** The tree had no ledger: this run adopted it. */
  firstAdoption: boolean;
  /** The CA files as this run read them, for a caller that needs them again (renew's signer). */
  cas: TreeIssuers;
  /** The CRLs' word on the tree's certs, as read for the refusals (renew --reuse-key asks it again). */
  revocation: RevocationStatus;
}

/** What reconcileLedger reads of the tree, when the caller has it already. */
export interface ReconcileReads {
  readonly ledger: Ledger | undefined;
  readonly cas: TreeIssuers;
  /** ca/bundle.crt; undefined when there is none or it cannot be read (`check` names it). */
  readonly bundlePem: string | undefined;
  readonly revocation: RevocationStatus;
}

/**
 * Opens the ledger for a writing command (under the tree lock) and enters what it lacks: on a
 * tree without a ledger (made by the Makefile or an earlier mtls-certs), every leaf cert that
 * verifies against the tree's CAs; on a tree with one, a cert of a tree CA it has no record of,
 * which only a run killed between its cert writes and its ledger write (or openssl with the CA
 * key) leaves. A cert no tree CA signed is never entered. Writes nothing itself: the caller
 * saves the book with its own changes, once.
 */
export async function reconcileLedger(
  tree: TreePaths,
  now: Date,
  only?: readonly LeafFiles[],
  /** A leaf's cert text the caller read already (renew reads each leaf once): not read again. */
  alreadyRead?: (files: LeafFiles) => CertTextRead | undefined,
  /** The ledger and ca/ as the caller read them already (renew's one read): not read again. */
  known?: ReconcileReads,
): Promise<Reconciled> {
  const ledger = known ? known.ledger : await readLedger(tree);
  const book = ledger ? new LedgerBook(ledger) : LedgerBook.empty();
  // With a ledger, only the leaves this run touches can hold a cert a killed run left unrecorded;
  // a tree adopted for the first time is read whole.
  const [read, leaves] = await Promise.all([
    known ? known.cas : readTreeIssuers(tree),
    ledger && only ? Promise.resolve(only) : listIssuedLeaves(tree),
  ]);
  const { issuers } = read;
  const reading = createLimiter(READ_CONCURRENCY);
  const [certs, cas] = await Promise.all([
    Promise.all(leaves.map((files) => reading(() => readCertQuietly(files, alreadyRead?.(files))))),
    caIdentities(tree, issuers, known && { pem: known.bundlePem }),
  ]);
  const adoptions: Adoption[] = [];
  const clientCns = clientCommonNames(leaves, certs, book);
  const revocation = known ? known.revocation : await readRevocationStatus(tree, now);
  const refuse = refusalsFor(leaves, certs, ledger, revocation);
  for (const [i, files] of leaves.entries()) {
    const cert = certs[i];
    const shown = files.role === "https" ? files.cert : relative(tree.root, files.cert);
    if (typeof cert === "string") {
      // Damaged or unreadable: never entered, and `adopt` says so (exit 1) instead of skipping it.
      adoptions.push({ cert: shown, role: files.role, name: files.name, adopted: false, detail: `${cert}: left out` });
      continue;
    }
    if (cert === undefined || book.entryFor(cert) !== undefined) continue;
    if (files.role === "https" && isSelfSigned(cert)) continue; // not the CA's: outside the ledger
    const issuer = issuers.find((ca) => isIssuedBy(cert, ca));
    if (issuer === undefined) {
      adoptions.push({
        cert: shown,
        role: files.role,
        name: files.name,
        adopted: false,
        detail: "not signed by this tree's CA: left out, foreign",
      });
      continue;
    }
    const refusal = refuse(cert) ?? (await identityRefusal(files, cert, cas, clientCns.heldBy(files, cert)));
    if (refusal !== undefined) {
      adoptions.push({ cert: shown, role: files.role, name: files.name, adopted: false, detail: refusal });
      continue;
    }
    const entry = ledgerEntry(cert, issuer, files.role, files.name, "adopted", now);
    book.issued(entry, now);
    adoptions.push({
      cert: shown,
      role: files.role,
      name: files.name,
      adopted: true,
      detail: `serial ${entry.serial}, ${entry.subject}, until ${humanDate(entry.notAfter)}`,
    });
  }
  return { book, adoptions, firstAdoption: ledger === undefined, cas: read, revocation };
}

/**
 * Why a cert a tree CA signed is still not entered, or undefined. The leaf directories are
 * writable by whoever runs the leaf, so being signed by the tree's CA is not enough (issue 13: a
 * CA must not take its records from files an intruder can write):
 * - with a ledger, an unrecorded cert is one a run killed before its ledger write made: issued
 *   after the ledger's newest record. An older one (a cert from before the ledger, or someone's
 *   superseded cert copied into another leaf) would give its subject and SANs to whoever put it
 *   there at the next renew;
 * - a cert the tree's CRL lists was taken back;
 * - a cert found in two leaf directories belongs to at most one of them, and nothing says which:
 *   on a tree without a ledger, nothing is adopted until one copy is gone.
 */
function refusalsFor(
  leaves: readonly LeafFiles[],
  certs: ReadonlyArray<NodeCert | string | undefined>,
  ledger: Ledger | undefined,
  revocation: { leafProblem(serial: string | null): string | undefined },
): (cert: NodeCert) => string | undefined {
  const identity = (cert: NodeCert) => `${normalizeSerial(cert.serialNumber)} ${cert.issuer}`;
  const where = new Map<string, string[]>();
  for (const [i, cert] of certs.entries())
    if (cert instanceof NodeCert) where.set(identity(cert), [...(where.get(identity(cert)) ?? []), leaves[i]!.dir]);
  const newest = ledger ? Math.max(0, ...ledger.entries.map((e) => Date.parse(e.recordedAt))) : undefined;
  const fix = "left out, foreign (remove it and issue the leaf again)";
  return (cert) => {
    const revoked = revocation.leafProblem(cert.serialNumber);
    if (revoked) return `${revoked}: ${fix}`;
    const copies = where.get(identity(cert)) ?? [];
    if (copies.length > 1) {
      const what = `the same certificate (serial ${normalizeSerial(cert.serialNumber)}) is in ${copies.join(" and ")}`;
      // On a first adoption, entering the others would date this one "before the ledger" for
      // good: nothing is written until a person has removed the copy that does not belong.
      if (ledger === undefined)
        throw new MtlsError(
          "E_FOREIGN",
          `${what}; only one of them can be its own, so the tree is not adopted`,
          "remove the copy that does not belong (and its key), then run the command again",
        );
      return `${what}: ${fix}`;
    }
    // Issuing backdates notBefore by the clock-skew allowance; a second for its rounding down.
    const issuedAround = Date.parse(cert.validFrom) + CLOCK_SKEW_MS + 1000;
    if (newest !== undefined && issuedAround < newest)
      return `issued before the ledger's newest record (${new Date(newest).toISOString()}) yet not in it: ${fix}`;
    return undefined;
  };
}

/**
 * Which client holds which subject CN: the valid certs the ledger records, and the client certs on
 * disk that no ledger entry contradicts. A client's CN is free (`--cn`), so an old cert of one
 * client copied into another's directory is told by its CN, held by the first (issue 23 §5).
 */
function clientCommonNames(
  leaves: readonly LeafFiles[],
  certs: ReadonlyArray<NodeCert | string | undefined>,
  book: LedgerBook,
): { heldBy(files: LeafFiles, cert: NodeCert): string | undefined } {
  const holders = new Map<string, Set<string>>();
  const hold = (cn: string | undefined, name: string) => {
    if (cn !== undefined) holders.set(cn.toLowerCase(), (holders.get(cn.toLowerCase()) ?? new Set()).add(name));
  };
  for (const e of book.entries) if (e.role === "client" && e.status === "valid") hold(commonNameOf(e.subject), e.name);
  for (const [i, cert] of certs.entries())
    if (cert instanceof NodeCert && leaves[i]?.role === "client") hold(commonNameOf(cert.subject), leaves[i]!.name);
  return {
    heldBy(files, cert) {
      const cn = commonNameOf(cert.subject);
      if (files.role !== "client" || cn === undefined) return undefined;
      const others = [...(holders.get(cn.toLowerCase()) ?? [])].filter((n) => n !== files.name);
      return others.length > 0 ? `client ${others.sort().join(", client ")}` : undefined;
    },
  };
}

/** Leaf certs read at once: a tree of thousands stays under the open-file limit. */
const READ_CONCURRENCY = 64;

/** A cert file's text (undefined: there is none), or the error that refused reading it. */
export type CertTextRead = { readonly text: string | undefined } | { readonly error: unknown };

/**
 * The leaf's cert; undefined when there is none; why not, when the file is not a certificate. A
 * cert that cannot be read here is left to `check` and renew, which name the problem.
 */
async function readCertQuietly(files: LeafFiles, read?: CertTextRead): Promise<NodeCert | string | undefined> {
  const got =
    read ??
    (await readCertText(files.cert).then(
      (text) => ({ text }),
      (error: unknown) => ({ error }),
    ));
  if ("error" in got) {
    const e = got.error;
    return e instanceof Error ? e.message.replace(`${files.cert}: `, "") : String(e);
  }
  const pem = got.text;
  if (pem === undefined) return undefined;
  try {
    return new NodeCert(pem);
  } catch (e) {
    return `not a PEM certificate (${whyNotACertificate(pem, e)})`;
  }
}

/** The lines a writing command prints for what it adopted. */
export function adoptionLines(
  r: Pick<Reconciled, "adoptions" | "firstAdoption">,
  showLeftOut = r.firstAdoption,
): string[] {
  // A foreign cert is named by check and renew on every run; here only when adopting a tree.
  const shown = r.adoptions.filter((a) => a.adopted || showLeftOut);
  // Paths and subjects come from the leaf directories: ESC never reaches the terminal.
  const lines = shown.map((a) =>
    escapeControlCharacters(`${a.adopted ? "adopted" : "not adopted"} ${a.cert}: ${a.detail}`),
  );
  if (r.firstAdoption && r.adoptions.length > 0)
    lines.unshift(
      `no issuance ledger yet: adopting the certificates this tree's CA signed (${r.adoptions.filter((a) => a.adopted).length})`,
    );
  return lines;
}
