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
 * This file is the record itself: its shape, reading and writing it, an entry for a cert, and the
 * rules every reader applies to one entry (standing, held names). A command changes it in memory
 * through ledger-book.ts and writes it once; ledger-adoption.ts enters what the record lacks;
 * issued-here.ts holds exports to it.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { MtlsError } from "../errors.js";
import { normalizeSerial, sansOf, spkiSha256, subjectLine } from "../pki/node-facts.js";
import type { HeldName } from "../pki/name-policy.js";
import type { Role } from "../pki/profiles.js";
import type { TreePaths } from "./paths.js";
import { CERT_MODE, readText, writeFileAtomically } from "./write.js";

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

/** Is the cert whose entry this is (undefined: none) the one this tree issued for leaf `role`/`name`? */
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
