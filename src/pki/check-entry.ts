/**
 * What `check` finds, as data: one entry per certificate with its status and problems. The judge
 * fills it in (check-verdict.ts here, store/*-verdict.ts); the table, JSON, GitHub annotations and
 * Prometheus metrics (report/) and renew read it. Here, below them all, so none reaches up for it.
 */
import type { PolicyProblem } from "./policy-problem.js";
import type { Role } from "./profiles.js";

/** `foreign`: in a leaf directory, but not what the issuance ledger recorded there (store/ledger.ts). */
export type CertStatus = "ok" | "expiring" | "expired" | "not-yet-valid" | "invalid" | "revoked" | "foreign";

/**
 * Which of the tree's CAs signed a certificate; `previous-ca` during a CA rotation; `self` for
 * the self-signed HTTPS cert `https` makes as `make certs` does.
 */
export type SignedBy = "ca" | "intermediate" | "previous-ca" | "self";

/** One certificate in `check --json`. */
export interface CheckEntry {
  path: string;
  role: Role;
  name: string;
  subject: string | null;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** Whole days until notAfter, negative once expired; null when the cert is unreadable. */
  daysLeft: number | null;
  status: CertStatus;
  problems: string[];
  /** The tree CA that signed it (a CA signs itself); null when none of them did. */
  signedBy: SignedBy | null;
  /**
   * What the strict-peer policy (pki/peer-policy.ts) found, each with its code and the fix that
   * works in place; each is also one line of `problems`.
   */
  policy: PolicyProblem[];
  /** A constrained CA's name constraints, one per line (`permitted DNS:example.com`). */
  nameConstraints?: string[];
  /**
   * True when a symlink, FIFO or device sits where this leaf's key (or a file holding it) should
   * be: named in `problems`, and exit 2, as every command that would read it refuses it.
   */
  plantedFile?: boolean;
  /**
   * A key this user may not read (EACCES): not the cert's fault, so no problem and no status;
   * its owner's uid, for "run as the tree's owner". Whether it matches is left unjudged (exit 2).
   */
  keyUnreadable?: { path: string; ownerUid: number };
}

export interface CheckReport {
  checkedAt: string;
  root: string;
  /** The window `expiring` was measured against, in days. */
  within: number;
  certificates: CheckEntry[];
  /** Things to act on that are not one cert's problem: the CA expiring first, a rotation to finish. */
  warnings: string[];
  /** The one command to run next when the CA itself fails the strict-peer policy; null otherwise. */
  next: string | null;
  /**
   * Set when keys could not be read as this user: `cannot check as uid N: …`. The certs are still
   * judged (they are world-readable); the exit code is 2, the caller's problem, not the certs'.
   */
  cannotCheck: string | null;
}

/** An entry fails a check when it is unusable or, with --within, expiring. */
export function entryFails(c: CheckEntry, failOnExpiring: boolean): boolean {
  return c.status !== "ok" && (c.status !== "expiring" || failOnExpiring);
}
