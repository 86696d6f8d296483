/**
 * The ledger in memory for one command: read once, changed, written once at the end, so `all`
 * over many leaves costs one write, not one per cert. The record's shape and its rules are in
 * ledger.ts; this is only the bookkeeping a writing command does between its read and its write.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import type { Role } from "../pki/profiles.js";
import { LEDGER_VERSION, standingOf, writeLedger, type Ledger, type LedgerEntry, type Standing } from "./ledger.js";
import type { TreePaths } from "./paths.js";

/** One command's ledger, in memory. `changed` tells whether there is anything to write. */
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
