/** What renew tells: the before/after state of each leaf, the changes, the failures, the exit rule. */
import type { X509Certificate as NodeCert } from "node:crypto";
import { EXIT, type ErrorCode, isMtlsError } from "../../errors.js";
import type { Validity } from "../../pki/issue.js";
import type { KeyType } from "../../pki/keys.js";
import { formatSan, uniqueSans } from "../../pki/profiles.js";
import type { LeafFiles } from "../../store/paths.js";
import { sansOf, spkiPin } from "../../pki/node-facts.js";
import type { SignedBy } from "../../pki/check-entry.js";
import type { CertState, FailedCert, RenewReport, RenewedCert } from "../../report/renew-types.js";
import type { LeafPlan, OldLeaf, RenewOptions, Signer } from "./types.js";

/** Exit 1 when something still needs attention afterwards; 0 otherwise, renewed or not. */
export function renewNeedsAttention(report: RenewReport): boolean {
  return report.failed.length > 0 || report.attention.length > 0;
}

/**
 * What was found in a leaf's place is not what this tree wrote there: a symlink where its key
 * should be, a FIFO, a key that is not its cert's (or is a CA's), a hard link, a file over its size
 * cap, a directory another user owns or may write. The single-leaf commands refuse
 * these with exit 2; renew does too.
 */
const PLANTED: ReadonlySet<ErrorCode> = new Set([
  "E_SYMLINK",
  "E_NOT_REGULAR_FILE",
  "E_KEY_MISMATCH",
  "E_HARDLINK",
  "E_TOO_LARGE",
  "E_UNSAFE_DIRECTORY",
  // A name the name policy refuses (a wildcard in a URL, another leaf's host): bad input, exit 2.
  "E_NAME_REFUSED",
]);

/**
 * Renew's exit code: 2 when a leaf was refused for what was planted in its place (the other
 * leaves are renewed first, so one link in one plugin's directory cannot hold back the gateway's
 * renewal); 1 when anything else failed or still needs attention; 0 otherwise.
 */
export function renewExitCode(report: RenewReport): number {
  if (report.failed.some((f) => PLANTED.has(f.error.code))) return EXIT.usage;
  return renewNeedsAttention(report) ? EXIT.problem : EXIT.ok;
}

/** What renewal would make, without a signature: dates, SANs, key type; serial and fingerprint unknown. */
export function planned(
  plan: LeafPlan,
  old: OldLeaf,
  validity: Validity,
  o: RenewOptions,
  signer: Signer,
): RenewedCert {
  const before = stateOf(old.node, old.keyType, old.signedBy);
  const after: CertState = {
    serial: null,
    notBefore: validity.notBefore.toISOString(),
    notAfter: validity.notAfter.toISOString(),
    sans: uniqueSans([...old.sans, ...plan.addSans]).map(formatSan),
    keyType: o.keyType ?? old.keyType,
    spkiPin: o.reuseKey || old.fromCsr ? before.spkiPin : null,
    fingerprint: null,
    signedBy: old.signedBy === "self" ? "self" : signer.role,
  };
  return result(plan, old, "would-renew", Boolean(o.reuseKey) || old.fromCsr, after);
}

export function result(
  plan: LeafPlan,
  old: OldLeaf,
  action: RenewedCert["action"],
  keyReused: boolean,
  after: CertState,
): RenewedCert {
  const before = stateOf(old.node, old.keyType, old.signedBy);
  return {
    role: plan.files.role,
    name: plan.files.name,
    cert: plan.files.cert,
    key: plan.files.key,
    action,
    reasons: plan.reasons,
    keyReused,
    keyFromCsr: old.fromCsr,
    before,
    after,
    changes: changesBetween(before, after, keyReused, old.fromCsr),
  };
}

export function stateOf(cert: NodeCert, keyType: KeyType, signer: SignedBy | null): CertState {
  return {
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    sans: sansOf(cert),
    keyType,
    spkiPin: spkiPin(cert),
    fingerprint: cert.fingerprint256,
    signedBy: signer,
  };
}

function changesBetween(before: CertState, after: CertState, keyReused: boolean, fromCsr: boolean): string[] {
  const changes: string[] = [];
  const field = (name: string, a: string | null, b: string | null): void => {
    if (a !== b) changes.push(`${name} ${a ?? "-"} → ${b ?? "(new)"}`);
  };
  field("serial", before.serial, after.serial);
  field("notBefore", before.notBefore, after.notBefore);
  field("notAfter", before.notAfter, after.notAfter);
  for (const san of after.sans.filter((s) => !before.sans.includes(s))) changes.push(`SAN added ${san}`);
  field("keyType", before.keyType, after.keyType);
  changes.push(
    keyReused
      ? `key kept${fromCsr ? " (signed from a CSR: the key is not ours to replace)" : ""}: SPKI pin ${before.spkiPin} unchanged`
      : `new key: SPKI pin ${before.spkiPin} → ${after.spkiPin ?? "(new)"}`,
  );
  if (before.signedBy !== after.signedBy) changes.push(`issuer ${before.signedBy ?? "-"} → ${after.signedBy ?? "-"}`);
  return changes;
}

export function failure(files: LeafFiles, e: unknown): FailedCert {
  if (!isMtlsError(e)) throw e;
  return {
    role: files.role,
    name: files.name,
    cert: files.cert,
    error: { code: e.code, message: e.message, hint: e.hint ?? null },
  };
}
