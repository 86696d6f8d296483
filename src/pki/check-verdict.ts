/**
 * The verdict pieces of `check` that need no file: a cert's dated status, the strict-peer policy
 * run on it (peer-policy.ts), the SANs a leaf must carry, how problems settle a status, the CA's
 * expiry window and the tree's warnings. Facts in, entries and words out (store/check-tree.ts
 * reads the tree and calls these).
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { CA_ROTATION_LEAD_DAYS } from "../defaults.js";
import { EXIT } from "../errors.js";
import { HTTPS_SANS, dns, formatSan, pluginSans, type Role, type San } from "./profiles.js";
import { describeProblem, treeFixes, type PolicyFixes, type PolicyProblem } from "./policy-problem.js";
import { readPolicyFacts } from "./policy-facts.js";
import { sansOf } from "./node-facts.js";
import { nameKey } from "./name-policy.js";
import { entryFails, type CertStatus, type CheckEntry, type CheckReport } from "./check-entry.js";
import { days, humanDate, plural } from "../human.js";

const DAY_MS = 86_400_000;

/**
 * A key others may not read is the rule (key-mode.ts), so a check run as another user (a cron
 * line as `gateway` over a tree root made) cannot judge the keys: it says who can, once.
 */
export function cannotCheckAs(entries: readonly CheckEntry[], uid: number | undefined): string | null {
  const unreadable = entries.flatMap((e) => (e.keyUnreadable ? [e.keyUnreadable] : []));
  if (unreadable.length === 0) return null;
  const owners = [...new Set(unreadable.map((k) => k.ownerUid))];
  const who = uid === undefined ? "this user" : `uid ${uid}`;
  return `cannot check as ${who}: run as the tree's owner (uid ${owners.join(", uid ")}) or give read access (${plural(unreadable.length, "key")} unreadable: ${unreadable.map((k) => k.path).join(", ")}); the certificates were checked`;
}

/** Exit 1 when a cert is unusable, or (with --within) expires inside the window. */
export function checkFailed(report: CheckReport, failOnExpiring: boolean): boolean {
  return report.certificates.some((c) => entryFails(c, failOnExpiring));
}

/**
 * check's exit code: 2 when a symlink, FIFO or device sits where a key should be (what every
 * command that would read it refuses) or a key could not be read as this user; 1 when a cert is unusable or, with --within, expiring.
 */
export function checkExitCode(report: CheckReport, failOnExpiring: boolean): number {
  if (report.certificates.some((c) => c.plantedFile) || report.cannotCheck) return EXIT.usage;
  return checkFailed(report, failOnExpiring) ? EXIT.problem : EXIT.ok;
}

/**
 * A CA counts as expiring this long ahead: `--within` plus the lead a rotation with overlap needs
 * (the new bundle on every peer, every leaf re-issued and deployed, then the old CA dropped).
 */
export function caWindow(within: number): number {
  return within + CA_ROTATION_LEAD_DAYS;
}

/**
 * Without a readable root CA cert nothing can be verified against it: a leaf is not reported ok
 * on the strength of an intermediate (or no CA at all) alone.
 */
export function unverifiable(leaves: CheckEntry[], caCert: string): void {
  for (const entry of leaves) {
    if (entry.signedBy === "self") continue; // the self-signed HTTPS cert needs no CA
    entry.problems.push(`not verified: ${caCert} cannot be read as the CA certificate`);
  }
}

/**
 * A dead CA kills every leaf at once, whatever the leaves' own dates (issue 10): so its expiry
 * comes first, before any leaf's.
 */
export function warningsFor(
  caEntries: readonly CheckEntry[],
  leaves: readonly CheckEntry[],
  previousCaCert: string,
  within: number,
): string[] {
  const warnings: string[] = [];
  const ca = caEntries.filter((e) => e.name !== "previous");
  for (const entry of ca) {
    if (entry.daysLeft === null || entry.notAfter === null) continue;
    if (entry.daysLeft <= caWindow(within)) {
      const when =
        entry.daysLeft < 0
          ? `expired on ${humanDate(entry.notAfter)}`
          : `expires on ${humanDate(entry.notAfter)} (${days(entry.daysLeft ?? 0)} left, within ${caWindow(within)}: --within ${within} plus ${CA_ROTATION_LEAD_DAYS} days for a rotation with overlap)`;
      warnings.push(
        `${entry.path}: the ${entry.role === "ca" ? "CA" : "intermediate CA"} ${when}: every leaf it signed stops verifying then; rotate it with \`mtls-certs renew --ca\`, deploy the ca.crt copies (old and new CA), then \`mtls-certs ca --finish-rotation\``,
      );
    }
  }
  if (caEntries.some((e) => e.name === "previous")) {
    const old = leaves.filter((l) => l.signedBy === "previous-ca").length;
    warnings.push(
      old > 0
        ? `CA rotation in progress: ${plural(old, "certificate")} still signed by the previous CA (${previousCaCert}); run \`mtls-certs renew\`, deploy them, then \`mtls-certs ca --finish-rotation\``
        : `CA rotation in progress: every certificate is signed by the new CA; run \`mtls-certs ca --finish-rotation\` once they are deployed`,
    );
  }
  return warnings;
}

export function blankEntry(path: string, role: Role, name: string): CheckEntry {
  return {
    path,
    role,
    name,
    subject: null,
    serial: null,
    notBefore: null,
    notAfter: null,
    daysLeft: null,
    status: "ok",
    problems: [],
    signedBy: null,
    policy: [],
  };
}

export function describeDates(entry: CheckEntry, cert: NodeCert, now: Date, within: number): void {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  entry.subject = cert.subject.split("\n").join(", ");
  entry.serial = cert.serialNumber;
  entry.notBefore = notBefore.toISOString();
  entry.notAfter = notAfter.toISOString();
  entry.daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  entry.status = datedStatus(notBefore, notAfter, now, within);
}

function datedStatus(notBefore: Date, notAfter: Date, now: Date, within: number): CertStatus {
  if (now > notAfter) return "expired";
  if (now < notBefore) return "not-yet-valid";
  if (notAfter.getTime() - now.getTime() <= within * DAY_MS) return "expiring";
  return "ok";
}

/** An intermediate cannot be rotated in place (`renew --ca` rotates a root that signs leaves). */
export const INTERMEDIATE_FIXES: PolicyFixes = {
  ...treeFixes(""),
  ca: "make a new tree with `mtls-certs ca --intermediate --out DIR` and move the leaves over",
};

/** Runs policy rules on a cert; a cert whose DER the fast reader cannot walk is named as such. */
export function policyOf(
  cert: NodeCert,
  entry: CheckEntry,
  rules: (facts: ReturnType<typeof readPolicyFacts>) => PolicyProblem[],
): PolicyProblem[] {
  try {
    return rules(readPolicyFacts(cert, sansOf(cert)));
  } catch {
    entry.problems.push("its DER cannot be read for the strict-peer checks; `mtls-certs inspect` shows what it holds");
    return [];
  }
}

export function addPolicy(entry: CheckEntry, problems: readonly PolicyProblem[]): void {
  entry.policy.push(...problems);
  entry.problems.push(...problems.map(describeProblem));
}

/**
 * The SANs a leaf must carry: its role's fixed names (the Makefile's three for a plugin, the
 * server's own name, `make certs`'s localhost and 127.0.0.1), then what the plugin config asks for.
 */
export function requiredSans(
  role: Role,
  name: string,
  fromConfig: ReadonlyMap<string, readonly San[]>,
): Array<{ san: string; why: string }> {
  const fixed: San[] =
    role === "plugin" ? pluginSans(name) : role === "server" ? [dns(name)] : role === "https" ? [...HTTPS_SANS] : [];
  const configured = role === "plugin" ? (fromConfig.get(name) ?? []) : [];
  const fixedKeys = new Set(fixed.map(formatSan));
  return [
    ...fixed.map((s) => ({ san: formatSan(s), why: `(a name every ${role} cert carries)` })),
    ...missingSans(
      fixed.map(formatSan),
      configured.filter((s) => !fixedKeys.has(formatSan(s))),
    ).map((s) => ({ san: formatSan(s), why: "that the plugin config asks for" })),
  ];
}

/** Problems make a cert invalid whatever its dates; revocation is named as such. */
export function settle(entry: CheckEntry): void {
  if (entry.problems.some((p) => p.startsWith("revoked"))) entry.status = "revoked";
  else if (entry.problems.some((p) => p.startsWith("foreign"))) entry.status = "foreign";
  else if (entry.problems.length > 0) entry.status = "invalid";
}

/** The SANs in `wanted` that `have` lacks, compared as the name policy compares names (nameKey). */
export function missingSans(have: readonly string[], wanted: readonly San[]): San[] {
  const present = new Set(have.map(nameKey));
  return wanted.filter((s) => !present.has(nameKey(formatSan(s))));
}

/**
 * A leaf signed from a CSR (`sign`) has no key file here by design: the key is its owner's. Its
 * "key missing" goes, and an entry invalid for that alone is back to what its dates say.
 */
export function dropKeyMissing(entry: CheckEntry, now: Date, within: number): void {
  const kept = entry.problems.filter((p) => !p.endsWith(": key missing"));
  if (kept.length === entry.problems.length) return;
  entry.problems.splice(0, entry.problems.length, ...kept);
  if (entry.status === "invalid" && kept.length === 0 && entry.notBefore !== null && entry.notAfter !== null)
    entry.status = datedStatus(new Date(entry.notBefore), new Date(entry.notAfter), now, within);
}
