/**
 * The issuance ledger: <tree>/ca/ledger.json, the record of every certificate the tree's CAs
 * issued, as `openssl ca`'s index.txt and step-ca's database are. A CA must sign only what it
 * decided: a cert in a leaf directory that the ledger does not know (planted by whoever can write
 * that directory, which a container's read-write mount allows) is foreign, and renew, export and
 * `--reuse-key` never take it as a record. ca/ is never mounted into a leaf's container.
 *
 * The file, version 1 (one JSON document, replaced atomically under the tree lock):
 *   { "version": 1, "entries": [ {
 *       "serial": "1A2B…",                    upper-case hex, no leading zeros (as openssl prints)
 *       "issuer": { "subject": "CN=…, O=…", "spkiSha256": "<hex>" },   the CA that signed it
 *       "role": "plugin", "name": "a",        which leaf directory it was issued for
 *       "subject": "CN=a, O=…", "sans": ["DNS:a", "IP:10.0.0.1"],
 *       "notBefore": ISO date, "notAfter": ISO date,
 *       "spkiSha256": "<hex>",                SHA-256 of the DER SubjectPublicKeyInfo (the key)
 *       "fingerprint": "AB:CD:…",             SHA-256 of the cert's DER, as openssl -fingerprint prints it
 *       "status": "valid" | "superseded" | "revoked",
 *       "revokedAt"?: ISO date, "reason"?: RFC 5280 reason name, "supersededAt"?: ISO date,
 *       "source": "issued" | "adopted" | "csr", "recordedAt": ISO date,
 *       "askedSans"?: ["DNS:opa-plugin"]     names the user asked for on the command line (--san,
 *                                             --ip, `renew NAME --san`): every renewal keeps them } ] }
 * One leaf (role + name) has at most one `valid` entry: the cert on disk.
 *
 * A command reads the ledger once, changes it in memory (LedgerBook) and writes it once at the
 * end: `all` over many leaves costs one write, not one per cert.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { caIdentities, commonNameOf, identityRefusal } from "./leaf-identity.js";
import { relative } from "node:path";
import { CLOCK_SKEW_MS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";
import { createLimiter } from "../pki/limiter.js";
import {
  certificateOf,
  certsInPem,
  normalizeSerial,
  sansOf,
  spkiSha256,
  subjectLine,
  whyNotACertificate,
} from "../pki/node-facts.js";
import { escapeControlCharacters } from "../control-characters.js";
import { humanDate } from "../report/human.js";
import type { HeldName } from "../pki/name-policy.js";
import type { Role } from "../pki/profiles.js";
import { listIssuedLeaves } from "./leaf-list.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readRevocationStatus } from "./revocation-status.js";
import { CERT_MODE, readCertText, readText, writeFileAtomically } from "./write.js";

export const LEDGER_VERSION = 1;

export type LedgerStatus = "valid" | "superseded" | "revoked";
export type LedgerSource = "issued" | "adopted" | "csr";

export interface LedgerIssuer {
  /** The issuing CA's subject on one line; "self" certs are never in the ledger. */
  subject: string;
  spkiSha256: string;
}

export interface LedgerEntry {
  serial: string;
  issuer: LedgerIssuer;
  role: Role;
  name: string;
  subject: string;
  sans: string[];
  notBefore: string;
  notAfter: string;
  spkiSha256: string;
  fingerprint: string;
  status: LedgerStatus;
  revokedAt?: string;
  reason?: string;
  supersededAt?: string;
  source: LedgerSource;
  recordedAt: string;
  /**
   * SANs asked for on the command line (`--san`, `--ip`, `renew NAME --san`), beyond the role's
   * own names and the config's: renewal carries them over, so they are never lost. Absent: none.
   */
  askedSans?: string[];
}

export interface Ledger {
  version: typeof LEDGER_VERSION;
  entries: LedgerEntry[];
}

/** The ledger on disk; undefined when the tree has none yet (not adopted). */
export async function readLedger(tree: TreePaths): Promise<Ledger | undefined> {
  const text = await readText(tree.ledger);
  if (text === undefined) return undefined;
  const damaged = (why: string): MtlsError =>
    new MtlsError(
      "E_DAMAGED",
      `${tree.ledger}: ${why}`,
      `restore it from a backup; only if there is none, move it aside and run \`mtls-certs adopt --out ${tree.root}\``,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged("not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || !("version" in parsed) || !("entries" in parsed))
    throw damaged("not a ledger (no version and entries)");
  if (parsed.version !== LEDGER_VERSION)
    throw damaged(`version ${JSON.stringify(parsed.version)}; this mtls-certs reads version ${LEDGER_VERSION}`);
  const entries = parsed.entries;
  if (!Array.isArray(entries) || !entries.every(isEntry)) throw damaged("an entry lacks serial, fingerprint or status");
  return { version: LEDGER_VERSION, entries };
}

function isEntry(e: unknown): e is LedgerEntry {
  if (typeof e !== "object" || e === null) return false;
  const r = e as Record<string, unknown>;
  return (
    typeof r.serial === "string" &&
    typeof r.fingerprint === "string" &&
    typeof r.role === "string" &&
    typeof r.name === "string" &&
    (r.status === "valid" || r.status === "superseded" || r.status === "revoked")
  );
}

/** Replaces ca/ledger.json atomically (temp, fsync, rename). The caller holds the tree lock. */
export async function writeLedger(tree: TreePaths, ledger: Ledger): Promise<void> {
  await writeFileAtomically(tree.ledger, `${JSON.stringify(ledger, null, 2)}\n`, { mode: CERT_MODE, replace: true });
}

/** The entry for a cert the CA `issuer` signed, for the leaf `role`/`name`. */
export function ledgerEntry(
  cert: NodeCert,
  issuer: NodeCert,
  role: Role,
  name: string,
  source: LedgerSource,
  now: Date,
  askedSans: readonly string[] = [],
): LedgerEntry {
  return {
    serial: normalizeSerial(cert.serialNumber),
    issuer: { subject: subjectLine(issuer), spkiSha256: spkiSha256(issuer) },
    role,
    name,
    subject: subjectLine(cert),
    sans: sansOf(cert),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    spkiSha256: spkiSha256(cert),
    fingerprint: cert.fingerprint256,
    status: "valid",
    source,
    recordedAt: now.toISOString(),
    ...(askedSans.length > 0 ? { askedSans: [...askedSans] } : {}),
  };
}

/** What the ledger says of the cert found in a leaf directory. */
export type Standing =
  | { kind: "known"; entry: LedgerEntry }
  /** Not issued for this leaf by this tree: renew leaves it alone, export refuses it. */
  | { kind: "foreign"; why: string };

/**
 * The ledger in memory for one command: read once, changed, written once. `changed` tells
 * whether there is anything to write.
 */
export class LedgerBook {
  changed = false;
  private readonly byFingerprint = new Map<string, LedgerEntry>();

  constructor(readonly ledger: Ledger) {
    for (const e of ledger.entries) this.byFingerprint.set(e.fingerprint, e);
  }

  static empty(): LedgerBook {
    const book = new LedgerBook({ version: LEDGER_VERSION, entries: [] });
    book.changed = true; // a tree adopted with no cert still gets its (empty) ledger
    return book;
  }

  get entries(): readonly LedgerEntry[] {
    return this.ledger.entries;
  }

  /** The entry of exactly this cert (same DER), whatever its status. */
  entryFor(cert: NodeCert): LedgerEntry | undefined {
    return this.byFingerprint.get(cert.fingerprint256);
  }

  /** Is `cert`, found in the directory of leaf `role`/`name`, the one this tree issued there? */
  standing(role: Role, name: string, cert: NodeCert): Standing {
    return standingOf(this.entryFor(cert), role, name);
  }

  /** A new cert for a leaf: the leaf's earlier valid entry becomes superseded. */
  issued(entry: LedgerEntry, now: Date): void {
    if (this.byFingerprint.has(entry.fingerprint)) return;
    for (const e of this.ledger.entries)
      if (e.role === entry.role && e.name === entry.name && e.status === "valid") {
        e.status = "superseded";
        e.supersededAt = now.toISOString();
      }
    this.ledger.entries.push(entry);
    this.byFingerprint.set(entry.fingerprint, entry);
    this.changed = true;
  }

  /** Marks the entry of `cert` revoked; false when the ledger does not know it. */
  revoked(cert: NodeCert, reason: string, at: Date): boolean {
    const entry = this.entryFor(cert);
    if (entry === undefined) return false;
    if (entry.status === "revoked") return true;
    entry.status = "revoked";
    entry.revokedAt = at.toISOString();
    entry.reason = reason;
    this.changed = true;
    return true;
  }

  async save(tree: TreePaths): Promise<void> {
    if (!this.changed) return;
    await writeLedger(tree, this.ledger);
    this.changed = false;
  }
}

/** The rule behind LedgerBook.standing, for callers holding only an entry (check). */
export function standingOf(entry: LedgerEntry | undefined, role: Role, name: string): Standing {
  if (entry === undefined)
    return { kind: "foreign", why: "foreign: this tree's ledger (ca/ledger.json) has no record of issuing it" };
  if (entry.role !== role || entry.name !== name)
    return {
      kind: "foreign",
      why: `foreign: the ledger has it as ${entry.role} ${entry.name}'s cert (serial ${entry.serial}), not this leaf's`,
    };
  // A revoked cert put back (its key may be compromised): never this leaf's cert again.
  if (entry.status === "revoked")
    return {
      kind: "foreign",
      why: `revoked: serial ${entry.serial} was revoked (${entry.reason ?? "unspecified"}) on ${entry.revokedAt ?? "?"}; a revoked cert must not serve again`,
    };
  if (entry.status === "superseded")
    return {
      kind: "foreign",
      why: `foreign: serial ${entry.serial} was superseded on ${entry.supersededAt ?? "?"}; an old cert was put back`,
    };
  return { kind: "known", entry };
}

/**
 * The names each leaf's valid cert carries, as the name policy (pki/name-policy.ts) weighs a new
 * leaf's names against them: one name, one leaf.
 */
export function heldNames(entries: readonly LedgerEntry[]): HeldName[] {
  return entries
    .filter((e) => e.status === "valid")
    .flatMap((e) => (e.sans ?? []).map((san) => ({ san, role: e.role, name: e.name })));
}

/** Tree-level helpers for commands that change one thing (others batch with LedgerBook). */
export async function recordIssued(tree: TreePaths, entries: readonly LedgerEntry[], now = new Date()): Promise<void> {
  const book = await openBook(tree);
  for (const e of entries) book.issued(e, now);
  await book.save(tree);
}

export async function markRevoked(tree: TreePaths, cert: NodeCert, reason: string, at: Date): Promise<boolean> {
  const book = await openBook(tree);
  const known = book.revoked(cert, reason, at);
  await book.save(tree);
  return known;
}

/** Marks a leaf's valid entry superseded without a successor (the leaf was removed). */
export async function markSuperseded(tree: TreePaths, role: Role, name: string, now = new Date()): Promise<void> {
  const book = await openBook(tree);
  for (const e of book.ledger.entries)
    if (e.role === role && e.name === name && e.status === "valid") {
      e.status = "superseded";
      e.supersededAt = now.toISOString();
      book.changed = true;
    }
  await book.save(tree);
}

/** The entry of a cert, or undefined (also when the tree has no ledger). */
export async function ledgerEntryFor(tree: TreePaths, cert: NodeCert): Promise<LedgerEntry | undefined> {
  const ledger = await readLedger(tree);
  return ledger && new LedgerBook(ledger).entryFor(cert);
}

async function openBook(tree: TreePaths): Promise<LedgerBook> {
  const ledger = await readLedger(tree);
  return ledger ? new LedgerBook(ledger) : LedgerBook.empty();
}

/** The CAs whose certs the ledger may hold: the root, the intermediate, a rotation's previous CA. */
export async function treeIssuers(tree: TreePaths): Promise<NodeCert[]> {
  const pems = await Promise.all([tree.intermediateCert, tree.caCert, tree.previousCaCert].map((p) => readText(p)));
  const issuers: NodeCert[] = [];
  // Every CA of each file (ca/ca.crt holds two during a rotation); a damaged one: `check` names it.
  for (const pem of pems) issuers.push(...certsInPem(pem ?? ""));
  return issuers;
}

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
}

/**
 * Opens the ledger for a writing command (under the tree lock) and enters what it lacks: on a
 * tree without a ledger (made by the Makefile or an earlier mtls-certs), every leaf cert that
 * verifies against the tree's CAs; on a tree with one, a cert of a tree CA it has no record of,
 * which only a run killed between its cert writes and its ledger write (or openssl with the CA
 * key) leaves. A cert no tree CA signed is never entered. Writes nothing itself: the caller
 * saves the book with its own changes, once.
 */
export async function reconcileLedger(tree: TreePaths, now: Date, only?: readonly LeafFiles[]): Promise<Reconciled> {
  const ledger = await readLedger(tree);
  const book = ledger ? new LedgerBook(ledger) : LedgerBook.empty();
  // With a ledger, only the leaves this run touches can hold a cert a killed run left unrecorded;
  // a tree adopted for the first time is read whole.
  const [issuers, leaves] = await Promise.all([
    treeIssuers(tree),
    ledger && only ? Promise.resolve(only) : listIssuedLeaves(tree),
  ]);
  const reading = createLimiter(READ_CONCURRENCY);
  const [certs, cas] = await Promise.all([
    Promise.all(leaves.map((files) => reading(() => readCertQuietly(files)))),
    caIdentities(tree, issuers),
  ]);
  const adoptions: Adoption[] = [];
  const clientCns = clientCommonNames(leaves, certs, book);
  const refuse = refusalsFor(leaves, certs, ledger, await readRevocationStatus(tree, now));
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
  return { book, adoptions, firstAdoption: ledger === undefined };
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

/** A cert that cannot be read here is left to `check` and renew, which name the problem. */
/** The leaf's cert; undefined when there is none; why not, when the file is not a certificate. */
async function readCertQuietly(files: LeafFiles): Promise<NodeCert | string | undefined> {
  let pem: string | undefined;
  try {
    pem = await readCertText(files.cert);
  } catch (e) {
    return e instanceof Error ? e.message.replace(`${files.cert}: `, "") : String(e);
  }
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

/**
 * For exports (p12, k8s, haproxy, env …): refuses a leaf cert the ledger did not record for its
 * directory, so a planted cert and key never end up in a Secret or a proxy's PEM. A tree without
 * a ledger (not adopted yet) has no record to hold it to: there the cert must at least be one of
 * the tree's CAs signed (a self-signed one planted in a Makefile tree is refused).
 */
export async function assertIssuedHere(tree: TreePaths, files: LeafFiles, pem: string, what: string): Promise<void> {
  const ledger = await readLedger(tree);
  const cert = certificateOf(pem, files.cert, "restore it from a backup");
  if (files.role === "https" && isSelfSigned(cert)) return;
  if (ledger === undefined) {
    if ((await treeIssuers(tree)).some((ca) => isIssuedBy(cert, ca))) return;
    throw new MtlsError(
      "E_FOREIGN",
      `${files.cert}: not signed by this tree's CA; ${what} refuses it`,
      `if nobody you trust put it there, remove ${files.cert} and its key, then issue the leaf again (\`mtls-certs ${files.role} ${files.name}\`); \`mtls-certs adopt\` records the tree's certificates`,
    );
  }
  const standing = new LedgerBook(ledger).standing(files.role, files.name, cert);
  if (standing.kind === "foreign")
    throw new MtlsError(
      "E_FOREIGN",
      `${files.cert}: ${standing.why}; ${what} refuses it`,
      `if nobody you trust put it there, remove ${files.cert} and its key, then issue the leaf again (\`mtls-certs ${files.role} ${files.name}\`)`,
    );
}
