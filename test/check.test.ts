/**
 * `check` for CI schedules (issue 4, issue 10): every status, every exit code and every format.
 * Fixtures get their dates from the API's explicit notBefore/notAfter (a clock, never waiting);
 * each status is cross-checked with openssl, each format parsed as its consumer would.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { checkTree, type CheckReport } from "../src/commands/check.js";
import { createCa } from "../src/commands/ca.js";
import { issueGateway } from "../src/commands/gateway.js";
import { issuePlugin } from "../src/commands/plugin.js";
import { BIN, cli, openssl, pluginConfig, tempDir, verifyStrict, writeFile } from "./helpers.js";

const DAY = 86_400_000;
const daysFromNow = (n: number): Date => new Date(Date.now() + n * DAY);
const fast = { keyType: "ecdsa-p256" as const };

/** A plugin cert with the given dates, under the tree's CA. */
async function plugin(out: string, name: string, notBefore: Date, notAfter: Date): Promise<void> {
  await issuePlugin(name, { ...fast, out, config: join(out, "no-config.yaml"), notBefore, notAfter });
}

/** openssl's own verdict on a leaf: "OK", or its error text. */
function opensslVerdict(out: string, certPath: string): string {
  const r = verifyStrict(join(out, "ca/ca.crt"), certPath);
  return r.code === 0 ? "OK" : r.stdout + r.stderr;
}

function entry(report: CheckReport, name: string) {
  const e = report.certificates.find((c) => c.name === name);
  assert.ok(e, `no entry ${name}`);
  return e;
}

describe("check: one status per certificate, the CA first", () => {
  let out: string;
  let config: string;
  before(async () => {
    out = join(tempDir(), "certs/mcp");
    await issueGateway({ ...fast, out });
    await plugin(out, "fresh", daysFromNow(-1), daysFromNow(400));
    await plugin(out, "expiring", daysFromNow(-300), daysFromNow(10));
    await plugin(out, "expired", daysFromNow(-300), daysFromNow(-2));
    await plugin(out, "future", daysFromNow(5), daysFromNow(400));
    await plugin(out, "mismatch", daysFromNow(-1), daysFromNow(400));
    await plugin(out, "loose", daysFromNow(-1), daysFromNow(400));
    await plugin(out, "stranger", daysFromNow(-1), daysFromNow(400));
    await plugin(out, "needs-ip", daysFromNow(-1), daysFromNow(400));
    // A key that belongs to another cert; a key others can read; a cert from another CA.
    copyFileSync(join(out, "plugins/fresh/server.key"), join(out, "plugins/mismatch/server.key"));
    chmodSync(join(out, "plugins/loose/server.key"), 0o644);
    const other = join(tempDir(), "certs/mcp");
    await plugin(other, "stranger", daysFromNow(-1), daysFromNow(400));
    cpSync(join(other, "plugins/stranger/server.crt"), join(out, "plugins/stranger/server.crt"));
    cpSync(join(other, "plugins/stranger/server.key"), join(out, "plugins/stranger/server.key"));
    // The config now reaches needs-ip at an address its cert does not carry.
    config = writeFile(
      join(out, "../../config.yaml"),
      pluginConfig([{ name: "needs-ip", url: "https://10.20.30.40:8443/mcp" }]),
    );
  });

  it("gives ok, expiring, expired and not-yet-valid by date, as openssl dates them", async () => {
    const report = await checkTree({ out, within: 30 });
    assert.equal(report.certificates[0]!.role, "ca", "the CA is the first entry");
    assert.equal(entry(report, "ca").status, "ok");
    assert.equal(entry(report, "fresh").status, "ok");
    assert.equal(opensslVerdict(out, join(out, "plugins/fresh/server.crt")), "OK");

    assert.equal(entry(report, "expiring").status, "expiring");
    assert.equal(entry(report, "expiring").daysLeft, 9);
    // openssl agrees: still valid, but not 30 days from now.
    assert.equal(opensslVerdict(out, join(out, "plugins/expiring/server.crt")), "OK");
    assert.equal(
      openssl(["x509", "-in", join(out, "plugins/expiring/server.crt"), "-noout", "-checkend", String(30 * 86400)])
        .code,
      1,
    );

    assert.equal(entry(report, "expired").status, "expired");
    assert.ok(entry(report, "expired").daysLeft! < 0);
    assert.match(opensslVerdict(out, join(out, "plugins/expired/server.crt")), /certificate has expired/);

    assert.equal(entry(report, "future").status, "not-yet-valid");
    assert.match(opensslVerdict(out, join(out, "plugins/future/server.crt")), /certificate is not yet valid/);
  });

  it("gives invalid (foreign for another CA's cert), naming the file, for a foreign key, a readable key, another CA's cert and a missing SAN", async () => {
    const report = await checkTree({ out, within: 30, config });
    const mismatch = entry(report, "mismatch");
    assert.equal(mismatch.status, "invalid");
    assert.match(mismatch.problems.join("\n"), /mismatch\/server\.key: does not match the certificate/);
    // openssl agrees the key is not the cert's.
    const certKey = openssl(["x509", "-in", join(out, "plugins/mismatch/server.crt"), "-noout", "-pubkey"]).stdout;
    const keyPub = openssl(["pkey", "-in", join(out, "plugins/mismatch/server.key"), "-pubout"]).stdout;
    assert.notEqual(certKey, keyPub);

    assert.equal(entry(report, "loose").status, "invalid");
    assert.match(entry(report, "loose").problems.join("\n"), /open to others \(mode 644\)/);

    // Another CA's cert is also one the issuance ledger never recorded: foreign (issue 13).
    assert.equal(entry(report, "stranger").status, "foreign");
    assert.match(entry(report, "stranger").problems.join("\n"), /not signed by this tree's CA/);
    assert.match(entry(report, "stranger").problems.join("\n"), /foreign: this tree's ledger/);
    assert.match(
      opensslVerdict(out, join(out, "plugins/stranger/server.crt")),
      /unable to get local issuer certificate/,
    );

    const needsIp = entry(report, "needs-ip");
    assert.equal(needsIp.status, "invalid");
    assert.match(needsIp.problems.join("\n"), /missing SAN IP:10\.20\.30\.40 that the plugin config asks for/);
    // openssl agrees: the cert does not cover that address.
    assert.notEqual(
      openssl([
        "verify",
        "-CAfile",
        join(out, "ca/ca.crt"),
        "-verify_ip",
        "10.20.30.40",
        join(out, "plugins/needs-ip/server.crt"),
      ]).code,
      0,
    );
    // Without the config, the same cert has no SAN requirement.
    assert.equal(entry(await checkTree({ out, within: 30 }), "needs-ip").status, "ok");
  });

  it("gives revoked when an extra check says so (the hook the CRL check plugs into)", async () => {
    const report = await checkTree({
      out,
      within: 30,
      extraChecks: (e) => (e.name === "fresh" ? ["revoked on 2026-01-01 (keyCompromise)"] : []),
    });
    assert.equal(entry(report, "fresh").status, "revoked");
  });

  it("prints one JSON document with the documented shape; daysLeft is a number", () => {
    const r = cli(["check", "--out", out, "--json"], out);
    assert.equal(r.code, 1, "expired, not-yet-valid and invalid certs fail the check");
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.deepEqual(Object.keys(report).sort(), [
      "cannotCheck",
      "certificates",
      "checkedAt",
      "next",
      "root",
      "warnings",
      "within",
    ]);
    assert.ok(!Number.isNaN(Date.parse(report.checkedAt)));
    for (const c of report.certificates) {
      for (const key of [
        "path",
        "role",
        "name",
        "subject",
        "serial",
        "notBefore",
        "notAfter",
        "daysLeft",
        "status",
        "problems",
        "signedBy",
        "policy",
      ])
        assert.ok(key in c, `${c.name} lacks ${key}`);
      assert.equal(typeof c.daysLeft, "number");
      assert.ok(Array.isArray(c.problems));
    }
    assert.equal(report.certificates[0]!.role, "ca");
    const statuses = new Set(report.certificates.map((c) => c.status));
    for (const s of ["ok", "expiring", "expired", "not-yet-valid", "invalid"])
      assert.ok(statuses.has(s as never), `no ${s} in the report`);
    // --format json is the same document.
    assert.deepEqual(
      Object.keys(JSON.parse(cli(["check", "--out", out, "--format", "json"], out).stdout)).sort(),
      Object.keys(report).sort(),
    );
  });

  it("prints Prometheus textfile metrics that parse line by line, with HELP and TYPE before each family", () => {
    const r = cli(["check", "--out", out, "--format", "prometheus", "--within", "30"], out);
    assert.equal(r.code, 1);
    const json = JSON.parse(cli(["check", "--out", out, "--json", "--within", "30"], out).stdout) as CheckReport;
    const help = new Set<string>();
    const type = new Map<string, string>();
    const samples: Array<{ metric: string; labels: Record<string, string>; value: number }> = [];
    for (const line of r.stdout.trimEnd().split("\n")) {
      const helpLine = line.match(/^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/);
      const typeLine = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/);
      const m = line.match(
        /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$/,
      );
      if (helpLine) help.add(helpLine[1]!);
      else if (typeLine) type.set(typeLine[1]!, typeLine[2]!);
      else if (m) {
        const metric = m[1]!;
        assert.ok(help.has(metric) && type.has(metric), `${metric}: sample before its HELP/TYPE`);
        const labels = Object.fromEntries(
          [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
        );
        samples.push({ metric, labels, value: Number(m[3]) });
      } else assert.fail(`not exposition format: ${JSON.stringify(line)}`);
    }
    for (const name of [
      "mtls_certs_not_after_timestamp_seconds",
      "mtls_certs_not_before_timestamp_seconds",
      "mtls_certs_expires_in_seconds",
      "mtls_certs_status",
      "mtls_certs_problems",
      "mtls_certs_check_timestamp_seconds",
      "mtls_certs_check_within_seconds",
    ]) {
      assert.equal(type.get(name), "gauge", `${name} is a gauge`);
    }
    const checkedAt = samples.find((s) => s.metric === "mtls_certs_check_timestamp_seconds")!.value;
    assert.equal(samples.find((s) => s.metric === "mtls_certs_check_within_seconds")?.value, 30 * 86_400);
    for (const c of json.certificates) {
      const of = (metric: string) =>
        samples.find((s) => s.metric === metric && s.labels.role === c.role && s.labels.name === c.name);
      const expiresIn = of("mtls_certs_expires_in_seconds")!.value;
      assert.equal(expiresIn, Math.floor(Date.parse(c.notAfter!) / 1000) - checkedAt, `${c.name} seconds left`);
      // The same cert as the JSON's whole days, from the other run's clock (a second or two apart).
      assert.ok(Math.abs(expiresIn / 86_400 - c.daysLeft!) <= 1, `${c.name}: ${expiresIn} s vs ${c.daysLeft} days`);
      assert.equal(of("mtls_certs_not_after_timestamp_seconds")?.value, Date.parse(c.notAfter!) / 1000);
      assert.equal(of("mtls_certs_status")?.labels.status, c.status);
    }
    // The expiry gauge is what openssl reads as notAfter.
    const enddate = openssl(["x509", "-in", join(out, "plugins/expiring/server.crt"), "-noout", "-enddate"])
      .stdout.trim()
      .slice("notAfter=".length);
    const gauge = samples.find(
      (s) => s.metric === "mtls_certs_not_after_timestamp_seconds" && s.labels.name === "expiring",
    )!;
    assert.equal(gauge.value, Date.parse(enddate) / 1000);
  });

  it("prints GitHub annotations: ::error for what fails the job, ::warning for the rest, with the file", () => {
    const lines = (args: string[]) =>
      cli(["check", "--out", out, "--format", "github", ...args], join(out, "../.."))
        .stdout.trimEnd()
        .split("\n");
    const plain = lines([]);
    for (const line of plain) assert.match(line, /^::(error|warning|notice) (file=[^,:]+,)?title=[^:]+::\S.*$/);
    assert.ok(
      plain.some(
        (l) => l.startsWith("::error file=certs/mcp/plugins/expired/server.crt,") && /expired on \d{4}-/.test(l),
      ),
    );
    assert.ok(
      plain.some(
        (l) => l.startsWith("::error file=certs/mcp/plugins/mismatch/server.crt,") && /does not match/.test(l),
      ),
    );
    // Without --within an expiring cert does not fail the job; with it, it does.
    assert.ok(plain.some((l) => l.startsWith("::warning file=certs/mcp/plugins/expiring/server.crt,")));
    assert.ok(
      lines(["--within", "30"]).some((l) => l.startsWith("::error file=certs/mcp/plugins/expiring/server.crt,")),
    );
    assert.ok(!plain.some((l) => l.includes("plugins/fresh/")), "an ok cert has no annotation");
    assert.match(plain.at(-1)!, /^::notice title=mtls-certs::\d+ certificates? checked/);
  });
});

describe("check: exit codes for a CI schedule", () => {
  let okTree: string;
  let expiringTree: string;
  let expiredTree: string;
  before(async () => {
    okTree = join(tempDir(), "ok");
    await issueGateway({ ...fast, out: okTree });
    expiringTree = join(tempDir(), "expiring");
    await issueGateway({ ...fast, out: expiringTree, notBefore: daysFromNow(-800), notAfter: daysFromNow(12) });
    expiredTree = join(tempDir(), "expired");
    await issueGateway({ ...fast, out: expiredTree, notBefore: daysFromNow(-800), notAfter: daysFromNow(-1) });
  });

  it("exits 0 when every cert is ok, with or without --within", () => {
    assert.equal(cli(["check", "--out", okTree], okTree).code, 0);
    assert.equal(cli(["check", "--out", okTree, "--within", "30"], okTree).code, 0);
  });

  it("reports an expiring cert but exits 0 without --within; exits 1 with --within 30, 0 with --within 5", () => {
    const plain = cli(["check", "--out", expiringTree], expiringTree);
    assert.equal(plain.code, 0);
    assert.match(plain.stdout, /gateway\s+gateway\s+mcp-gateway-client\s+\S+ \S+ UTC\s+11\s+expiring/);
    // The words agree with the exit code: "need attention" is what fails (exit 1), expiring is named apart.
    assert.match(
      plain.stdout,
      /^2 certificates in \S+; 1 expiring within 30 days \(`mtls-certs renew` re-issues it\)$/m,
    );
    assert.doesNotMatch(plain.stdout, /need attention/);
    const failing = cli(["check", "--out", expiringTree, "--within", "30"], expiringTree);
    assert.match(failing.stdout, /^2 certificates in \S+; 1 needs attention$/m);
    assert.equal(cli(["check", "--out", expiringTree, "--within", "30"], expiringTree).code, 1);
    assert.equal(cli(["check", "--out", expiringTree, "--within", "5"], expiringTree).code, 0);
  });

  it("exits 1 for an expired cert with or without --within", () => {
    assert.equal(cli(["check", "--out", expiredTree], expiredTree).code, 1);
    assert.equal(cli(["check", "--out", expiredTree, "--within", "0"], expiredTree).code, 1);
  });

  it("exits 2 for usage errors: a bad --within, an unknown format, two formats, no tree", () => {
    for (const args of [
      ["--within", "soon"],
      ["--within", "-1"],
      ["--format", "xml"],
      ["--json", "--format", "github"],
    ]) {
      const r = cli(["check", "--out", okTree, ...args], okTree);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
    const missing = cli(["check", "--out", join(okTree, "nowhere")], okTree);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no certificate tree here/);
  });
});

describe("check: the CA is a first-class certificate (issue 10)", () => {
  it("warns before any leaf when the CA expires within --within, and fails the check", async () => {
    const out = join(tempDir(), "certs/mcp");
    await createCa({ ...fast, out, days: 20 });
    await issueGateway({ ...fast, out });
    const r = cli(["check", "--out", out, "--within", "30"], out);
    assert.equal(r.code, 1);
    const lines = r.stdout.split("\n");
    assert.match(
      lines[0]!,
      /^warning: .*ca\/ca\.crt: the CA expires on \d{4}-.* \(19 days left, within 90: --within 30 plus 60 days for a rotation with overlap\): every leaf it signed stops verifying then; rotate it with `mtls-certs renew --ca`/,
    );
    assert.match(r.stdout, /^ca\s+ca\s+ContextForge-CA\s+\S+ \S+ UTC\s+19\s+expiring$/m);
    // The gateway cert was capped at the CA's notAfter: openssl sees the same date on both.
    const end = (p: string) => openssl(["x509", "-in", join(out, p), "-noout", "-enddate"]).stdout;
    assert.equal(end("gateway/client.crt"), end("ca/ca.crt"));
    const github = cli(["check", "--out", out, "--within", "30", "--format", "github"], out).stdout.split("\n");
    assert.match(github[0]!, /^::warning title=mtls-certs::.*the CA expires on/);
    // Without --within the same CA is reported, not failed.
    assert.equal(cli(["check", "--out", out], out).code, 0);
  });

  it("checks a tree of 2,000 plugin directories on every core, each problem on its own entry", async () => {
    const out = join(tempDir(), "certs/mcp");
    await plugin(out, "p0", daysFromNow(-1), daysFromNow(400));
    const source = join(out, "plugins/p0");
    // Copies of p0's cert in other directories are foreign to the ledger (issue 13): this test is
    // about the worker split, so the tree is one made before the ledger.
    rmSync(join(out, "ca/ledger.json"));
    for (let i = 1; i < 2000; i++) {
      const dir = join(out, `plugins/p${i}`);
      mkdirSync(dir);
      for (const f of ["server.crt", "server.key", "ca.crt"]) copyFileSync(join(source, f), join(dir, f));
      chmodSync(join(dir, "server.key"), 0o600);
    }
    // Above WORKER_THRESHOLD the leaves are split across threads: break one in each slice.
    const foreignKey = openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]).stdout;
    writeFile(join(out, "plugins/p7/server.key"), foreignKey);
    chmodSync(join(out, "plugins/p7/server.key"), 0o600);
    chmodSync(join(out, "plugins/p1500/server.key"), 0o644);
    writeFile(
      join(out, "plugins/p1999/server.crt"),
      "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    );
    const r = cli(["check", "--out", out, "--json"], out);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.equal(report.certificates.length, 2001);
    // The copies of p0's cert lack their own directory's name (DNS:pN, a name every plugin cert
    // carries, and DNS:mcp-plugin-pN): that is all the policy finds on them.
    const copies = report.certificates.filter(
      (c) => c.role === "plugin" && !["p0", "p7", "p1500", "p1999"].includes(c.name),
    );
    for (const c of copies)
      assert.deepEqual(
        c.policy.map((p) => [p.code, p.message]),
        // One problem for the reason they share, both names in it (issue 28 §8: one line, not one per name).
        [["missing-san", `missing SANs DNS:${c.name}, DNS:mcp-plugin-${c.name} (a name every plugin cert carries)`]],
      );
    const bad = report.certificates.filter((c) => c.status !== "ok" && !copies.includes(c));
    assert.deepEqual(bad.map((c) => c.name).sort(), ["p1500", "p1999", "p7"]);
    const problems = (name: string) => bad.find((c) => c.name === name)!.problems.join("; ");
    assert.match(problems("p7"), /server\.key: does not match the certificate/);
    assert.match(problems("p1500"), /open to others \(mode 644\)/);
    assert.match(problems("p1999"), /not a PEM certificate/);
    // What openssl says of the same files.
    assert.notEqual(openssl(["x509", "-in", join(out, "plugins/p1999/server.crt"), "-noout"]).code, 0);
    assert.equal(verifyStrict(join(out, "ca/ca.crt"), join(out, "plugins/p1234/server.crt")).code, 0);
  });
});

describe("check: every file that holds a key, and a CA cert it cannot read (issue 13 §3)", () => {
  const EC = ["--key-type", "ecdsa-p256", "-q"];
  type Entry = CheckReport["certificates"][number];
  const isRoot = process.getuid?.() === 0;
  const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
  /** check --json; `asNobody`: as uid 65534 (setpriv), for whom a mode-000 file really is unreadable. */
  const checkJson = (out: string, asNobody = false): { code: number | null; entries: Entry[] } => {
    const r = asNobody
      ? spawnSync(
          "setpriv",
          ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, BIN, "check", "--out", out, "--json"],
          { cwd: out, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", CI: "1" } },
        )
      : cli(["check", "--out", out, "--json"], out);
    return { code: "code" in r ? r.code : r.status, entries: (JSON.parse(r.stdout) as CheckReport).certificates };
  };
  const named = (entries: Entry[], name: string): Entry => {
    const found = entries.find((e) => e.name === name);
    assert.ok(found, `no entry ${name}`);
    return found;
  };

  it("holds client.pem and HAProxy's haproxy.pem to the key-mode rule, and names a link in their place", () => {
    const cwd = tempDir();
    const out = join(cwd, "certs/mcp");
    for (const args of [
      ["client", "bob", ...EC],
      ["server", "api", ...EC],
      ["export", "haproxy", "--server", "api", "-o", join(cwd, "haproxy.cfg")],
    ]) {
      const r = cli([...args, "--out", out], cwd);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const clientPem = join(out, "clients/bob/client.pem");
    const haproxyPem = join(out, "servers/api/haproxy.pem");
    // Both really hold the private key (openssl reads one from each).
    for (const file of [clientPem, haproxyPem]) assert.equal(openssl(["pkey", "-in", file, "-noout"]).code, 0, file);
    assert.equal(checkJson(out).code, 0);
    chmodSync(clientPem, 0o644);
    chmodSync(haproxyPem, 0o604);
    const open = checkJson(out);
    assert.equal(open.code, 1);
    assert.equal(named(open.entries, "bob").status, "invalid");
    // chmod 640 for a root-owned file (PostgreSQL's rule, key-mode.ts), 600 for anyone else's.
    const fix = process.getuid?.() === 0 ? "640" : "600";
    assert.ok(
      named(open.entries, "bob").problems.includes(`${clientPem}: open to others (mode 644); run chmod ${fix}`),
    );
    assert.ok(
      named(open.entries, "api").problems.includes(`${haproxyPem}: open to others (mode 604); run chmod ${fix}`),
    );
    chmodSync(haproxyPem, 0o600);
    rmSync(clientPem);
    symlinkSync("../../ca/ca.key", clientPem);
    const linked = checkJson(out);
    assert.equal(linked.code, 2, "a link where a key-bearing file should be is exit 2");
    assert.match(named(linked.entries, "bob").problems.join("\n"), /client\.pem: is a symbolic link/);
    assert.equal(named(linked.entries, "api").status, "ok");
  });

  /** What ca.crt is replaced with: nothing any reader (openssl included) makes a CA certificate of. */
  const breakers: Array<[string, (caCert: string) => void, { skip?: string }]> = [
    [
      "not a certificate",
      (f) => writeFileSync(f, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"),
      {},
    ],
    [
      "a directory",
      (f) => {
        rmSync(f);
        mkdirSync(f);
      },
      {},
    ],
    [
      "mode 000",
      (f) => chmodSync(f, 0o000),
      isRoot && !hasSetpriv
        ? { skip: "root reads a mode-000 file; setpriv (to check as another user) is missing" }
        : {},
    ],
  ];
  for (const intermediate of [false, true]) {
    for (const [what, breakCa, opts] of breakers) {
      it(
        `a ca.crt that is ${what}${intermediate ? " (tree with an intermediate)" : " (tree without a ledger)"}: no leaf is reported verified, exit 1`,
        opts,
        () => {
          const cwd = tempDir();
          const out = join(cwd, "certs/mcp");
          if (intermediate) assert.equal(cli(["ca", "--intermediate", ...EC, "--out", out], cwd).code, 0);
          for (const args of [
            ["gateway", ...EC],
            ["plugin", "p1", ...EC],
          ])
            assert.equal(cli([...args, "--out", out], cwd).code, 0, args.join(" "));
          // Without a ledger nothing else marks the leaves: only the CA cert can vouch for them.
          if (!intermediate) rmSync(join(out, "ca/ledger.json"));
          const caCert = join(out, "ca/ca.crt");
          breakCa(caCert);
          // Root reads a mode-000 file: the tree goes to uid 65534, who checks it and cannot.
          const asNobody = what === "mode 000" && isRoot;
          if (asNobody) {
            chmodSync(cwd, 0o755);
            spawnSync("chown", ["-R", "65534:65534", cwd]);
            assert.notEqual(
              spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", caCert]).status,
              0,
              "uid 65534 cannot read it",
            );
          }
          const leaf = join(out, "plugins/p1/server.crt");
          const verified = asNobody
            ? spawnSync("setpriv", [
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "openssl",
                "verify",
                "-x509_strict",
                "-CAfile",
                caCert,
                leaf,
              ]).status
            : verifyStrict(caCert, leaf).code;
          assert.notEqual(verified, 0, "openssl cannot verify against it either");
          const { code, entries } = checkJson(out, asNobody);
          assert.equal(code, 1);
          assert.equal(named(entries, "ca").status, "invalid");
          for (const name of ["gateway", "p1"]) {
            const entry = named(entries, name);
            assert.notEqual(entry.status, "ok", `${name} reported ok`);
            assert.ok(
              entry.problems.includes(`not verified: ${caCert} cannot be read as the CA certificate`),
              entry.problems.join("\n"),
            );
          }
        },
      );
    }
  }
});
