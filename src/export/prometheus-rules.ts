/**
 * `export prometheus-rules`: the alerting rules for the metrics `check --format prometheus`
 * writes, as a plain Prometheus rules file or as a PrometheusRule for the Prometheus Operator.
 * The rules are data (one table), so the file, the PrometheusRule, the docs and the tests all
 * read the same alerts. Each expression names its metrics through METRICS, the one list of names.
 */
import { yamlText } from "./yaml.js";
import { CHECK_STALE_AFTER_DAYS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { METRICS } from "../report/prometheus.js";
import { checkNamespace, DEFAULT_NAMESPACE } from "./kubernetes-names.js";
import type { ExportResult } from "./sources.js";

export type AlertSeverity = "warning" | "critical";

/** One alerting rule, in the shape both a rules file and a PrometheusRule take. */
export interface AlertRule {
  alert: string;
  expr: string;
  /** How long the expression must hold before the alert fires; absent: at once. */
  for?: string;
  labels: { severity: AlertSeverity };
  annotations: { summary: string; description: string };
}

const DAY_SECONDS = 86_400;
const { notAfter, status, checkedAt, within, unreadableKeys } = METRICS;
const cert = "{{ $labels.role }} {{ $labels.name }}";

/**
 * The alerts. Expiry is measured against notAfter and `time()`, not the status the check wrote:
 * node_exporter keeps serving the last file, so a check that stopped running would otherwise
 * freeze a cert at "ok" while it expires. The stale alerts catch that stop itself.
 */
export const ALERT_RULES: readonly AlertRule[] = [
  {
    alert: "MtlsCertExpiringSoon",
    // The window is the check's own --within (published as a metric), so `check`, its exit code and
    // this alert agree; `ignoring(role, name)` pairs each cert with its host's window. An hour's
    // grace, as cert-manager's mixin gives its expiry alert: a renew run may be on its way.
    expr: `(${notAfter.name} - time() > 0) < ignoring(role, name) group_left() ${within.name}`,
    for: "1h",
    labels: { severity: "warning" },
    annotations: {
      summary: `mtls-certs: ${cert} expires within the check's window`,
      description: `The ${cert} certificate expires in {{ $value | humanizeDuration }}. Run \`mtls-certs renew\` (or see why the scheduled renew did not).`,
    },
  },
  {
    alert: "MtlsCertExpired",
    expr: `time() - ${notAfter.name} >= 0`,
    labels: { severity: "critical" },
    annotations: {
      summary: `mtls-certs: ${cert} has expired`,
      description: `The ${cert} certificate expired {{ $value | humanizeDuration }} ago: peers refuse it. Run \`mtls-certs renew\`.`,
    },
  },
  {
    alert: "MtlsCertInvalid",
    // not-yet-valid fails a handshake as surely as invalid does (a clock or a --not-before gone wrong).
    expr: `${status.name}{status=~"invalid|not-yet-valid"} == 1`,
    labels: { severity: "critical" },
    annotations: {
      summary: `mtls-certs: ${cert} is {{ $labels.status }}`,
      description: `mtls-certs check found the ${cert} certificate {{ $labels.status }} (key mismatch, not signed by the tree's CA, key readable by others, a missing SAN, or not valid yet). \`mtls-certs check\` says which.`,
    },
  },
  {
    alert: "MtlsCertRevoked",
    expr: `${status.name}{status="revoked"} == 1`,
    labels: { severity: "critical" },
    annotations: {
      summary: `mtls-certs: ${cert} is revoked`,
      description: `The ${cert} certificate is on the tree's CRL but still in place. Issue a new one: \`mtls-certs renew --force {{ $labels.name }}\`.`,
    },
  },
  {
    alert: "MtlsCertForeign",
    expr: `${status.name}{status="foreign"} == 1`,
    labels: { severity: "critical" },
    annotations: {
      summary: `mtls-certs: ${cert} is not in the issuance ledger`,
      description: `The ${cert} certificate was not issued by this tree (it is not in ca/ledger.json): someone replaced the file. Find out who, then issue a new one.`,
    },
  },
  {
    alert: "MtlsCertsCheckStale",
    expr: `time() - ${checkedAt.name} > ${CHECK_STALE_AFTER_DAYS} * ${DAY_SECONDS}`,
    labels: { severity: "warning" },
    annotations: {
      summary: `mtls-certs: no check for ${CHECK_STALE_AFTER_DAYS} days`,
      description: `The last \`mtls-certs check --format prometheus\` ran {{ $value | humanizeDuration }} ago: the certificate statuses Prometheus has are that old. Look at the cron job or CronJob that writes the metrics.`,
    },
  },
  {
    alert: "MtlsCertsCheckCannotReadKeys",
    // The check's user, not the certs: blaming them (MtlsCertInvalid) every run sends people to the wrong fix.
    expr: `${unreadableKeys.name} > 0`,
    labels: { severity: "warning" },
    annotations: {
      summary: "mtls-certs: the check cannot read {{ $value }} keys",
      description:
        "`mtls-certs check` runs as a user that cannot read the tree's keys: their certificates are still checked, the keys (match, mode) are not. Run it as the tree's owner, or give that user read access.",
    },
  },
  {
    alert: "MtlsCertsCheckAbsent",
    // No series at all (the file was never written, or deleted): nothing else here could fire.
    expr: `absent(${checkedAt.name})`,
    for: `${CHECK_STALE_AFTER_DAYS}d`,
    labels: { severity: "warning" },
    annotations: {
      summary: `mtls-certs: no check metrics for ${CHECK_STALE_AFTER_DAYS} days`,
      description: `No ${checkedAt.name} series for ${CHECK_STALE_AFTER_DAYS} days: \`mtls-certs check --format prometheus\` does not run, or node_exporter does not read its file.`,
    },
  },
];

export const RULE_GROUP = "mtls-certs";

export interface PrometheusRulesOptions {
  /** A PrometheusRule (monitoring.coreos.com/v1) instead of a plain rules file. */
  operator?: boolean;
  /** The PrometheusRule's namespace. Default mcp-gateway (the gateway's). */
  namespace?: string;
  /** The PrometheusRule's labels, for the Prometheus resource's ruleSelector (`release=…`). */
  labels?: Record<string, string>;
}

export function exportPrometheusRules(o: PrometheusRulesOptions = {}): ExportResult {
  if (!o.operator && (o.namespace !== undefined || Object.keys(o.labels ?? {}).length > 0))
    throw new MtlsError(
      "E_USAGE",
      "--namespace and --label set a PrometheusRule's metadata; a plain rules file has none",
      "add --operator, or leave them out",
    );
  const groups = [{ name: RULE_GROUP, rules: ALERT_RULES.map((rule) => ({ ...rule })) }];
  const header = [
    "# Alerts for `mtls-certs check --format prometheus` (node_exporter's textfile collector).",
    `# Made by \`mtls-certs export prometheus-rules${o.operator ? " --operator" : ""}\`; check with \`promtool check rules\`.`,
  ];
  if (!o.operator) return result(header, { groups });
  const labels = o.labels ?? {};
  for (const [key, value] of Object.entries(labels)) checkLabel(key, value);
  const document = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: RULE_GROUP,
      namespace: checkNamespace(o.namespace ?? DEFAULT_NAMESPACE),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    },
    spec: { groups },
  };
  const notes =
    Object.keys(labels).length > 0
      ? []
      : [
          "the PrometheusRule has no labels: a Prometheus whose ruleSelector asks for some (kube-prometheus-stack: release=<its release>) ignores it; add --label KEY=VALUE",
        ];
  return { ...result(header, document), notes };
}

function result(header: string[], document: object): ExportResult {
  // lineWidth 0: an expression stays on one line, as promtool prints it.
  return {
    text: `${header.join("\n")}\n${yamlText(document)}`,
    notes: [],
    written: [],
    secret: false,
  };
}

/** `KEY=VALUE` from the command line. */
export function parseLabel(raw: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = raw.indexOf("=");
  if (at <= 0)
    throw new MtlsError(
      "E_USAGE",
      `--label: ${JSON.stringify(raw)} is not KEY=VALUE`,
      "e.g. --label release=prometheus",
    );
  const key = raw.slice(0, at);
  return { ...previous, [key]: raw.slice(at + 1) };
}

/** Kubernetes' label syntax: an optional DNS-subdomain prefix, a name and a value of at most 63. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function checkLabel(key: string, value: string): void {
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = key.slice(slash + 1);
  if ((prefix !== undefined && !LABEL_PREFIX.test(prefix)) || !LABEL_NAME.test(name))
    throw new MtlsError(
      "E_USAGE",
      `--label: ${JSON.stringify(key)} is not a Kubernetes label key`,
      "letters, digits, '-', '_', '.', at most 63, with an optional DNS prefix and '/'",
    );
  if (value !== "" && !LABEL_NAME.test(value))
    throw new MtlsError(
      "E_USAGE",
      `--label ${key}: ${JSON.stringify(value)} is not a Kubernetes label value`,
      "letters, digits, '-', '_', '.', at most 63, starting and ending with a letter or digit",
    );
}
