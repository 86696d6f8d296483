/**
 * Issue 19 §3: the metrics of `check --format prometheus` and the alerts of `export
 * prometheus-rules`, proved with the tools that consume them: promtool (Debian's `prometheus`)
 * lints the metrics, checks and unit-tests the rules; node_exporter (Debian's
 * `prometheus-node-exporter`) serves the metrics from a textfile directory over HTTP; the
 * PrometheusRule is validated against the operator's CRD schema (@kubernetes-models).
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { issueGateway } from "../src/commands/gateway.js";
import { issuePlugin } from "../src/commands/plugin.js";
import { ALERT_RULES } from "../src/export/prometheus-rules.js";
import { cli, freePort, read, tempDir, type Run } from "./helpers.js";

const DAY = 86_400_000;
const daysFromNow = (n: number): Date => new Date(Date.now() + n * DAY);
const fast = { keyType: "ecdsa-p256" as const };

function promtool(args: string[], cwd?: string, input?: string): Run {
  const r = spawnSync("promtool", args, { cwd, input, encoding: "utf8" });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Every `mtls_certs_*` sample of an exposition, keyed by name and labels in sorted order. */
function samples(exposition: string): Map<string, number> {
  const all = new Map<string, number>();
  for (const line of exposition.split("\n")) {
    const m = line.match(/^(mtls_certs_[a-z_]+)(?:\{(.*)\})? (\S+)$/);
    if (!m) continue;
    const labels = (m[2] ?? "").split(",").filter(Boolean).sort().join(",");
    all.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return all;
}

describe("check --format prometheus: what promtool and node_exporter read", () => {
  let out: string;
  let metrics: string;
  before(async () => {
    out = join(tempDir(), "certs/mcp");
    await issueGateway({ ...fast, out });
    const config = join(out, "no-config.yaml");
    await issuePlugin("fresh", { ...fast, out, config, notBefore: daysFromNow(-1), notAfter: daysFromNow(400) });
    await issuePlugin("expiring", { ...fast, out, config, notBefore: daysFromNow(-300), notAfter: daysFromNow(10) });
    await issuePlugin("expired", { ...fast, out, config, notBefore: daysFromNow(-300), notAfter: daysFromNow(-2) });
    const r = cli(["check", "--out", out, "--format", "prometheus"], out);
    assert.equal(r.code, 1, r.stderr); // the expired cert fails the check; the metrics are written all the same
    metrics = r.stdout;
  });

  it("promtool check metrics has no complaint (no days: seconds, the base unit)", () => {
    const r = promtool(["check", "metrics"], undefined, metrics);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout + r.stderr, "", "promtool printed a lint");
    assert.doesNotMatch(metrics, /_days/);
    // The check can fail: the old name is what promtool flagged.
    const old = promtool(
      ["check", "metrics"],
      undefined,
      "# HELP x_days_left d\n# TYPE x_days_left gauge\nx_days_left 3\n",
    );
    assert.match(old.stdout + old.stderr, /use base unit "seconds" instead of "days"/);
  });

  it("node_exporter serves the metrics from its textfile directory over HTTP", async () => {
    const dir = tempDir("mtls-certs-textfile-");
    writeFileSync(join(dir, "mtls_certs.prom"), metrics);
    const port = await freePort();
    const exporter = spawn(
      "prometheus-node-exporter",
      [
        `--web.listen-address=127.0.0.1:${port}`,
        "--collector.disable-defaults",
        "--collector.textfile",
        `--collector.textfile.directory=${dir}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    exporter.stderr.on("data", (d) => (log += d));
    try {
      let body = "";
      for (let i = 0; i < 100 && body === ""; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (response?.ok) body = await response.text();
        else await new Promise((res) => setTimeout(res, 100));
      }
      assert.notEqual(body, "", `node_exporter did not answer: ${log}`);
      // node_exporter parsed the file (an error would show as node_textfile_scrape_error 1).
      assert.match(body, /^node_textfile_scrape_error 0$/m);
      const served = samples(body);
      const written = samples(metrics);
      assert.ok(written.size > 10);
      for (const [series, value] of written) assert.equal(served.get(series), value, `${series} as served`);
      assert.match(body, /^mtls_certs_status\{name="expired",role="plugin",status="expired"\} 1$/m);
      assert.match(body, /^mtls_certs_expires_in_seconds\{name="expiring",role="plugin"\} \d+$/m);
    } finally {
      exporter.kill("SIGTERM");
      await new Promise((res) => exporter.once("exit", res));
    }
  });
});

/** promtool's unit-test file: each alert once firing and once not, from input series. */
function ruleTests(rulesFile: string): object {
  const host = { job: "node", instance: "h1:9100" };
  const other = { job: "node", instance: "h2:9100" };
  const series = (name: string, labels: Record<string, string>, values: string) => ({
    series: `${name}{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(",")}}`,
    values,
  });
  const cert = (name: string, instance = host) => ({ ...instance, role: "plugin", name });
  const d = 86_400;
  return {
    rule_files: [rulesFile],
    evaluation_interval: "1m",
    tests: [
      {
        // Expiry, from notAfter and time(): h1 has a 30-day window, h2 a 10-day one.
        interval: "1m",
        input_series: [
          series("mtls_certs_check_within_seconds", host, `${30 * d}x300`),
          series("mtls_certs_check_within_seconds", other, `${10 * d}x300`),
          series("mtls_certs_not_after_timestamp_seconds", cert("soon"), `${20 * d}x300`),
          series("mtls_certs_not_after_timestamp_seconds", cert("later"), `${60 * d}x300`),
          series("mtls_certs_not_after_timestamp_seconds", cert("gone"), "3600x300"),
          series("mtls_certs_not_after_timestamp_seconds", cert("soon", other), `${20 * d}x300`),
        ],
        alert_rule_test: [
          // Within the window for half an hour: pending, not firing (for: 1h); gone not expired yet.
          { eval_time: "30m", alertname: "MtlsCertExpiringSoon", exp_alerts: [] },
          { eval_time: "30m", alertname: "MtlsCertExpired", exp_alerts: [] },
          {
            eval_time: "2h",
            alertname: "MtlsCertExpiringSoon",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", ...cert("soon") },
                exp_annotations: {
                  summary: "mtls-certs: plugin soon expires within the check's window",
                  description:
                    "The plugin soon certificate expires in 19d 22h 0m 0s. Run `mtls-certs renew` (or see why the scheduled renew did not).",
                },
              },
            ],
          },
          {
            eval_time: "2h",
            alertname: "MtlsCertExpired",
            exp_alerts: [
              {
                exp_labels: { severity: "critical", ...cert("gone") },
                exp_annotations: {
                  summary: "mtls-certs: plugin gone has expired",
                  description:
                    "The plugin gone certificate expired 1h 0m 0s ago: peers refuse it. Run `mtls-certs renew`.",
                },
              },
            ],
          },
        ],
      },
      {
        // Statuses the check judged: one series per cert, value 1, with its status.
        interval: "1m",
        input_series: [
          ["ok", "ok"],
          ["expiring", "expiring"],
          ["bad", "invalid"],
          ["early", "not-yet-valid"],
          ["pulled", "revoked"],
          ["swapped", "foreign"],
        ].map(([name, status]) => series("mtls_certs_status", { ...cert(name!), status: status! }, "1x30")),
        alert_rule_test: [
          {
            eval_time: "5m",
            alertname: "MtlsCertInvalid",
            exp_alerts: ["bad", "early"].map((name) => ({
              exp_labels: {
                severity: "critical",
                ...cert(name),
                status: name === "bad" ? "invalid" : "not-yet-valid",
              },
              exp_annotations: {
                summary: `mtls-certs: plugin ${name} is ${name === "bad" ? "invalid" : "not-yet-valid"}`,
                description: `mtls-certs check found the plugin ${name} certificate ${name === "bad" ? "invalid" : "not-yet-valid"} (key mismatch, not signed by the tree's CA, key readable by others, a missing SAN, or not valid yet). \`mtls-certs check\` says which.`,
              },
            })),
          },
          {
            eval_time: "5m",
            alertname: "MtlsCertRevoked",
            exp_alerts: [
              {
                exp_labels: { severity: "critical", ...cert("pulled"), status: "revoked" },
                exp_annotations: {
                  summary: "mtls-certs: plugin pulled is revoked",
                  description:
                    "The plugin pulled certificate is on the tree's CRL but still in place. Issue a new one: `mtls-certs renew --force pulled`.",
                },
              },
            ],
          },
          {
            eval_time: "5m",
            alertname: "MtlsCertForeign",
            exp_alerts: [
              {
                exp_labels: { severity: "critical", ...cert("swapped"), status: "foreign" },
                exp_annotations: {
                  summary: "mtls-certs: plugin swapped is not in the issuance ledger",
                  description:
                    "The plugin swapped certificate was not issued by this tree (it is not in ca/ledger.json): someone replaced the file. Find out who, then issue a new one.",
                },
              },
            ],
          },
          // Nothing fires for ok or expiring (the expiry alert reads notAfter, not this status).
          { eval_time: "5m", alertname: "MtlsCertExpiringSoon", exp_alerts: [] },
        ],
      },
      {
        // The check runs every minute for a day, then stops; node_exporter keeps serving the last value.
        interval: "1m",
        input_series: [series("mtls_certs_check_timestamp_seconds", host, `0+60x1440 ${d}x3000`)],
        alert_rule_test: [
          { eval_time: "2d", alertname: "MtlsCertsCheckStale", exp_alerts: [] },
          { eval_time: "2d", alertname: "MtlsCertsCheckAbsent", exp_alerts: [] },
          {
            eval_time: "3d1h",
            alertname: "MtlsCertsCheckStale",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", ...host },
                exp_annotations: {
                  summary: "mtls-certs: no check for 2 days",
                  description:
                    "The last `mtls-certs check --format prometheus` ran 2d 1h 0m 0s ago: the certificate statuses Prometheus has are that old. Look at the cron job or CronJob that writes the metrics.",
                },
              },
            ],
          },
        ],
      },
      {
        // No check metrics at all: only absent() can tell, after two days.
        interval: "1m",
        input_series: [series("up", host, "1x3000")],
        alert_rule_test: [
          { eval_time: "1d", alertname: "MtlsCertsCheckAbsent", exp_alerts: [] },
          { eval_time: "1d", alertname: "MtlsCertsCheckStale", exp_alerts: [] },
          {
            eval_time: "2d1m",
            alertname: "MtlsCertsCheckAbsent",
            exp_alerts: [
              {
                exp_labels: { severity: "warning" },
                exp_annotations: {
                  summary: "mtls-certs: no check metrics for 2 days",
                  description:
                    "No mtls_certs_check_timestamp_seconds series for 2 days: `mtls-certs check --format prometheus` does not run, or node_exporter does not read its file.",
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe("export prometheus-rules: the alerts, checked and unit-tested by promtool", () => {
  let dir: string;
  before(() => {
    dir = tempDir("mtls-certs-rules-");
    const r = cli(["export", "prometheus-rules", "-o", join(dir, "rules.yml")], dir);
    assert.equal(r.code, 0, r.stderr);
  });

  it("promtool check rules accepts the rules file, one rule per alert", () => {
    const r = promtool(["check", "rules", "rules.yml"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${ALERT_RULES.length} rules found`));
    assert.deepEqual(
      (
        parse(read(join(dir, "rules.yml"))) as { groups: Array<{ rules: Array<{ alert: string }> }> }
      ).groups[0]!.rules.map((rule) => rule.alert),
      [
        "MtlsCertExpiringSoon",
        "MtlsCertExpired",
        "MtlsCertInvalid",
        "MtlsCertRevoked",
        "MtlsCertForeign",
        "MtlsCertsCheckStale",
        "MtlsCertsCheckCannotReadKeys",
        "MtlsCertsCheckAbsent",
      ],
    );
  });

  it("promtool test rules: every alert fires on its input series and stays quiet on the others", () => {
    writeFileSync(join(dir, "tests.yml"), JSON.stringify(ruleTests("rules.yml"), null, 2));
    const r = promtool(["test", "rules", "tests.yml"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    // The tests can fail: the same series against a rules file whose expiring alert lost its window.
    const broken = read(join(dir, "rules.yml")).replace("- time() > 0", "- time() > 30 * 86400");
    writeFileSync(join(dir, "broken.yml"), broken);
    writeFileSync(join(dir, "tests-broken.yml"), JSON.stringify(ruleTests("broken.yml"), null, 2));
    const failed = promtool(["test", "rules", "tests-broken.yml"], dir);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout + failed.stderr, /MtlsCertExpiringSoon/);
  });

  it("--operator: a PrometheusRule the operator's schema accepts, with the same groups promtool checked", () => {
    const r = cli(
      ["export", "prometheus-rules", "--operator", "--namespace", "monitoring", "--label", "release=kps"],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const document = parse(r.stdout) as PrometheusRule & { spec: { groups: unknown[] } };
    const rule = new PrometheusRule(document);
    assert.doesNotThrow(() => rule.validate());
    assert.equal(document.metadata?.namespace, "monitoring");
    assert.deepEqual(document.metadata?.labels, { release: "kps" });
    assert.deepEqual(document.spec, parse(read(join(dir, "rules.yml"))));
    // The validator can fail: a duration Prometheus would not parse.
    const bad = structuredClone(document) as { spec: { groups: Array<{ rules: Array<{ for?: string }> }> } };
    bad.spec.groups[0]!.rules[0]!.for = "an hour";
    assert.throws(() => new PrometheusRule(bad as never).validate(), /must match pattern/);
    // Without labels a ruleSelector would skip it: said on stderr.
    assert.match(cli(["export", "prometheus-rules", "--operator"], dir).stderr, /note: .*ruleSelector/);
  });

  it("refuses what it cannot honour: exit 2, nothing written", () => {
    for (const args of [
      ["--namespace", "monitoring"],
      ["--operator", "--label", "release"],
      ["--operator", "--label", "bad key=x"],
      ["--operator", "--namespace", "Monitoring"],
      ["-o", join(dir, "rules.yml")],
    ]) {
      const r = cli(["export", "prometheus-rules", ...args], dir);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
    }
    assert.equal(cli(["export", "prometheus-rules", "-o", join(dir, "rules.yml"), "--force"], dir).code, 0);
  });
});
