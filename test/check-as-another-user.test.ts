/**
 * Issue 28 §2: a key the checking user cannot read is not an invalid cert. A tree made as root,
 * checked as uid 1001 (setpriv, as the cron recipe's `gateway` user): exit 2 with who can check,
 * every cert still judged by its dates, and no format blames the certs (no `invalid`, no
 * MtlsCertInvalid from promtool on the metrics it writes; the key alert fires instead).
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { issueGateway } from "../src/commands/gateway.js";
import { issuePlugin } from "../src/commands/plugin.js";
import { BIN, cli, tempDir } from "./helpers.js";

const DAY = 86_400_000;
const daysFromNow = (n: number): Date => new Date(Date.now() + n * DAY);
const fast = { keyType: "ecdsa-p256" as const };
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
const asOtherUser =
  isRoot && hasSetpriv ? {} : { skip: "needs root (to make the tree) and setpriv (to check as uid 1001)" };

function checkAs1001(out: string, args: string[] = []) {
  const r = spawnSync(
    "setpriv",
    ["--reuid", "1001", "--regid", "1001", "--clear-groups", process.execPath, BIN, "check", "--out", out, ...args],
    { cwd: out, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", CI: "1", MCP_PLUGIN_CONFIG: "" } },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("check as a user who cannot read the keys (issue 28 §2)", asOtherUser, () => {
  let dir: string;
  let out: string;
  before(async () => {
    dir = tempDir();
    chmodSync(dir, 0o755); // a checkout others can traverse; mkdtemp makes 0700
    out = join(dir, "certs/mcp");
    await issueGateway({ ...fast, out });
    const config = join(dir, "none.yaml");
    await issuePlugin("fresh", { ...fast, out, config });
    await issuePlugin("soon", { ...fast, out, config, notBefore: daysFromNow(-300), notAfter: daysFromNow(10) });
    assert.notEqual(
      spawnSync("setpriv", ["--reuid=1001", "--regid=1001", "--clear-groups", "cat", join(out, "ca/ca.key")]).status,
      0,
      "uid 1001 cannot read the CA key",
    );
  });

  it("as root: exit 0, all judged (the same tree, the baseline)", () => {
    const r = cli(["check", "--out", out], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /cannot check/);
  });

  it("table: exit 2, who can check, the expiring cert still reported, nothing invalid", () => {
    const r = checkAs1001(out);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^mtls-certs: cannot check as uid 1001: run as the tree's owner \(uid 0\) or give read access \(4 keys unreadable: .*ca\/ca\.key/m,
    );
    assert.match(r.stdout, /^plugin\s+soon\s+mcp-plugin-soon\s+\S+ \S+ UTC\s+9\s+expiring$/m);
    assert.match(r.stdout, /^plugin\s+fresh\s+.*\s+ok$/m);
    assert.doesNotMatch(r.stdout, /invalid|permission denied/);
    assert.match(r.stdout, /1 expiring within 30 days.*; keys not checked/);
    // --within still fails on the expiring cert's date; the unreadable keys still make it exit 2.
    assert.equal(checkAs1001(out, ["--within", "30"]).code, 2);
  });

  it("json: keyUnreadable on each entry, cannotCheck on the report, statuses from the dates", () => {
    const r = checkAs1001(out, ["--json"]);
    assert.equal(r.code, 2, r.stderr);
    const report = JSON.parse(r.stdout) as {
      cannotCheck: string;
      certificates: Array<{ name: string; status: string; keyUnreadable?: { ownerUid: number } }>;
    };
    assert.match(report.cannotCheck, /^cannot check as uid 1001/);
    assert.deepEqual(
      report.certificates.map((c) => [c.name, c.status, c.keyUnreadable?.ownerUid]),
      [
        ["ca", "ok", 0],
        ["gateway", "ok", 0],
        ["fresh", "ok", 0],
        ["soon", "expiring", 0],
      ],
    );
  });

  it("github: one error that blames the caller, no error annotation on any cert file", () => {
    const r = checkAs1001(out, ["--format", "github", "--within", "5"]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(
      lines[0]!,
      /^::error title=mtls-certs%3A cannot check::cannot check as uid 1001: run as the tree's owner/,
    );
    assert.deepEqual(
      lines.filter((l) => l.includes("file=")),
      [],
      "with --within 5 nothing is due: no cert gets an annotation",
    );
  });

  it("prometheus: promtool fires the unreadable-keys alert and not MtlsCertInvalid on the metrics it writes", (t) => {
    if (spawnSync("promtool", ["--version"]).status !== 0) {
      t.skip("promtool (Debian's prometheus) is missing");
      return;
    }
    const r = checkAs1001(out, ["--format", "prometheus"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^mtls_certs_check_unreadable_keys 4$/m);
    assert.doesNotMatch(r.stdout, /status="invalid"/);
    // Every sample of the real output, held for 10 minutes: what node_exporter would serve.
    const series = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("mtls_certs_"))
      .map((l) => {
        const at = l.lastIndexOf(" ");
        return { series: l.slice(0, at), values: `${l.slice(at + 1)}x10` };
      });
    const rules = cli(["export", "prometheus-rules", "-o", join(dir, "rules.yml")], dir);
    assert.equal(rules.code, 0, rules.stderr);
    const tests = {
      rule_files: ["rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: series,
          alert_rule_test: [
            { eval_time: "5m", alertname: "MtlsCertInvalid", exp_alerts: [] },
            {
              eval_time: "5m",
              alertname: "MtlsCertsCheckCannotReadKeys",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning" },
                  exp_annotations: {
                    summary: "mtls-certs: the check cannot read 4 keys",
                    description:
                      "`mtls-certs check` runs as a user that cannot read the tree's keys: their certificates are still checked, the keys (match, mode) are not. Run it as the tree's owner, or give that user read access.",
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, "tests.yml"), JSON.stringify(tests, null, 2));
    const p = spawnSync("promtool", ["test", "rules", "tests.yml"], { cwd: dir, encoding: "utf8" });
    assert.equal(p.status, 0, p.stdout + p.stderr);
  });
});
