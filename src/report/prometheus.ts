/**
 * `check --format prometheus`: node_exporter's textfile collector format, so expiry becomes a
 * gauge an alert can watch (`mtls_certs_expires_in_seconds < 30 * 86400`) instead of a log line.
 * Names follow Prometheus' rules (base unit seconds, unit as suffix), so `promtool check metrics`
 * has nothing to say: https://prometheus.io/docs/practices/naming/
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import type { CheckEntry, CheckReport } from "../pki/check-entry.js";
import { escapeLabel } from "./escape.js";

/** Every metric name `check --format prometheus` writes, with its HELP text. */
export const METRICS = {
  notAfter: {
    name: "mtls_certs_not_after_timestamp_seconds",
    help: "When the certificate expires (notAfter), in seconds since the Unix epoch.",
  },
  notBefore: {
    name: "mtls_certs_not_before_timestamp_seconds",
    help: "When the certificate becomes valid (notBefore), in seconds since the Unix epoch.",
  },
  expiresIn: {
    name: "mtls_certs_expires_in_seconds",
    help: "Seconds from the check until the certificate expires; negative once expired.",
  },
  status: {
    name: "mtls_certs_status",
    help: "1 for the certificate's status: ok, expiring, expired, not-yet-valid, invalid, revoked or foreign.",
  },
  problems: {
    name: "mtls_certs_problems",
    help: "Number of problems found with the certificate (key mismatch, not signed by the CA, permissions, missing SAN, revoked).",
  },
  policy: {
    name: "mtls_certs_policy_problem",
    help: "1 for each strict-peer policy rule the certificate breaks (code: ca-missing-key-usage, v1-leaf, weak-signature, …).",
  },
  unreadableKeys: {
    name: "mtls_certs_check_unreadable_keys",
    help: "Keys the check could not read as its user (permission denied): their certs are still judged, the keys are not.",
  },
  checkedAt: {
    name: "mtls_certs_check_timestamp_seconds",
    help: "When mtls-certs check ran, in seconds since the Unix epoch.",
  },
  within: {
    name: "mtls_certs_check_within_seconds",
    help: "The check's window (--within) in seconds: a certificate that expires within it counts as expiring.",
  },
} as const;

const DAY_SECONDS = 86_400;

type Metric = (typeof METRICS)[keyof typeof METRICS];

export function renderPrometheus(report: CheckReport): string {
  const out: string[] = [];
  const family = (metric: Metric, samples: Array<[string, number]>): void => {
    if (samples.length === 0) return;
    out.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const [labels, value] of samples) out.push(`${metric.name}${labels} ${value}`);
  };
  const dated = report.certificates.filter((c) => c.notAfter !== null && c.notBefore !== null && c.daysLeft !== null);
  family(
    METRICS.notAfter,
    dated.map((c) => [labels(c), seconds(c.notAfter!)]),
  );
  family(
    METRICS.notBefore,
    dated.map((c) => [labels(c), seconds(c.notBefore!)]),
  );
  const checkedAt = seconds(report.checkedAt);
  family(
    METRICS.expiresIn,
    dated.map((c) => [labels(c), seconds(c.notAfter!) - checkedAt]),
  );
  family(
    METRICS.status,
    report.certificates.map((c) => [labels(c, { status: c.status }), 1]),
  );
  family(
    METRICS.problems,
    report.certificates.map((c) => [labels(c), c.problems.length]),
  );
  family(
    METRICS.policy,
    report.certificates.flatMap((c) => c.policy.map((p): [string, number] => [labels(c, { code: p.code }), 1])),
  );
  family(METRICS.unreadableKeys, [["", report.certificates.filter((c) => c.keyUnreadable).length]]);
  family(METRICS.checkedAt, [["", checkedAt]]);
  family(METRICS.within, [["", report.within * DAY_SECONDS]]);
  return out.join("\n") + "\n";
}

function labels(c: CheckEntry, extra: Record<string, string> = {}): string {
  const all: Record<string, string> = { role: c.role, name: c.name, ...extra };
  return `{${Object.entries(all)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;
}

function seconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}
