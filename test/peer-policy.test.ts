/**
 * One strict-peer policy (issue 15 §1): `check` reports on each cert's entry what `verify` and a
 * strict peer refuse, with the fix that works in place. The Makefile's own tree is the first case:
 * openssl -x509_strict and Python 3.13's strict client refuse it, and check must say so.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { CheckReport } from "../src/commands/check.js";
import { createCa } from "../src/commands/ca.js";
import { cli, openssl, tempDir, verifyStrict, writeFile, type Run, opensslSignCsr } from "./helpers.js";
import { copyTree, makeMakefileTree } from "./makefile-tree.js";

function checkJson(dir: string, args: string[] = []): { run: Run; report: CheckReport } {
  const run = cli(["check", "--json", ...args], dir);
  return { run, report: JSON.parse(run.stdout) as CheckReport };
}

const entry = (report: CheckReport, role: string, name: string) => {
  const e = report.certificates.find((c) => c.role === role && c.name === name);
  assert.ok(e, `no ${role} ${name}`);
  return e;
};

describe("check on a tree the Makefile made", () => {
  let made: string;
  before(() => {
    made = makeMakefileTree(tempDir(), { plugins: ["DenyListPlugin"] });
  });

  it("exits 1, names the CA's missing keyUsage with `mtls-certs renew --ca`, and the v1 gateway cert, as openssl -x509_strict refuses them", () => {
    const dir = tempDir();
    copyTree(made, dir);
    const strict = verifyStrict(
      join(dir, "certs/mcp/ca/ca.crt"),
      join(dir, "certs/mcp/plugins/DenyListPlugin/server.crt"),
    );
    assert.notEqual(strict.code, 0);
    assert.match(strict.stdout + strict.stderr, /CA cert does not include key usage extension/);

    const { run, report } = checkJson(dir);
    assert.equal(run.code, 1, run.stderr);
    const ca = entry(report, "ca", "ca");
    assert.equal(ca.status, "invalid");
    assert.deepEqual(
      ca.policy.map((p) => p.code),
      ["ca-missing-key-usage"],
    );
    assert.match(ca.policy[0]!.fix, /`mtls-certs renew --ca`/);
    assert.match(ca.problems.join("\n"), /key usage extension.*mtls-certs renew --ca/);
    assert.equal(report.next, "mtls-certs renew --ca");
    const gateway = entry(report, "gateway", "gateway");
    assert.deepEqual(
      gateway.policy.map((p) => p.code),
      ["v1-leaf"],
    );
    assert.match(gateway.policy[0]!.fix, /mtls-certs renew --force gateway/);
    // The plugin itself is fine: v3, the Makefile's three SANs, SHA-256, RSA 4096.
    assert.deepEqual(entry(report, "plugin", "DenyListPlugin").policy, []);
    assert.equal(entry(report, "plugin", "DenyListPlugin").status, "ok");

    const table = cli(["check"], dir);
    assert.equal(table.code, 1);
    assert.match(table.stdout, /^ca\s+ca\s+ContextForge-CA .* invalid\n\s+- CA cert does not include the key usage/m);
    assert.match(table.stdout, /need attention; next: `mtls-certs renew --ca`/);

    const github = cli(["check", "--format", "github"], dir);
    assert.match(
      github.stdout,
      /^::error file=certs\/mcp\/ca\/ca\.crt,title=mtls-certs%3A ca invalid::.*mtls-certs renew --ca/m,
    );
    const prometheus = cli(["check", "--format", "prometheus"], dir);
    assert.match(
      prometheus.stdout,
      /^mtls_certs_policy_problem\{role="ca",name="ca",code="ca-missing-key-usage"\} 1$/m,
    );
    assert.match(prometheus.stdout, /^mtls_certs_policy_problem\{role="gateway",name="gateway",code="v1-leaf"\} 1$/m);
  });

  it("verify gives the CA the same fix, not a new tree", () => {
    const dir = tempDir();
    copyTree(made, dir);
    const r = cli(["verify", "--json", "certs/mcp/plugins/DenyListPlugin/server.crt"], dir);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { problems: Array<{ code: string; fix: string }> };
    assert.deepEqual(
      report.problems.map((p) => p.code),
      ["ca-missing-key-usage"],
    );
    assert.match(report.problems[0]!.fix, /mtls-certs renew --ca/);
    assert.doesNotMatch(report.problems[0]!.fix, /new tree/);
  });
});

/** openssl signs a leaf into the tree's plugin slot with the given key and extension lines. */
function opensslLeaf(
  out: string,
  name: string,
  o: { newkey: string[]; digest: string; ext: string[]; days?: number },
): string {
  const dir = join(out, "plugins", name);
  const key = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const cert = join(dir, "server.crt");
  const ext = writeFile(join(dir, "ext.cnf"), o.ext.join("\n") + "\n");
  const r = openssl([
    "req",
    "-new",
    ...o.newkey,
    "-nodes",
    "-keyout",
    key,
    "-subj",
    `/CN=mcp-plugin-${name}`,
    "-out",
    csr,
  ]);
  assert.equal(r.code, 0, `openssl req ${name}: ${r.stderr}`);
  const ca = { cert: join(out, "ca/ca.crt"), key: join(out, "ca/ca.key") };
  opensslSignCsr(csr, ca, cert, { days: o.days ?? 90, digest: o.digest, extfile: ext });
  copyFileSync(join(out, "ca/ca.crt"), join(dir, "ca.crt"));
  return cert;
}

describe("check: each rule of the policy on the cert's own entry, as strict openssl judges it", () => {
  let out: string;
  let report: CheckReport;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
  const sans = (name: string) => `subjectAltName=DNS:${name},DNS:mcp-plugin-${name},DNS:localhost`;
  const leafKu = "keyUsage=critical,digitalSignature";

  before(async () => {
    const dir = tempDir();
    out = join(dir, "certs/mcp");
    await createCa({ out, keyType: "ecdsa-p256", days: 400 });
    opensslLeaf(out, "good", {
      newkey: ec,
      digest: "-sha256",
      ext: [sans("good"), leafKu, "extendedKeyUsage=serverAuth"],
    });
    opensslLeaf(out, "sha1", { newkey: ec, digest: "-sha1", ext: [sans("sha1")] });
    opensslLeaf(out, "small", { newkey: ["-newkey", "rsa:1024"], digest: "-sha256", ext: [sans("small")] });
    opensslLeaf(out, "client-only", {
      newkey: ec,
      digest: "-sha256",
      ext: [sans("client-only"), "extendedKeyUsage=clientAuth"],
    });
    opensslLeaf(out, "no-names", { newkey: ec, digest: "-sha256", ext: ["subjectAltName=DNS:no-names"] });
    opensslLeaf(out, "outlives", { newkey: ec, digest: "-sha256", ext: [sans("outlives")], days: 800 });
    // openssl made these leaves, as the Makefile would: a tree from before the issuance ledger, adopted once.
    rmSync(join(out, "ca/ledger.json"));
    // Adoption takes a cert only with its role's purpose (issue 23 §5): the clientAuth-only one stays foreign.
    const adopted = cli(["adopt", "--out", out], dir);
    assert.equal(adopted.code, 1, adopted.stderr);
    assert.match(
      adopted.stdout + adopted.stderr,
      /not adopted plugins\/client-only\/server\.crt: extendedKeyUsage clientAuth: not a TLS server cert/,
    );
    report = checkJson(dir).report;
  });

  const cases: Array<[string, string[], boolean]> = [
    // name, codes, strict openssl (-purpose sslserver, security level 2) accepts it
    ["good", [], true],
    ["sha1", ["weak-signature"], false],
    ["small", ["key-too-small"], false],
    ["client-only", ["wrong-purpose"], false],
    // One problem for both names it lacks (mcp-plugin-no-names, localhost): one reason, one line.
    ["no-names", ["missing-san"], true],
    ["outlives", ["beyond-ca"], true],
  ];
  for (const [name, codes, accepted] of cases) {
    it(`${name}: ${codes.join(", ") || "no problem"}`, () => {
      const e = entry(report, "plugin", name);
      assert.deepEqual(
        e.policy.map((p) => p.code),
        codes,
        e.problems.join("; "),
      );
      assert.equal(e.status, codes.length === 0 ? "ok" : name === "client-only" ? "foreign" : "invalid");
      for (const p of e.policy) assert.match(p.fix, /`mtls-certs renew/);
      const strict = openssl([
        "verify",
        "-x509_strict",
        "-auth_level",
        "2",
        "-purpose",
        "sslserver",
        "-CAfile",
        join(out, "ca/ca.crt"),
        join(out, "plugins", name, "server.crt"),
      ]);
      assert.equal(strict.code === 0, accepted, strict.stdout + strict.stderr);
    });
  }

  it("a missing SAN names the role's own name and `renew NAME`", () => {
    const problems = entry(report, "plugin", "no-names").problems.join("\n");
    assert.match(problems, /missing SANs? [^\n]*DNS:mcp-plugin-no-names[^\n]*; run `mtls-certs renew no-names`/);
    assert.match(problems, /missing SANs? [^\n]*DNS:localhost/);
  });
});
