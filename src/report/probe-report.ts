/**
 * What `probe` found, and how it is shown: one line per plugin (the table), GitHub Actions
 * annotations, Prometheus' textfile format. Every result has a `reason`: `ok`, a `skipped-…`
 * code, or the code of the first failure, each with its own line in docs/debugging-a-handshake.md.
 */
import { escapeLabel, githubData, githubProperty } from "./escape.js";
import { plural } from "../human.js";
import type { Style } from "./terminal.js";

/** Why a link fails, in the order a dial meets them. */
export const FAILURE_REASONS = [
  "plain-http-url",
  "dns-failure",
  "connection-refused",
  "connect-failed",
  "timeout",
  "not-tls",
  "connection-closed",
  "tls-version",
  "handshake-failed",
  "server-cert-untrusted",
  "server-cert-expired",
  "server-cert-not-yet-valid",
  "server-cert-strict",
  "server-name-mismatch",
  "server-cert-revoked",
  "no-h2",
  "client-cert-refused",
  "client-cert-not-requested",
  "accepts-anonymous",
] as const;

export type ProbeFailure = (typeof FAILURE_REASONS)[number];
/** `skipped-unix-socket`: a gRPC `uds:` link has no TLS; `skipped-no-url`: the entry names no address. */
export type ProbeReason = "ok" | "skipped-unix-socket" | "skipped-no-url" | ProbeFailure;

export interface ProbeTls {
  readonly protocol: string;
  readonly cipher: string;
  /** The ALPN protocol the server picked; null for none. */
  readonly alpn: string | null;
  readonly serverSubject: string | null;
  readonly serverSerial: string | null;
  readonly serverNotAfter: string | null;
  readonly serverDaysLeft: number | null;
  /** Null: the handshake could not be read. */
  readonly askedForClientCert: boolean | null;
  /** Null: not known (the dial stopped before). */
  readonly acceptedClientCert: boolean | null;
  /** A second handshake without a client cert was let in; null when it was not tried. */
  readonly acceptsNoClientCert: boolean | null;
}

export interface ProbeResult {
  readonly name: string;
  /** `mcp` (HTTP) or `grpc`. */
  readonly transport: "mcp" | "grpc";
  /** What the config says the gateway dials: the URL, the gRPC target or socket. */
  readonly target: string | null;
  /** Where this probe connected (`host:port`): the target's, or --connect's. */
  readonly address: string | null;
  /** The name checked against the server cert's SANs. */
  readonly serverName: string | null;
  readonly reason: ProbeReason;
  /** The human text: what happened (for `ok`: protocol, cipher, cert, client-cert facts). */
  readonly message: string;
  /** What to do; null for ok and skipped. */
  readonly fix: string | null;
  readonly tls: ProbeTls | null;
}

export interface ProbeReport {
  readonly config: string;
  readonly checkedAt: string;
  /** True when no link failed (skipped ones do not fail). */
  readonly ok: boolean;
  readonly results: readonly ProbeResult[];
}

export function failed(r: ProbeResult): boolean {
  return r.reason !== "ok" && !r.reason.startsWith("skipped-");
}

/** `quiet`: only the links that fail, nothing when all work. */
export function renderProbeTable(report: ProbeReport, style: Style, quiet = false): string {
  const shown = quiet ? report.results.filter(failed) : report.results;
  if (shown.length === 0 && quiet) return "";
  const width = Math.max(4, ...shown.map((r) => r.name.length));
  const lines = shown.map((r) => {
    const mark = r.reason === "ok" ? style.green("✓") : failed(r) ? style.red("✗") : style.dim("-");
    const where = r.address ?? r.target ?? "";
    const head = `${mark} ${r.name.padEnd(width)}  ${r.transport === "grpc" ? "grpc " : ""}${where}`;
    const reason = r.reason === "ok" ? style.green(r.reason) : failed(r) ? style.red(r.reason) : style.dim(r.reason);
    return `${head}\n    ${reason}: ${r.message}${r.fix ? `\n    fix: ${r.fix}` : ""}`;
  });
  const bad = report.results.filter(failed).length;
  const skipped = report.results.filter((r) => r.reason.startsWith("skipped-")).length;
  const summary = `${plural(report.results.length, "link")} probed: ${bad === 0 ? "all work" : `${bad} failed`}${skipped > 0 ? `, ${skipped} skipped` : ""}`;
  return `${lines.join("\n")}\n${bad === 0 ? style.green(summary) : style.red(summary)}\n`;
}

export function renderProbeGithub(report: ProbeReport): string {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.reason === "ok") continue;
    const level = failed(r) ? "error" : "notice";
    const text = `${r.message}${r.fix ? `; fix: ${r.fix}` : ""}`;
    lines.push(`::${level} title=${githubProperty(`mtls-certs probe: ${r.name} ${r.reason}`)}::${githubData(text)}`);
  }
  const bad = report.results.filter(failed).length;
  lines.push(
    `::notice title=${githubProperty("mtls-certs probe")}::${githubData(`${plural(report.results.length, "link")} probed; ${bad === 0 ? "all work" : `${bad} failed`}`)}`,
  );
  return lines.join("\n") + "\n";
}

/** Every metric name `probe --format prometheus` writes, with its HELP text. */
export const PROBE_METRICS = {
  up: {
    name: "mtls_certs_probe_success",
    help: "1 when the gateway's mutual-TLS link to the plugin works, else 0; reason: ok or why it fails.",
  },
  expiresIn: {
    name: "mtls_certs_probe_server_cert_expires_in_seconds",
    help: "Seconds from the probe until the certificate the plugin presents expires; negative once expired.",
  },
  checkedAt: {
    name: "mtls_certs_probe_timestamp_seconds",
    help: "When mtls-certs probe ran, in seconds since the Unix epoch.",
  },
} as const;

export function renderProbePrometheus(report: ProbeReport): string {
  const out: string[] = [];
  const family = (metric: { name: string; help: string }, samples: Array<[string, number]>): void => {
    if (samples.length === 0) return;
    out.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const [labels, value] of samples) out.push(`${metric.name}${labels} ${value}`);
  };
  const labels = (r: ProbeResult, extra: Record<string, string> = {}): string =>
    `{${Object.entries({ name: r.name, transport: r.transport, ...extra })
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(",")}}`;
  const checkedAt = Math.floor(Date.parse(report.checkedAt) / 1000);
  const probed = report.results.filter((r) => !r.reason.startsWith("skipped-"));
  family(
    PROBE_METRICS.up,
    probed.map((r) => [labels(r, { reason: r.reason }), r.reason === "ok" ? 1 : 0]),
  );
  family(
    PROBE_METRICS.expiresIn,
    probed.flatMap(
      (r): Array<[string, number]> =>
        r.tls?.serverNotAfter ? [[labels(r), Math.floor(Date.parse(r.tls.serverNotAfter) / 1000) - checkedAt]] : [],
    ),
  );
  family(PROBE_METRICS.checkedAt, [["", checkedAt]]);
  return out.join("\n") + "\n";
}
