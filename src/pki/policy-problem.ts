/**
 * A problem the strict-peer policy finds, as every report shows it: a stable code (`verify --json`,
 * `check --json`, the Prometheus `code` label), one line of what is wrong, and the fix worded for
 * where the cert is (a tree whose names are known, or a loose file given to `verify`).
 */

/** Stable identifiers (`verify --json`, `check --json`, the Prometheus `code` label). */
export type PolicyCode =
  | "issuer-not-ca"
  | "ca-missing-basic-constraints"
  | "ca-basic-constraints-not-critical"
  | "ca-missing-key-usage"
  | "ca-key-usage-no-cert-sign"
  | "path-length-exceeded"
  | "path-length-on-non-ca"
  | "cert-sign-on-non-ca"
  | "missing-authority-key-id"
  | "missing-subject-key-id"
  | "extensions-need-v3"
  | "v1-leaf"
  | "wrong-purpose"
  | "key-usage-purpose"
  | "ca-wrong-purpose"
  | "key-too-small"
  | "weak-signature"
  | "missing-san"
  | "not-signed-by-ca"
  | "beyond-ca"
  | "unknown-critical-extension"
  | "duplicate-extension"
  | "ca-as-leaf";

export interface PolicyProblem {
  readonly code: PolicyCode;
  /** What is wrong, in one line. */
  readonly message: string;
  /** What fixes it in place. */
  readonly fix: string;
  /**
   * `verify` fails on it: a strict peer refuses the handshake because of it, or (a leaf that is a
   * CA) peers accept what makes it dangerous. False for the latent defects (v1 leaf, validity
   * beyond the CA): `verify` lists those as warnings, `check` as problems.
   */
  readonly refused: boolean;
}

/** The fixes, worded for where the cert is: a tree (names known) or a loose file (`verify`). */
export interface PolicyFixes {
  /** Fixes a CA in place. */
  readonly ca: string;
  /** Re-issues this leaf from the tree's CA. */
  readonly leaf: string;
  /** Re-issues this leaf with a bigger key. */
  readonly leafBiggerKey: string;
}

/** `renew --ca` rotates in place: old and new CA stay trusted side by side until `ca --finish-rotation`. */
export const CA_FIX =
  "rotate it in place: `mtls-certs renew --ca` (old and new CA are trusted side by side until `mtls-certs ca --finish-rotation`)";

export function treeFixes(name: string): PolicyFixes {
  return {
    ca: CA_FIX,
    leaf: `re-issue it: \`mtls-certs renew --force ${name}\``,
    leafBiggerKey: `re-issue it with a bigger key: \`mtls-certs renew --force ${name} --key-type rsa4096\` (or ecdsa-p256)`,
  };
}

export const FILE_FIXES: PolicyFixes = {
  ca: CA_FIX,
  leaf: "issue it again with mtls-certs (in its tree: `mtls-certs renew --force NAME`)",
  leafBiggerKey: "issue it again with --key-type rsa2048 or larger, or ecdsa-p256",
};

/** The way check and all print one problem: the message, then the fix (an imperative). */
export function describeProblem(p: PolicyProblem): string {
  return `${p.message}; ${p.fix}`;
}
