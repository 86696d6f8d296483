/**
 * What `renew` reports: each leaf's state before and after, what was kept, what failed, the CA
 * rotation. A type shared by the command that fills it, the renderer (renew-report.ts), the
 * deploy hook's input and the library's users, so it lives below all of them.
 */
import type { ErrorCode } from "../errors.js";
import type { KeyType } from "../pki/keys.js";
import type { CheckEntry, SignedBy } from "../pki/check-entry.js";

/** What a leaf looked like, or looks like after renewal. */
export interface CertState {
  /** Null in a dry run: not signed yet. */
  serial: string | null;
  notBefore: string;
  notAfter: string;
  sans: string[];
  keyType: KeyType;
  /** base64 SHA-256 of the SubjectPublicKeyInfo: curl's `--pinnedpubkey sha256//<pin>`. Null: a new key not made yet. */
  spkiPin: string | null;
  /** SHA-256 of the DER, as openssl prints it. Null in a dry run. */
  fingerprint: string | null;
  signedBy: SignedBy | null;
}

export interface RenewedCert {
  role: string;
  name: string;
  cert: string;
  key: string;
  action: "renewed" | "would-renew";
  /** Why: expired, expiring within the window, --force, signed by the previous CA, a SAN the config asks for. */
  reasons: string[];
  keyReused: boolean;
  /** Signed from a CSR (`sign`): the key is not ours, so it is always kept and there is no key file. */
  keyFromCsr: boolean;
  before: CertState;
  after: CertState;
  /** One line per field that changes: "notAfter 2026-12-01T… → 2029-02-25T…". */
  changes: string[];
}

export interface FailedCert {
  role: string;
  name: string;
  cert: string;
  error: { code: ErrorCode; message: string; hint: string | null };
}

export interface CaRotation {
  action: "rotated" | "would-rotate";
  /** The CA rotated out, now in ca/previous/. */
  previous: { cert: string; serial: string; notAfter: string };
  /** The new CA; null in a dry run. */
  current: { cert: string; serial: string; notBefore: string; notAfter: string } | null;
  /** ca/bundle.crt: previous CA then new CA; what every ca.crt copy now holds. */
  bundle: string;
  /** How many ca.crt copies now hold the bundle. */
  copies: number;
}

export interface RenewReport {
  root: string;
  renewedAt: string;
  within: number;
  dryRun: boolean;
  /** The dated folder holding the previous certs and keys; null when nothing was replaced. */
  backup: string | null;
  ca: CaRotation | null;
  renewed: RenewedCert[];
  /** Leaves left as they were, as `check` sees them. */
  kept: CheckEntry[];
  failed: FailedCert[];
  warnings: string[];
  /** What still needs attention afterwards (as `check --within` judges it): exit 1 when not empty. */
  attention: CheckEntry[];
  /** Leaves a killed renew left half-written and this run restored, then what the ledger adopted: one line each. */
  adopted: string[];
}
