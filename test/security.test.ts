/**
 * Issue 13's attacks, each tried as an attacker with write access to one leaf directory only (a
 * plugin container's read-write mount), or with one hostile string, would; each judged by the real
 * CLI's result and, where a cert or key is involved, by openssl, not by our own code.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { X509Certificate, createPublicKey } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  BIN,
  ROOT,
  cli,
  openssl,
  read,
  tempDir,
  type Run,
  x509Text,
  opensslEcRequest,
  opensslSignCsr,
} from "./helpers.js";
import { issueClient } from "../src/index.js";

const EC = ["--key-type", "ecdsa-p256"];
/** Python with the ssl module the project tests against (PROTOCOL.md); python3 elsewhere. */
const PYTHON = existsSync(`${process.env.HOME}/.pyenv/versions/3.13.0/bin/python3`)
  ? `${process.env.HOME}/.pyenv/versions/3.13.0/bin/python3`
  : "python3";

function must(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A self-signed P-256 cert and key made by openssl: what an attacker drops into a leaf directory. */
function plantSelfSigned(dir: string, stem: string, subject: string, sans: string): void {
  mkdirSync(dir, { recursive: true });
  must(
    opensslEcRequest(join(dir, `${stem}.key`), join(dir, `${stem}.crt`), [
      "-x509",
      "-days",
      "10",
      "-subj",
      subject,
      "-addext",
      `subjectAltName=${sans}`,
    ]),
    "openssl req -x509",
  );
}

/** The DER SPKI's SHA-256 in hex, computed by openssl alone. */
function opensslSpki(certPath: string): string {
  const r = spawnSync(
    "bash",
    [
      "-c",
      `openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -r`,
      "spki",
      certPath,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split(" ")[0]!.trim();
}

function opensslField(certPath: string, ...flags: string[]): string {
  const r = must(openssl(["x509", "-in", certPath, "-noout", ...flags]), `openssl x509 ${flags.join(" ")}`);
  return r.stdout.trim().replace(/^[^=]*=/, "");
}

interface Entry {
  serial: string;
  role: string;
  name: string;
  status: string;
  spkiSha256: string;
  fingerprint: string;
  notAfter: string;
  subject: string;
  sans: string[];
  reason?: string;
  revokedAt?: string;
  source: string;
  issuer: { subject: string; spkiSha256: string };
}

function ledgerOf(root: string): Entry[] {
  return (JSON.parse(readFileSync(join(root, "ca", "ledger.json"), "utf8")) as { entries: Entry[] }).entries;
}

/** Issue 13 §1 §2 (owner: ledger): the issuance ledger and renew from policy. */
describe("issue 13: the issuance ledger and renew from policy", () => {
  describe("a self-signed cert planted in plugins/evil2/ (CN=mcp-gateway-client, SANs of example-plugin-a)", () => {
    const dir = tempDir();
    const root = join(dir, "certs/mcp");
    const evil = join(root, "plugins", "evil2");
    let plantedBytes = "";
    before(() => {
      must(cli(["all", "--out", root, ...EC, "-q"], dir), "all");
      plantSelfSigned(evil, "server", "/CN=mcp-gateway-client", "DNS:example-plugin-a,DNS:*.example.com");
      plantedBytes = readFileSync(join(evil, "server.crt"), "utf8");
    });

    it("renew leaves it alone and says it is foreign (exit 1); no CA-signed cert with those names exists", () => {
      const r = cli(["renew", "--out", root, "--force"], dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /evil2\/server\.crt: foreign/);
      assert.equal(readFileSync(join(evil, "server.crt"), "utf8"), plantedBytes, "the planted cert was rewritten");
      const verify = openssl(["verify", "-CAfile", join(root, "ca", "ca.crt"), join(evil, "server.crt")]);
      assert.notEqual(verify.code, 0, "the CA signed the planted cert");
      assert.ok(!ledgerOf(root).some((e) => e.name === "evil2"), "the ledger entered the planted cert");
    });

    it("check names it foreign (exit 1)", () => {
      const r = cli(["check", "--out", root, "--json"], dir);
      assert.equal(r.code, 1);
      const entry = (
        JSON.parse(r.stdout) as { certificates: Array<{ name: string; status: string; problems: string[] }> }
      ).certificates.find((c) => c.name === "evil2");
      assert.equal(entry?.status, "foreign", JSON.stringify(entry));
      assert.ok(
        entry?.problems.some((p) => p.startsWith("foreign")),
        JSON.stringify(entry),
      );
      // The planted cert's profile is not ours to fix: no advice to renew it or to rotate the CA for it.
      assert.ok(
        !entry?.problems.some((p) => /renew|rotate/.test(p)),
        `advice that acts on a planted cert: ${entry?.problems.join("; ")}`,
      );
    });

    it("export refuses it: env, k8s and p12 (exit 1), and nothing is written", () => {
      const env = cli(["export", "env", "--out", root, "--plugin", "evil2"], dir);
      assert.equal(env.code, 1, env.stdout + env.stderr);
      assert.match(env.stderr, /foreign/);
      // k8s takes every plugin directory of the tree: the planted one among them.
      const k8s = cli(["export", "k8s", "--out", root], dir);
      assert.equal(k8s.code, 1, k8s.stdout + k8s.stderr);
      assert.match(k8s.stderr, /foreign/);
      const p12 = join(dir, "evil.p12");
      const r = cli(["export", "p12", "evil2", "--out", root, "-o", p12, "--p12-password-env", "P"], dir, { P: "x" });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /foreign/);
      assert.equal(existsSync(p12), false);
    });
  });

  describe("clients/bob (CN=bob): a planted CN=admin@example.com cert, a swapped key, a revoked key", () => {
    const dir = tempDir();
    const root = join(dir, "certs/mcp");
    const bob = join(root, "clients", "bob");
    before(() => {
      must(cli(["ca", "--out", root, ...EC, "-q"], dir), "ca");
      must(cli(["client", "bob", "--out", root, ...EC, "-q"], dir), "client bob");
    });

    it("renew --reuse-key bob with a planted self-signed admin@example.com cert: refused, foreign (exit 1)", () => {
      const real = { crt: readFileSync(join(bob, "client.crt")), key: readFileSync(join(bob, "client.key")) };
      plantSelfSigned(bob, "client", "/CN=admin@example.com", "email:admin@example.com");
      const r = cli(["renew", "--out", root, "--reuse-key", "--force", "bob"], dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /foreign/);
      const cert = join(bob, "client.crt");
      assert.notEqual(openssl(["verify", "-CAfile", join(root, "ca", "ca.crt"), cert]).code, 0, "CA-signed now");
      assert.doesNotMatch(opensslField(cert, "-issuer"), /ContextForge-CA/);
      writeFileSync(join(bob, "client.crt"), real.crt);
      writeFileSync(join(bob, "client.key"), real.key, { mode: 0o600 });
    });

    it("renew --reuse-key bob with bob's real cert but another key: refused (exit 2); the key is never signed", () => {
      const before = readFileSync(join(bob, "client.crt"), "utf8");
      must(
        openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, "a.key")]),
        "genpkey",
      );
      const realKey = readFileSync(join(bob, "client.key"));
      writeFileSync(join(bob, "client.key"), readFileSync(join(dir, "a.key")), { mode: 0o600 });
      const r = cli(["renew", "--out", root, "--reuse-key", "--force", "bob"], dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      // Refused by the key-vs-cert check (store/leaf-key.ts) before the ledger's own SPKI check.
      assert.match(
        r.stdout + r.stderr,
        /not the key of the cert the ledger recorded|client\.key: does not match .*client\.crt/,
      );
      assert.equal(readFileSync(join(bob, "client.crt"), "utf8"), before, "a cert was issued");
      writeFileSync(join(bob, "client.key"), realKey, { mode: 0o600 });
    });

    it("renew --reuse-key bob after bob was revoked (any reason): refused (exit 1); without --reuse-key a new key", () => {
      must(cli(["revoke", "bob", "--out", root, "--reason", "superseded"], dir), "revoke");
      const before = readFileSync(join(bob, "client.crt"), "utf8");
      const r = cli(["renew", "--out", root, "--reuse-key", "--force", "bob"], dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /revoked/);
      assert.equal(readFileSync(join(bob, "client.crt"), "utf8"), before);
      const again = cli(["renew", "--out", root, "--force", "bob"], dir);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.notEqual(
        opensslSpki(join(bob, "client.crt")),
        ledgerOf(root).find((e) => e.status === "revoked")?.spkiSha256,
      );
    });
  });

  describe("an adopted cert carrying an unknown extension", () => {
    const dir = tempDir();
    const root = join(dir, "certs/mcp");
    before(() => {
      must(cli(["ca", "--out", root, ...EC, "-q"], dir), "ca");
      // A plugin cert the CA signed with openssl and an extension no profile makes.
      const plugin = join(root, "plugins", "odd");
      mkdirSync(plugin, { recursive: true });
      const ext = join(dir, "odd.ext");
      writeFileSync(
        ext,
        "subjectAltName=DNS:odd,DNS:mcp-plugin-odd,DNS:localhost\n1.3.6.1.4.1.99999.1=ASN1:UTF8String:carried-over\n",
      );
      must(
        opensslEcRequest(join(plugin, "server.key"), join(dir, "odd.csr"), [
          "-subj",
          "/CN=mcp-plugin-odd/O=MCPGateway/OU=Plugins",
        ]),
        "req",
      );
      opensslSignCsr(
        join(dir, "odd.csr"),
        { cert: join(root, "ca", "ca.crt"), key: join(root, "ca", "ca.key") },
        join(plugin, "server.crt"),
        { days: 10, digest: "-sha256", extfile: ext },
      );
      assert.match(x509Text(join(plugin, "server.crt")), /1\.3\.6\.1\.4\.1\.99999\.1/);
    });

    it("renew adopts it, then re-issues it without the extension (openssl x509 -text)", () => {
      const r = cli(["renew", "--out", root, "--force", "odd"], dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stderr, /adopted plugins\/odd\/server\.crt/);
      const text = x509Text(join(root, "plugins", "odd", "server.crt"));
      assert.doesNotMatch(text, /99999|carried-over/);
      assert.match(text, /DNS:odd, DNS:mcp-plugin-odd, DNS:localhost/);
      assert.match(text, /Subject: CN\s*=\s*mcp-plugin-odd, O\s*=\s*MCPGateway, OU\s*=\s*Plugins/);
    });
  });

  describe("the ledger, cross-checked with openssl", () => {
    const dir = tempDir();
    const root = join(dir, "certs/mcp");
    before(() => {
      must(cli(["all", "--out", root, ...EC, "-q"], dir), "all");
      must(cli(["client", "alice", "--cn", "alice@example.com", "--out", root, ...EC, "-q"], dir), "client");
    });

    it("every leaf has one valid entry whose serial, SPKI, fingerprint, notAfter and issuer openssl confirms", () => {
      const entries = ledgerOf(root);
      const caSpki = opensslSpki(join(root, "ca", "ca.crt"));
      const leaves = [
        ["gateway", "gateway", join(root, "gateway", "client.crt")],
        ["plugin", "example-plugin-a", join(root, "plugins", "example-plugin-a", "server.crt")],
        ["plugin", "example-plugin-b", join(root, "plugins", "example-plugin-b", "server.crt")],
        ["client", "alice", join(root, "clients", "alice", "client.crt")],
      ] as const;
      assert.equal(entries.length, leaves.length);
      for (const [role, name, cert] of leaves) {
        const e = entries.find((x) => x.role === role && x.name === name);
        assert.ok(e, `${role}/${name} missing`);
        assert.equal(e.status, "valid");
        assert.equal(e.source, "issued");
        assert.equal(e.serial, opensslField(cert, "-serial").replace(/^0+/, ""));
        assert.equal(e.spkiSha256, opensslSpki(cert));
        assert.equal(e.fingerprint, opensslField(cert, "-fingerprint", "-sha256"));
        assert.equal(Date.parse(e.notAfter), Date.parse(opensslField(cert, "-enddate")));
        assert.equal(e.issuer.spkiSha256, caSpki);
      }
      assert.deepEqual(entries.find((e) => e.name === "alice")?.sans, ["email:alice@example.com"]);
    });

    it("renew: the old entry is superseded, the new one valid; revoke: revoked with reason and date, as the CRL says", () => {
      const gateway = join(root, "gateway", "client.crt");
      const oldSerial = opensslField(gateway, "-serial").replace(/^0+/, "");
      must(cli(["renew", "--out", root, "--force", "gateway"], dir), "renew");
      const newSerial = opensslField(gateway, "-serial").replace(/^0+/, "");
      must(cli(["revoke", "alice", "--out", root, "--reason", "keyCompromise"], dir), "revoke");
      const entries = ledgerOf(root);
      assert.equal(entries.find((e) => e.serial === oldSerial)?.status, "superseded");
      assert.equal(entries.find((e) => e.serial === newSerial)?.status, "valid");
      const alice = entries.find((e) => e.name === "alice");
      assert.equal(alice?.status, "revoked");
      assert.equal(alice?.reason, "keyCompromise");
      const crl = must(openssl(["crl", "-in", join(root, "ca", "ca.crl"), "-noout", "-text"]), "openssl crl").stdout;
      assert.match(crl, new RegExp(`Serial Number: 0*${alice?.serial}`, "i"));
      assert.match(crl, /Key Compromise/);
      assert.ok(alice?.revokedAt);
    });

    it("list shows every entry (table and --json); check is clean", () => {
      const table = must(cli(["list", "--out", root], dir), "list").stdout;
      assert.match(table, /^LEAF\s+STATUS\s+SERIAL/m);
      assert.match(table, /client\/alice\s+revoked \(keyCompromise/);
      assert.match(table, /gateway\/gateway\s+superseded/);
      const json = JSON.parse(must(cli(["list", "--out", root, "--json"], dir), "list --json").stdout) as {
        adopted: boolean;
        entries: Entry[];
      };
      assert.equal(json.adopted, true);
      assert.deepEqual(json.entries, ledgerOf(root));
    });
  });

  describe("revocation during a CA rotation (renew --ca --keep-leaves)", () => {
    const dir = tempDir();
    const root = join(dir, "certs/mcp");
    before(() => {
      must(cli(["all", "--out", root, ...EC, "-q"], dir), "all");
      must(cli(["server", "web", "--out", root, ...EC, "-q"], dir), "server web");
      must(cli(["renew", "--ca", "--keep-leaves", "--out", root, ...EC, "-q"], dir), "renew --ca");
    });

    it("revokes a leaf the previous CA issued in that CA's own CRL; the ledger knows which CA it was", () => {
      const r = cli(["revoke", "web", "--out", root, "--reason", "keyCompromise"], dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const web = join(root, "servers", "web", "server.crt");
      const entry = ledgerOf(root).find((e) => e.name === "web");
      assert.equal(entry?.status, "revoked");
      assert.equal(entry?.issuer.spkiSha256, opensslSpki(join(root, "ca", "previous", "ca.crt")));
      const previous = join(root, "ca", "previous", "ca.crl");
      const verified = openssl(["crl", "-in", previous, "-noout", "-CAfile", join(root, "ca", "previous", "ca.crt")]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(openssl(["crl", "-in", previous, "-noout", "-text"]).stdout, new RegExp(entry!.serial, "i"));
      // Peers trust ca/bundle.crt (new + previous CA) and load ca/bundle.crl (both CAs' lists).
      const verify = (cert: string): Run =>
        openssl([
          "verify",
          "-crl_check_all",
          "-CRLfile",
          join(root, "ca", "bundle.crl"),
          "-CAfile",
          join(root, "ca", "bundle.crt"),
          cert,
        ]);
      assert.match(verify(web).stdout + verify(web).stderr, /certificate revoked/);
      const other = verify(join(root, "plugins", "example-plugin-a", "server.crt"));
      assert.equal(other.code, 0, other.stdout + other.stderr);
    });

    it("export haproxy enforces the CRL of both CAs (ca/bundle.crl)", () => {
      must(cli(["renew", "--out", root, "--force", "web"], dir), "renew web");
      const r = must(cli(["export", "haproxy", "--out", root, "--server", "web"], dir), "export haproxy");
      assert.match(r.stdout, /crl-file \S*ca\/bundle\.crl/);
    });
  });

  describe("adopting a tree the Makefile made (openssl commands of CONTEXTFORGE.md)", () => {
    const dir = tempDir();
    const root = join(dir, "certs/mcp");
    before(() => {
      // make certs-mcp-ca / certs-mcp-gateway / certs-mcp-plugin PLUGIN_NAME=weather
      const ca = join(root, "ca");
      mkdirSync(ca, { recursive: true });
      const run = (args: string[]): Run => must(openssl(args), `openssl ${args.slice(0, 2).join(" ")}`);
      run(["genrsa", "-out", join(ca, "ca.key"), "4096"]);
      run([
        "req",
        "-new",
        "-x509",
        "-key",
        join(ca, "ca.key"),
        "-out",
        join(ca, "ca.crt"),
        "-days",
        "825",
        "-subj",
        "/CN=ContextForge-CA/O=ContextForge/OU=Plugins",
      ]);
      const leaf = (sub: string, stem: string, subject: string, ext?: string): void => {
        const d = join(root, sub);
        mkdirSync(d, { recursive: true });
        run(["genrsa", "-out", join(d, `${stem}.key`), "4096"]);
        run(["req", "-new", "-key", join(d, `${stem}.key`), "-out", join(d, `${stem}.csr`), "-subj", subject]);
        opensslSignCsr(
          join(d, `${stem}.csr`),
          { cert: join(ca, "ca.crt"), key: join(ca, "ca.key") },
          join(d, `${stem}.crt`),
          { days: 825, digest: "-sha256", extfile: ext ? writeTemp(join(d, "ext.cnf"), ext) : undefined },
        );
        writeFileSync(join(d, "ca.crt"), readFileSync(join(ca, "ca.crt")));
      };
      leaf("gateway", "client", "/CN=mcp-gateway-client/O=MCPGateway/OU=Gateway");
      leaf(
        "plugins/weather",
        "server",
        "/CN=mcp-plugin-weather/O=MCPGateway/OU=Plugins",
        "subjectAltName=DNS:weather,DNS:mcp-plugin-weather,DNS:localhost\n",
      );
      plantSelfSigned(join(root, "plugins", "evil2"), "server", "/CN=mcp-gateway-client", "DNS:example-plugin-a");
    });

    it("check on the ledgerless tree: a note, not a failure for the ledger", () => {
      const r = cli(["check", "--out", root, "--json"], dir);
      const report = JSON.parse(r.stdout) as { warnings: string[]; certificates: Array<{ problems: string[] }> };
      assert.ok(
        report.warnings.some((w) => w.includes("not adopted yet")),
        report.warnings.join("\n"),
      );
      assert.ok(!report.certificates.some((c) => c.problems.some((p) => p.startsWith("foreign"))));
      assert.equal(existsSync(join(root, "ca", "ledger.json")), false, "check wrote a ledger");
    });

    it("before adoption, export refuses the planted self-signed cert and key, and exports the CA's", () => {
      const planted = cli(["export", "env", "--out", root, "--plugin", "evil2"], dir);
      assert.equal(planted.code, 1, planted.stdout + planted.stderr);
      assert.match(planted.stderr, /evil2\/server\.crt: not signed by this tree's CA; export refuses it/);
      assert.equal(planted.stdout, "", "something was exported");
      const weather = cli(["export", "env", "--out", root, "--plugin", "weather"], dir);
      assert.equal(weather.code, 0, weather.stderr);
      assert.match(weather.stdout, /plugins\/weather\/server\.crt/);
      assert.equal(existsSync(join(root, "ca", "ledger.json")), false, "export wrote a ledger");
    });

    it("adopt enters the two certs the CA signed, one line each, leaves the planted one out (exit 1)", () => {
      const r = cli(["adopt", "--out", root], dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^adopted gateway\/client\.crt: serial /m);
      assert.match(r.stdout, /^adopted plugins\/weather\/server\.crt: serial /m);
      assert.match(r.stdout, /^not adopted plugins\/evil2\/server\.crt: not signed by this tree's CA/m);
      const entries = ledgerOf(root);
      assert.deepEqual(entries.map((e) => `${e.role}/${e.name}/${e.source}`).sort(), [
        "gateway/gateway/adopted",
        "plugin/weather/adopted",
      ]);
      const weather = join(root, "plugins", "weather", "server.crt");
      assert.equal(entries.find((e) => e.name === "weather")?.spkiSha256, opensslSpki(weather));
      const check = cli(["check", "--out", root, "--json"], dir);
      const foreign = (
        JSON.parse(check.stdout) as { certificates: Array<{ name: string; problems: string[] }> }
      ).certificates
        .filter((c) => c.problems.some((p) => p.startsWith("foreign")))
        .map((c) => c.name);
      assert.deepEqual(foreign, ["evil2"]);
      const again = cli(["adopt", "--out", root], dir);
      assert.doesNotMatch(again.stdout, /^adopted/m, "adopted twice");
    });
  });
});

function writeTemp(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

describe("adoption takes no records from files a leaf's owner can write (a CA-signed cert in the wrong leaf)", () => {
  /** A tree with a ledger, bob as CN=admin@example.com, and a copy of it with the same CA. */
  function treeWithBob(): { dir: string; root: string } {
    const dir = tempDir("mtls-adopt-wrong-leaf-");
    const root = join(dir, "certs/mcp");
    must(cli(["all", ...EC, "-q"], dir), "all");
    must(cli(["client", "bob", "--cn", "admin@example.com", ...EC, "-q"], dir), "client bob");
    return { dir, root };
  }

  it("an old admin@example.com cert of this CA that the ledger never recorded, planted in clients/eve: not adopted, not renewed", async () => {
    const { dir, root } = treeWithBob();
    // The same CA signed it ten days ago, outside this tree's ledger (an older tree's copy, a backup).
    const elsewhere = join(tempDir("mtls-adopt-old-"), "mcp");
    cpSync(join(root, "ca"), join(elsewhere, "ca"), { recursive: true });
    // Without this tree's ledger: in it, bob holds admin@example.com and the name policy refuses a second holder.
    rmSync(join(elsewhere, "ca/ledger.json"));
    await issueClient("old", {
      out: elsewhere,
      keyType: "ecdsa-p256",
      cn: "admin@example.com",
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() + 5 * 86_400_000),
    });
    const eve = join(root, "clients", "eve");
    mkdirSync(eve, { recursive: true });
    cpSync(join(elsewhere, "clients/old/client.crt"), join(eve, "client.crt"));
    cpSync(join(elsewhere, "clients/old/client.key"), join(eve, "client.key"));
    const planted = read(join(eve, "client.crt"));
    assert.equal(
      openssl(["verify", "-CAfile", join(root, "ca/ca.crt"), join(eve, "client.crt")]).code,
      0,
      "the planted cert is this CA's",
    );
    const r = cli(["renew", "--json"], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /^adopted .*clients\/eve/m);
    assert.equal(read(join(eve, "client.crt")), planted, "a cert was issued into clients/eve");
    assert.equal(
      ledgerOf(root).some((e) => e.name === "eve"),
      false,
      "eve entered the ledger",
    );
    const check = cli(["check", "--json"], dir);
    assert.equal(check.code, 1);
    const entry = (
      JSON.parse(check.stdout) as { certificates: Array<{ name: string; status: string }> }
    ).certificates.find((c) => c.name === "eve");
    assert.equal(entry?.status, "foreign");
  });

  it("first adoption with bob's cert copied into clients/alice: neither is adopted, nothing written, exit 1", () => {
    const { dir, root } = treeWithBob();
    rmSync(join(root, "ca/ledger.json")); // a tree from before the ledger
    const alice = join(root, "clients", "alice");
    mkdirSync(alice, { recursive: true });
    cpSync(join(root, "clients/bob/client.crt"), join(alice, "client.crt"));
    must(
      openssl([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        join(alice, "client.key"),
      ]),
      "genpkey",
    );
    const r = cli(["adopt"], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr + r.stdout,
      /the same certificate \(serial [0-9A-F]+\) is in .*clients\/alice and .*clients\/bob|clients\/bob and .*clients\/alice/,
    );
    assert.equal(existsSync(join(root, "ca/ledger.json")), false, "a ledger was written");
    const renew = cli(["renew", "--force", "alice"], dir);
    assert.notEqual(renew.code, 0);
    assert.match(
      opensslField(join(alice, "client.crt"), "-serial"),
      new RegExp(opensslField(join(root, "clients/bob/client.crt"), "-serial")),
    );
    // Once the copy is gone, adoption goes through and bob is bob's.
    rmSync(alice, { recursive: true });
    const again = cli(["adopt"], dir);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.ok(ledgerOf(root).some((e) => e.name === "bob" && e.subject.includes("admin@example.com")));
  });

  it("a revoked cert is never adopted", () => {
    const { dir, root } = treeWithBob();
    must(cli(["revoke", "bob", "--reason", "keyCompromise"], dir), "revoke");
    rmSync(join(root, "ca/ledger.json"));
    const r = cli(["adopt"], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /clients\/bob.*revoked/);
    assert.equal(
      ledgerOf(root).some((e) => e.name === "bob"),
      false,
    );
  });
});

describe("hardening: keys stay where they belong, input cannot become config (issue 13 §3-§6)", () => {
  let base: string;
  before(() => {
    base = join(tempDir("mtls-hardening-base-"), "t");
    const made = cli(["all", ...EC, "--out", base, "-q"], tempDir());
    assert.equal(made.code, 0, made.stderr);
    const evil = cli(["plugin", "evil", ...EC, "--out", base, "-q"], tempDir());
    assert.equal(evil.code, 0, evil.stderr);
    const server = cli(["server", "gateway.local", ...EC, "--out", base, "-q"], tempDir());
    assert.equal(server.code, 0, server.stderr);
  });
  /** A private copy of the shared tree: cwd and tree for one attack. */
  const fresh = (): { cwd: string; tree: string } => {
    const cwd = tempDir("mtls-hardening-");
    const tree = join(cwd, "t");
    cpSync(base, tree, { recursive: true });
    return { cwd, tree };
  };
  const spki = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "der" }).toString("base64");

  it("renew --force --reuse-key through a server.key symlinked to ca.key: refused, the CA key is not copied", () => {
    const { cwd, tree } = fresh();
    const key = join(tree, "plugins/evil/server.key");
    rmSync(key);
    symlinkSync("../../ca/ca.key", key);
    const r = cli(["renew", "--force", "--reuse-key", "evil", "--out", tree], cwd);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /server\.key: is a symbolic link/);
    assert.ok(lstatSync(key).isSymbolicLink(), "the link is left as it was, not replaced by a copy of the CA key");
    const cert = new X509Certificate(read(join(tree, "plugins/evil/server.crt")));
    assert.notEqual(
      cert.publicKey.export({ type: "spki", format: "der" }).toString("base64"),
      spki(read(join(tree, "ca/ca.key"))),
    );
    assert.doesNotMatch(r.stdout, /all fine/, "a summary with a failure says all fine");
    // check reports the whole tree, and exits 2 as the commands that would read through the link do.
    const check = cli(["check", "--out", tree], cwd);
    assert.equal(check.code, 2, check.stdout);
    assert.match(check.stdout, /server\.key: is a symbolic link/);
    assert.match(check.stdout, /gateway +gateway .* ok$/m, "the other leaves are still reported");
  });

  it("a nightly renew with one plugin's key symlinked to ca.key: the others are renewed, that leaf is refused, exit 2", () => {
    const { cwd, tree } = fresh();
    const key = join(tree, "plugins/evil/server.key");
    rmSync(key);
    symlinkSync("../../ca/ca.key", key);
    const gatewayBefore = new X509Certificate(read(join(tree, "gateway/client.crt"))).serialNumber;
    const r = cli(["renew", "--force", "--out", tree, "--json"], cwd);
    assert.equal(r.code, 2, r.stderr);
    const report = JSON.parse(r.stdout) as {
      renewed: Array<{ name: string }>;
      failed: Array<{ name: string; error: { code: string } }>;
    };
    assert.deepEqual(
      report.failed.map((f) => [f.name, f.error.code]),
      [["evil", "E_SYMLINK"]],
    );
    assert.ok(
      report.renewed.some((l) => l.name === "gateway"),
      "the gateway was renewed despite the planted link",
    );
    assert.notEqual(new X509Certificate(read(join(tree, "gateway/client.crt"))).serialNumber, gatewayBefore);
    assert.ok(lstatSync(key).isSymbolicLink());
  });

  it("renew --reuse-key with a copy of the CA key planted as server.key: refused (exit 2, named), no CA-keyed leaf", () => {
    const { cwd, tree } = fresh();
    cpSync(join(tree, "ca/ca.key"), join(tree, "plugins/evil/server.key"));
    const r = cli(["renew", "--force", "--reuse-key", "evil", "--out", tree, "--json"], cwd);
    assert.equal(r.code, 2, r.stderr);
    const report = JSON.parse(r.stdout) as { failed: Array<{ error: { code: string; message: string } }> };
    assert.equal(report.failed[0]?.error.code, "E_KEY_MISMATCH");
    assert.match(report.failed[0]!.error.message, /server\.key: is the private key of .*ca\.crt/);
    const cert = new X509Certificate(read(join(tree, "plugins/evil/server.crt")));
    assert.notEqual(
      cert.publicKey.export({ type: "spki", format: "der" }).toString("base64"),
      spki(read(join(tree, "ca/ca.key"))),
    );
  });

  it("check names a leaf cert that carries the CA's public key (what the old renew made): exit 1", () => {
    const { cwd, tree } = fresh();
    // The state the attack left on old versions: the CA key as the leaf's key, a cert for it.
    const dir = join(tree, "plugins/evil");
    cpSync(join(tree, "ca/ca.key"), join(dir, "server.key"));
    const csr = spawnSync("openssl", [
      "req",
      "-new",
      "-key",
      join(dir, "server.key"),
      "-subj",
      "/CN=mcp-plugin-evil",
      "-out",
      join(dir, "r.csr"),
    ]);
    assert.equal(csr.status, 0, String(csr.stderr));
    opensslSignCsr(
      join(dir, "r.csr"),
      { cert: join(tree, "ca/ca.crt"), key: join(tree, "ca/ca.key") },
      join(dir, "server.crt"),
      { days: 30, createSerial: false },
    );
    rmSync(join(dir, "r.csr"));
    const check = cli(["check", "--out", tree], cwd);
    assert.equal(check.code, 1, check.stdout);
    const json = JSON.parse(cli(["check", "--out", tree, "--json"], cwd).stdout) as {
      certificates: Array<{ name: string; problems: string[] }>;
    };
    const evil = json.certificates.find((c) => c.name === "evil")!;
    assert.ok(
      evil.problems.some((p) => /public key of the tree's CA/.test(p)),
      evil.problems.join("; "),
    );
  });

  it("export k8s with a plugin key symlinked to ca.key: exit 2 naming the link, nothing written", () => {
    const { cwd, tree } = fresh();
    const key = join(tree, "plugins/evil/server.key");
    rmSync(key);
    symlinkSync("../../ca/ca.key", key);
    const out = join(cwd, "k8s.yaml");
    const r = cli(["export", "k8s", "--out", tree, "-o", out], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /plugins\/evil\/server\.key: is a symbolic link/);
    assert.ok(!existsSync(out));
  });

  it("export haproxy with the server key symlinked to a secret file: exit 2, the secret is not copied", () => {
    const { cwd, tree } = fresh();
    const secret = join(cwd, "shadow");
    writeFileSync(secret, "root:TOP-SECRET-HASH:19000:0:99999:7:::\n", { mode: 0o600 });
    const key = join(tree, "servers/gateway.local/server.key");
    rmSync(key);
    symlinkSync(secret, key);
    const r = cli(["export", "haproxy", "--out", tree, "--server", "gateway.local", "-o", join(cwd, "h.cfg")], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /server\.key: is a symbolic link/);
    for (const f of spawnSync("grep", ["-rl", "TOP-SECRET", cwd]).stdout.toString().split("\n").filter(Boolean))
      assert.equal(f, secret, `the secret leaked into ${f}`);
  });

  it("a plugin directory replaced by a symlink: check and plugin exit 2 naming it", () => {
    const { cwd, tree } = fresh();
    const elsewhere = join(cwd, "elsewhere");
    renameSync(join(tree, "plugins/evil"), elsewhere);
    symlinkSync(elsewhere, join(tree, "plugins/evil"));
    const check = cli(["check", "--out", tree], cwd);
    assert.equal(check.code, 2, check.stdout + check.stderr);
    assert.match(check.stderr, /plugins\/evil: is a symbolic link/);
    const plugin = cli(["plugin", "evil", ...EC, "--out", tree], cwd);
    assert.equal(plugin.code, 2, plugin.stderr);
    assert.match(plugin.stderr, /plugins\/evil: is a symbolic link/);
  });

  it("a symlinked tree root given with --out stays allowed", () => {
    const { cwd, tree } = fresh();
    symlinkSync(tree, join(cwd, "link"));
    const r = cli(["check", "--out", join(cwd, "link")], cwd);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("a FIFO as --config or as a key is refused (exit 2 / named), nothing hangs", () => {
    const { cwd, tree } = fresh();
    assert.equal(spawnSync("mkfifo", [join(cwd, "cfg.yaml")]).status, 0);
    const started = Date.now();
    const r = spawnSync(process.execPath, [BIN, "check", "--out", tree, "--config", "cfg.yaml"], {
      cwd,
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(r.signal, null, "killed by the timeout: it hung on the FIFO");
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cfg\.yaml: cannot read: not a regular file \(a FIFO\)/);
    const key = join(tree, "plugins/evil/server.key");
    rmSync(key);
    assert.equal(spawnSync("mkfifo", [key]).status, 0);
    const check = spawnSync(process.execPath, [BIN, "check", "--out", tree, "--json"], {
      cwd,
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
    });
    assert.equal(check.signal, null, "killed by the timeout: it hung on the FIFO key");
    assert.equal(check.status, 2, check.stderr);
    assert.match(check.stdout, /server\.key: cannot read: not a regular file \(a FIFO\)/);
    assert.ok(Date.now() - started < 20_000);
  });

  it("a FIFO planted as a leaf's ca.crt copy: check and the nightly renew (which holds the lock) name it, nothing hangs", () => {
    const { cwd, tree } = fresh();
    const copy = join(tree, "plugins/evil/ca.crt");
    rmSync(copy);
    assert.equal(spawnSync("mkfifo", [copy]).status, 0);
    const run = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args, "--out", tree], {
        cwd,
        encoding: "utf8",
        timeout: 20_000,
        killSignal: "SIGKILL",
        env: { ...process.env, NO_COLOR: "1" },
      });
    const check = run(["check"]);
    assert.equal(check.signal, null, "killed by the timeout: check hung on the FIFO");
    assert.equal(check.status, 1, check.stderr);
    assert.match(check.stdout, /evil\/ca\.crt: cannot read: not a regular file \(a FIFO\)/);
    const renew = run(["renew"]);
    assert.equal(renew.signal, null, "killed by the timeout: renew hung on the FIFO with the tree locked");
    assert.notEqual(renew.status, 0, renew.stdout);
    assert.equal(existsSync(join(tree, ".mtls-certs.lock")), false, "the lock was left behind");
  });

  it("the tree lock holds against a run in another PID namespace on this host (unshare -p -f --mount-proc)", async (t) => {
    if (spawnSync("unshare", ["-p", "-f", "--mount-proc", "true"]).status !== 0)
      return t.skip("unshare -p needs root (CAP_SYS_ADMIN)");
    const { cwd, tree } = fresh();
    // The compiled module (dist/ is a bundle): the same code the CLI runs.
    const lockModule = join(ROOT, "build/src/store/lock.js");
    // The holder: this host's PID namespace, holding the lock for 20 s.
    const holder = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { withLock } = await import(${JSON.stringify(lockModule)});
         await withLock(${JSON.stringify(join(tree, ".mtls-certs.lock"))}, async () => {
           process.stdout.write("held\\n");
           await new Promise((r) => setTimeout(r, 20000));
         });`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((res) => holder.stdout!.once("data", () => res()));
      // Its pid does not exist in a fresh PID namespace: a run there must not take the lock as stale.
      const r = spawnSync(
        "unshare",
        ["-p", "-f", "--mount-proc", process.execPath, BIN, "plugin", "late", ...EC, "--out", tree, "--lock-wait", "0"],
        { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
      );
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /another mtls-certs \(pid \d+ in PID namespace pid:\[\d+\]\) is writing this tree/);
      assert.ok(!existsSync(join(tree, "plugins/late")));
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("encrypted keys: PBKDF2-HMAC-SHA256 with 100,000 iterations; OpenSSL and Python's load_cert_chain open them", () => {
    const cwd = tempDir("mtls-hardening-");
    const tree = join(cwd, "t");
    const env = { LEAF_PW: "leaf passphrase", CA_PW: "ca passphrase" };
    const r = cli(
      ["all", ...EC, "--out", tree, "--key-passphrase-env", "LEAF_PW", "--ca-passphrase-env", "CA_PW", "-q"],
      cwd,
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const key = join(tree, "gateway/client.key");
    const asn1 = spawnSync("openssl", ["asn1parse", "-in", key], { encoding: "utf8" }).stdout;
    assert.match(asn1, /:PBKDF2\n/);
    assert.match(asn1, /:hmacWithSHA256\n/);
    assert.match(asn1, /INTEGER\s+:0186A0\n/, `100000 iterations:\n${asn1}`);
    const py = spawnSync(
      PYTHON,
      [
        "-c",
        "import ssl,sys; c=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); c.load_cert_chain(sys.argv[1], sys.argv[2], password=sys.argv[3]); print('ok')",
        join(tree, "gateway/client.crt"),
        key,
        env.LEAF_PW,
      ],
      { encoding: "utf8" },
    );
    assert.equal(py.stdout.trim(), "ok", py.stderr);
    // The CA's passphrase is its own: the leaves' does not open the CA key, and a plugin needs only its own.
    assert.notEqual(
      spawnSync("openssl", ["pkey", "-in", join(tree, "ca/ca.key"), "-noout", "-passin", "env:LEAF_PW"], {
        env: { ...process.env, ...env },
      }).status,
      0,
    );
    assert.equal(
      spawnSync("openssl", ["pkey", "-in", join(tree, "ca/ca.key"), "-noout", "-passin", "env:CA_PW"], {
        env: { ...process.env, ...env },
      }).status,
      0,
    );
    const leafOnly = cli(["plugin", "p2", ...EC, "--out", tree, "--key-passphrase-env", "LEAF_PW"], cwd, env);
    assert.equal(leafOnly.code, 2, leafOnly.stderr);
    assert.match(leafOnly.stderr, /ca\.key: the key is encrypted[\s\S]*--ca-passphrase-env/);
  });

  it("a truncated or fake ENCRYPTED key is invalid for check (exit 1) and all (exit 2), not skipped", () => {
    const { cwd, tree } = fresh();
    const key = join(tree, "plugins/evil/server.key");
    writeFileSync(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", {
      mode: 0o600,
    });
    const check = cli(["check", "--out", tree, "--json"], cwd);
    assert.equal(check.code, 1, check.stderr);
    const evil = (
      JSON.parse(check.stdout) as { certificates: Array<{ name: string; problems: string[] }> }
    ).certificates.find((c) => c.name === "evil")!;
    assert.ok(
      evil.problems.some((p) => /an encrypted key that no passphrase opens/.test(p)),
      evil.problems.join("; "),
    );
    const all = cli(["plugin", "evil", ...EC, "--out", tree], cwd);
    assert.equal(all.code, 2, all.stderr);
    assert.match(all.stderr, /evil\/server\.key: an encrypted key that no passphrase opens/);
    // A real encrypted key cut short is caught the same way.
    const enc = join(tree, "gateway/client.key");
    const made = spawnSync("openssl", ["pkcs8", "-topk8", "-in", enc, "-passout", "pass:x", "-v2", "aes-256-cbc"], {
      encoding: "utf8",
    });
    const lines = made.stdout.trim().split("\n");
    writeFileSync(enc, [...lines.slice(0, -3), lines.at(-1)].join("\n") + "\n");
    const again = JSON.parse(cli(["check", "--out", tree, "--json"], cwd).stdout) as {
      certificates: Array<{ name: string; problems: string[] }>;
    };
    const gateway = again.certificates.find((c) => c.name === "gateway")!;
    assert.ok(
      gateway.problems.some((p) => /an encrypted key that no passphrase opens/.test(p)),
      gateway.problems.join("; "),
    );
  });

  it("export k8s leaves the CA key out unless --include-ca-key", () => {
    const { cwd, tree } = fresh();
    const caKey = Buffer.from(read(join(tree, "ca/ca.key"))).toString("base64");
    const without = cli(["export", "k8s", "--out", tree, "-o", join(cwd, "a.yaml")], cwd);
    assert.equal(without.code, 0, without.stderr);
    const text = read(join(cwd, "a.yaml"));
    assert.ok(!text.includes(caKey), "the CA key is in the output");
    assert.doesNotMatch(text, /mcp-ca-key-pair/);
    assert.match(without.stderr, /--include-ca-key/);
    const withKey = cli(["export", "k8s", "--out", tree, "--include-ca-key", "-o", join(cwd, "b.yaml")], cwd);
    assert.equal(withKey.code, 0, withKey.stderr);
    assert.ok(read(join(cwd, "b.yaml")).includes(caKey));
  });

  it("--upstream with config syntax (; braces $ quotes, percent-encoded too) is exit 2, no config written", () => {
    const { cwd, tree } = fresh();
    for (const upstream of [
      "http://a;b/",
      "http://gw:4444;include /etc/shadow",
      "http://a%3Bb/",
      "http://a$x{y}/",
      "http://x'y/",
    ]) {
      for (const kind of ["nginx", "haproxy", "caddy"]) {
        const out = join(cwd, `${kind}.conf`);
        const r = cli(
          ["export", kind, "--out", tree, "--server", "gateway.local", "--upstream", upstream, "-o", out],
          cwd,
        );
        assert.equal(r.code, 2, `${kind} ${upstream}: ${r.stderr}`);
        assert.ok(!existsSync(out), `${kind} ${upstream}: a config was written`);
      }
    }
  });

  it("CA subject flags get the checks names get: control characters or over 64 characters are exit 2", () => {
    const cwd = tempDir("mtls-hardening-");
    for (const [flag, value] of [
      ["--ca-cn", "Evil\u001b[2JCA"],
      ["--ca-org", "x".repeat(65)],
      ["--ca-ou", "a\nb"],
      ["--ca-cn", ""],
    ]) {
      const r = cli(["ca", ...EC, "--out", join(cwd, "t"), flag!, value!], cwd);
      assert.equal(r.code, 2, `${flag} ${JSON.stringify(value)}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${flag}: .* is not a usable subject value`));
      assert.ok(!existsSync(join(cwd, "t/ca")));
    }
  });

  it("a plugin directory named with ESC is printed escaped in the check table", () => {
    const { cwd, tree } = fresh();
    cpSync(join(tree, "plugins/evil"), join(tree, "plugins/x\u001b[2Jy"), { recursive: true });
    const r = cli(["check", "--out", tree], cwd);
    assert.ok(!r.stdout.includes("\u001b"), "a raw ESC reached the terminal");
    assert.match(r.stdout, /x\\x1b\[2Jy/);
  });

  it("... and by renew, and in an error message (adopt names both copies of a cert)", () => {
    const { cwd, tree } = fresh();
    cpSync(join(tree, "plugins/evil"), join(tree, "plugins/x\u001b]0;pwned\u0007y"), { recursive: true });
    const renew = cli(["renew", "--out", tree], cwd, { NO_COLOR: "1" });
    assert.equal(renew.code, 1, renew.stdout + renew.stderr);
    assert.match(renew.stdout, /x\\x1b\]0;pwned\\x07y/);
    assert.ok(!(renew.stdout + renew.stderr).includes("\u001b"), "a raw ESC reached the terminal from renew");
    rmSync(join(tree, "ca/ledger.json"));
    const adopt = cli(["adopt", "--out", tree], cwd, { NO_COLOR: "1" });
    assert.notEqual(adopt.code, 0);
    assert.match(adopt.stderr, /the same certificate .*x\\x1b\]0;pwned\\x07y/);
    assert.ok(!(adopt.stdout + adopt.stderr).includes("\u001b"), "a raw ESC reached the terminal from adopt");
  });

  it("ca with ca.key present but ca.crt missing: exit 2 with both ways out, the key is kept", () => {
    const cwd = tempDir("mtls-hardening-");
    const tree = join(cwd, "t");
    assert.equal(cli(["ca", ...EC, "--out", tree, "-q"], cwd).code, 0);
    const keyBefore = readFileSync(join(tree, "ca/ca.key"));
    rmSync(join(tree, "ca/ca.crt"));
    const r = cli(["ca", ...EC, "--out", tree], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /ca\.key: present, but .*ca\.crt is missing/);
    assert.match(r.stderr, /restore .*ca\.crt.*or move .*ca\.key/);
    assert.deepEqual(readFileSync(join(tree, "ca/ca.key")), keyBefore);
    assert.ok(!existsSync(join(tree, "ca/ca.crt")));
  });
});

describe("render: nothing from a path, a name or a config file becomes config syntax (issue 13 §5)", () => {
  /** mcp-stack.yaml with these certificates paths and one plugin. */
  const stack = (paths: Record<string, string>): string =>
    "plugins:\n  - name: DenyListPlugin\n    mtls_enabled: true\ncertificates:\n  validity_days: 30\n" +
    Object.entries(paths)
      .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}\n`)
      .join("");

  it("mcp-stack.yaml certificates.*_path outside the project, through a symlink or with a newline: exit 2 naming the field, nothing written", () => {
    const outside = tempDir("mtls-render-outside-");
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ca_path: "../outside/ca" }, /certificates\.ca_path "\.\.\/outside\/ca" leaves the project folder/],
      [
        { ca_path: "./certs/mcp/ca", gateway_path: `${outside}/certs/mcp/gateway` },
        /certificates\.gateway_path ".*" leaves the project folder/,
      ],
      [
        { plugins_path: "./certs/m\ncp/plugins" },
        /certificates\.plugins_path "\.\/certs\/m\\ncp\/plugins" has a control character/,
      ],
      [
        { ca_path: "./linked/mcp/ca" },
        /certificates\.\*_path: the tree .*linked\/mcp" leads through a symbolic link to .*outside the project folder/,
      ],
    ];
    for (const [paths, message] of cases) {
      const cwd = tempDir("mtls-render-project-");
      symlinkSync(outside, join(cwd, "linked"));
      writeFileSync(join(cwd, "mcp-stack.yaml"), stack(paths));
      const r = cli(["all", ...EC, "--config", "mcp-stack.yaml", "-q"], cwd);
      assert.equal(r.code, 2, `${JSON.stringify(paths)}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /mcp-stack\.yaml/);
      assert.equal(
        spawnSync("find", [outside, "-type", "f"], { encoding: "utf8" }).stdout,
        "",
        "a file was written outside",
      );
      assert.ok(!existsSync(join(cwd, "certs")), "a tree was made");
    }
  });

  it("mcp-stack.yaml certificates.*_path inside the project, relative or absolute: the tree is made there", () => {
    const cwd = tempDir("mtls-render-project-");
    writeFileSync(
      join(cwd, "mcp-stack.yaml"),
      stack({ ca_path: `${cwd}/deploy/certs/ca`, gateway_path: "deploy/certs/gateway" }),
    );
    must(cli(["all", ...EC, "--config", "mcp-stack.yaml", "-q"], cwd), "all --config mcp-stack.yaml");
    must(
      openssl([
        "verify",
        "-x509_strict",
        "-CAfile",
        join(cwd, "deploy/certs/ca/ca.crt"),
        join(cwd, "deploy/certs/plugins/DenyListPlugin/server.crt"),
      ]),
      "openssl verify",
    );
  });
});

describe("render: -o FILE never puts a CA key where containers read, and a missing directory is said (issue 13 §3)", () => {
  const cwd = tempDir("mtls-render-output-");
  const tree = join(cwd, "t");
  const PW = { PW: "ca-secret-passphrase" };
  before(() => {
    must(cli(["ca", ...EC, "--out", tree, "--ca-passphrase-env", "PW", "-q"], cwd, PW), "ca");
    must(cli(["plugin", "p1", ...EC, "--out", tree, "--ca-passphrase-env", "PW", "-q"], cwd, PW), "plugin");
  });

  it("key decrypt of the CA key with -o anywhere inside the tree (a leaf directory, the root): exit 2 naming the CA, nothing written", () => {
    for (const out of [
      "t/plugins/p1/ca.key",
      "t/plugins/p1/server.key.new",
      "t/ca.key",
      join(tree, "plugins/stolen.key"),
    ]) {
      const r = cli(["key", "decrypt", "t/ca/ca.key", "--key-passphrase-env", "PW", "-o", out], cwd, PW);
      assert.equal(r.code, 2, `${out}: ${r.stderr}`);
      assert.match(r.stderr, /inside the tree .*, and the key is the private key of .*ca\/ca\.crt/);
      assert.ok(!existsSync(join(cwd, out.replace(`${cwd}/`, ""))), `${out} was written`);
    }
    // Outside the tree it works, and openssl says the plain key is the CA cert's.
    const free = join(cwd, "ca-plain.key");
    must(
      cli(["key", "decrypt", "t/ca/ca.key", "--key-passphrase-env", "PW", "-o", free], cwd, PW),
      "key decrypt -o outside",
    );
    assert.equal(
      openssl(["pkey", "-in", free, "-pubout"]).stdout,
      openssl(["x509", "-in", join(tree, "ca/ca.crt"), "-noout", "-pubkey"]).stdout,
    );
    // A leaf's key may still be decrypted into the tree (its own directory is where it belongs).
    must(
      cli(
        ["plugin", "p2", ...EC, "--out", tree, "--ca-passphrase-env", "PW", "--key-passphrase-env", "PW", "-q"],
        cwd,
        PW,
      ),
      "plugin p2 with an encrypted key",
    );
    must(
      cli(
        ["key", "decrypt", "t/plugins/p2/server.key", "--key-passphrase-env", "PW", "-o", "t/plugins/p2/plain.key"],
        cwd,
        PW,
      ),
      "key decrypt of a leaf key into its directory",
    );
  });

  it("-o into a directory that does not exist: exit 2 naming it (key decrypt, export p12), not an ENOENT exit 1", () => {
    const runs: Array<[string[], NodeJS.ProcessEnv]> = [
      [["key", "decrypt", "t/ca/ca.key", "--key-passphrase-env", "PW", "-o", "no/such/dir/ca.key"], PW],
      [["export", "p12", "p1", "--out", tree, "--p12-password-env", "PW", "-o", "no/such/dir/p1.p12"], PW],
    ];
    for (const [args, env] of runs) {
      const r = cli(args, cwd, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`the directory ${join(cwd, "no/such/dir")} does not exist`));
      assert.ok(!existsSync(join(cwd, "no")));
    }
  });
});

/** Issue 13 §3, OpenSSH's rule (owner: modes): no signing with a CA key others can read or replace. */
describe("the CA key's modes: issuing is refused like OpenSSH's UNPROTECTED PRIVATE KEY FILE (issue 13 §3)", () => {
  let base: string;
  let csr: string;
  before(() => {
    const dir = tempDir("mtls-modes-base-");
    base = join(dir, "t");
    must(cli(["all", ...EC, "--out", base, "-q"], dir), "all");
    must(cli(["server", "api", ...EC, "--out", base, "-q"], dir), "server api");
    csr = join(dir, "req.csr");
    must(
      openssl(
        ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
          "-keyout",
          join(dir, "req.key"),
          "-out",
          csr,
          "-subj",
          "/CN=signed",
        ]),
      ),
      "openssl req -new",
    );
  });
  const fresh = (): { cwd: string; tree: string } => {
    const cwd = tempDir("mtls-modes-");
    const tree = join(cwd, "t");
    cpSync(base, tree, { recursive: true });
    return { cwd, tree };
  };
  /** Every command that opens the CA key to sign, each with a name nothing else in the tree uses. */
  const signing = (tree: string): Array<{ args: string[]; wrote: string | undefined }> => [
    { args: ["plugin", "fresh-plugin", ...EC], wrote: join(tree, "plugins/fresh-plugin") },
    { args: ["server", "fresh-server", ...EC], wrote: join(tree, "servers/fresh-server") },
    { args: ["client", "fresh-client", ...EC], wrote: join(tree, "clients/fresh-client") },
    { args: ["gateway", ...EC], wrote: undefined },
    { args: ["all", ...EC], wrote: undefined },
    { args: ["https", "--ca", "--dir", join(tree, "https"), ...EC], wrote: join(tree, "https/cert.pem") },
    { args: ["sign", csr, "server", "signed"], wrote: join(tree, "servers/signed") },
    { args: ["renew", "--force", "api"], wrote: undefined },
    { args: ["renew", "--ca"], wrote: join(tree, "ca/previous") },
    { args: ["revoke", "api"], wrote: join(tree, "ca/ca.crl") },
    { args: ["crl"], wrote: join(tree, "ca/ca.crl") },
  ];

  it("a CA key readable by group or others (0640, 0644, 0604): every signing command is exit 2 with the chmod", () => {
    const { cwd, tree } = fresh();
    const caKey = join(tree, "ca/ca.key");
    const serverCert = readFileSync(join(tree, "servers/api/server.crt"), "utf8");
    for (const mode of [0o640, 0o644, 0o604]) {
      chmodSync(caKey, mode);
      const octal = mode.toString(8);
      // Every command at 0640 (PostgreSQL's mode, which a CA key never gets); the others with one.
      for (const { args, wrote } of mode === 0o640 ? signing(tree) : signing(tree).slice(0, 1)) {
        const r = cli([...args, "--out", tree], cwd);
        assert.equal(r.code, 2, `${args.join(" ")} with ca.key ${octal}: exit ${r.code}\n${r.stdout}${r.stderr}`);
        assert.ok(
          r.stderr.includes(`${caKey}: readable by group/others (mode ${octal}); run chmod 600 ${caKey}`),
          `${args.join(" ")}: ${r.stderr}`,
        );
        if (wrote) assert.ok(!existsSync(wrote), `${args.join(" ")} wrote ${wrote}`);
      }
    }
    assert.equal(readFileSync(join(tree, "servers/api/server.crt"), "utf8"), serverCert, "renew replaced nothing");
    // The chmod the message names is all it takes.
    chmodSync(caKey, 0o600);
    must(cli(["plugin", "fresh-plugin", ...EC, "--out", tree, "-q"], cwd), "plugin after chmod 600");
    const verified = openssl([
      "verify",
      "-x509_strict",
      "-CAfile",
      join(tree, "ca/ca.crt"),
      join(tree, "plugins/fresh-plugin/server.crt"),
    ]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });

  it("a tree or ca/ directory writable by others is exit 2 with chmod o-w; group-writable in a shared group with g-w", () => {
    const { cwd, tree } = fresh();
    const caDir = join(tree, "ca");
    for (const [dir, mode, fix] of [
      [tree, 0o777, `chmod o-w ${tree}`],
      [caDir, 0o757, `chmod o-w ${caDir}`],
      [caDir, 0o1777, `chmod o-w ${caDir}`],
      // Owned by root in group 0, the group the plugin images run with: no private group.
      [caDir, 0o775, `chmod g-w ${caDir}`],
    ] as const) {
      chmodSync(dir, mode);
      const r = cli(["plugin", "fresh-plugin", ...EC, "--out", tree], cwd);
      assert.equal(r.code, 2, `${dir} ${mode.toString(8)}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /writable by (others|group \d+) \(mode \d+\)/);
      assert.ok(r.stderr.includes(fix), r.stderr);
      assert.ok(!existsSync(join(tree, "plugins/fresh-plugin")), "nothing issued");
      chmodSync(dir, 0o755);
    }
    // A new CA is not made in a tree others can write either.
    const open = join(tempDir("mtls-modes-"), "open");
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const r = cli(["ca", ...EC, "--out", open], cwd);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.ok(r.stderr.includes(`chmod o-w ${open}`), r.stderr);
    assert.ok(!existsSync(join(open, "ca/ca.key")), "no CA key written into it");
  });

  it("the intermediate's key is held to the same rule", () => {
    const cwd = tempDir("mtls-modes-");
    const tree = join(cwd, "t");
    must(cli(["ca", "--intermediate", ...EC, "--out", tree, "-q"], cwd), "ca --intermediate");
    const key = join(tree, "ca/intermediate.key");
    chmodSync(key, 0o640);
    const r = cli(["plugin", "p", ...EC, "--out", tree], cwd);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.ok(r.stderr.includes(`${key}: readable by group/others (mode 640); run chmod 600 ${key}`), r.stderr);
    const check = cli(["check", "--out", tree], cwd);
    assert.equal(check.code, 1, check.stdout);
    assert.ok(check.stdout.includes(`${key}: readable by group/others (mode 640)`), check.stdout);
  });

  it("export k8s --include-ca-key and export istio do not hand an unprotected CA key to another signer", () => {
    const { cwd, tree } = fresh();
    chmodSync(join(tree, "ca/ca.key"), 0o644);
    const k8s = cli(["export", "k8s", "--include-ca-key", "--out", tree, "-o", join(cwd, "k8s.yaml")], cwd);
    assert.equal(k8s.code, 2, k8s.stdout + k8s.stderr);
    assert.match(k8s.stderr, /ca\.key: readable by group\/others \(mode 644\); run chmod 600/);
    assert.ok(!existsSync(join(cwd, "k8s.yaml")), "no Secret with the key written");
    // Without --include-ca-key the CA key is not read at all: nothing to refuse.
    must(cli(["export", "k8s", "--out", tree, "-o", join(cwd, "k8s.yaml")], cwd), "export k8s without the CA key");
    const inter = join(cwd, "i");
    must(cli(["ca", "--intermediate", ...EC, "--out", inter, "-q"], cwd), "ca --intermediate");
    chmodSync(join(inter, "ca/intermediate.key"), 0o640);
    const istio = cli(["export", "istio", "--out", inter], cwd);
    assert.equal(istio.code, 2, istio.stdout + istio.stderr);
    assert.match(istio.stderr, /intermediate\.key: readable by group\/others \(mode 640\); run chmod 600/);
    assert.doesNotMatch(istio.stdout, /PRIVATE KEY/);
  });

  it("check reports the same as a problem (exit 1) and refuses nothing, also for a root-owned 0640 CA key", () => {
    const { cwd, tree } = fresh();
    chmodSync(join(tree, "ca/ca.key"), 0o640);
    chmodSync(join(tree, "ca"), 0o777);
    const r = cli(["check", "--out", tree, "--json"], cwd);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as {
      certificates: Array<{ name: string; status: string; problems: string[] }>;
    };
    const ca = report.certificates.find((c) => c.name === "ca");
    assert.equal(ca?.status, "invalid");
    assert.ok(
      ca?.problems.includes(
        `${join(tree, "ca/ca.key")}: readable by group/others (mode 640); run chmod 600 ${join(tree, "ca/ca.key")}`,
      ),
      ca?.problems.join("\n"),
    );
    assert.ok(
      ca?.problems.includes(`${join(tree, "ca")}: writable by others (mode 777); run chmod o-w ${join(tree, "ca")}`),
      ca?.problems.join("\n"),
    );
    assert.ok(
      report.certificates.filter((c) => c.name !== "ca").every((c) => c.status === "ok"),
      "the leaves are fine",
    );
  });

  for (const umask of ["002", "022", "000"]) {
    it(`a fresh tree made under umask ${umask} passes its own rule: all, plugin and check succeed`, () => {
      const cwd = tempDir("mtls-modes-");
      // The project's certs/ made by the user under that umask; certs/mcp and below by mtls-certs.
      const run = (args: string[]) =>
        spawnSync("sh", ["-c", `umask ${umask} && exec "$0" "$@"`, process.execPath, BIN, ...args], {
          cwd,
          encoding: "utf8",
          env: { ...process.env, NO_COLOR: "1", CI: "1", MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "" },
        });
      spawnSync("sh", ["-c", `umask ${umask} && mkdir certs`], { cwd });
      for (const args of [["all", ...EC, "-q"], ["plugin", "later", ...EC, "-q"], ["check"]]) {
        const r = run(args);
        assert.equal(r.status, 0, `${args.join(" ")} under umask ${umask}: ${r.stdout}${r.stderr}`);
      }
      for (const dir of ["certs/mcp", "certs/mcp/ca"])
        assert.equal((statSync(join(cwd, dir)).mode & 0o777).toString(8), "755", dir);
      assert.equal((statSync(join(cwd, "certs/mcp/ca/ca.key")).mode & 0o777).toString(8), "600");
    });
  }
});

describe("render: a hostile tree path or --prefix becomes no config syntax (issue 13 §5)", () => {
  const cwd = tempDir("mtls-render-paths-");
  /** Where an attacker who names the directory would write a directive, an object or a variable. */
  const HOSTILE = {
    quotable: join(cwd, "x;include /etc/passwd;#a b"),
    newline: join(cwd, "nl\nssl_verify_client off;\ninclude /etc/passwd;\n#"),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal ${HOME} a .env reader would expand
    dollar: join(cwd, "d${HOME}e"),
    quote: join(cwd, `q"u'o`),
    braces: join(cwd, "c{env.HOME}d"),
  };
  const SERVER = "gw.local";
  const installed = (bin: string) => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
  const haproxyPem = (tree: string) => join(tree, "servers", SERVER, "haproxy.pem");
  const fullchain = (tree: string) => join(tree, "servers", SERVER, "fullchain.crt");
  before(() => {
    for (const tree of Object.values(HOSTILE)) {
      must(cli(["all", ...EC, "--out", tree, "-q"], cwd), `all --out ${JSON.stringify(tree)}`);
      must(cli(["plugin", "p1", ...EC, "--out", tree, "-q"], cwd), "plugin p1");
      must(cli(["server", SERVER, ...EC, "--out", tree, "-q"], cwd), "server");
    }
  });

  /** `export KIND` of `tree` to a file, for the real server to read. */
  const exported = (kind: string, tree: string): string => {
    const file = join(cwd, `${kind}-${Object.entries(HOSTILE).find(([, v]) => v === tree)?.[0]}.conf`);
    const args = ["export", kind, "--out", tree, "--server", SERVER, "--listen", "127.0.0.1:18443", "-o", file];
    must(cli([...args, "--force"], cwd), `export ${kind} --out ${JSON.stringify(tree)}`);
    return file;
  };
  /** nginx -t with the snippet in http {}: it opens the cert and key, so it fails on a path it misreads. */
  const nginxAccepts = (snippet: string): void => {
    const prefix = tempDir("mtls-render-nginx-");
    mkdirSync(join(prefix, "logs"));
    writeFileSync(
      join(prefix, "nginx.conf"),
      `pid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\nevents {}\nhttp {\n  include ${snippet};\n}\n`,
    );
    const r = spawnSync("nginx", ["-t", "-p", prefix, "-c", join(prefix, "nginx.conf")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  };
  /** haproxy -c: it loads the crt bundle and the CA file. */
  const haproxyAccepts = (cfg: string): void => {
    const r = spawnSync("haproxy", ["-c", "-f", cfg], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  };

  it("a tree path with ; # and spaces is quoted: nginx -t, haproxy -c and caddy adapt load the very files", (t) => {
    const tree = HOSTILE.quotable;
    if (installed("nginx")) {
      // /etc/passwd is no nginx syntax: an include that escaped its quotes would fail nginx -t.
      nginxAccepts(exported("nginx", tree));
      assert.match(
        read(exported("nginx", tree)),
        /ssl_certificate ".*x;include \/etc\/passwd;#a b\/servers\/gw\.local\/server\.crt";/,
      );
    } else t.diagnostic("nginx not installed");
    if (installed("haproxy")) haproxyAccepts(exported("haproxy", tree));
    else t.diagnostic("haproxy not installed");
    if (installed("caddy")) {
      const home = tempDir("mtls-render-caddy-");
      const r = spawnSync("caddy", ["adapt", "--config", exported("caddy", tree), "--adapter", "caddyfile"], {
        encoding: "utf8",
        env: { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
      });
      assert.equal(r.status, 0, r.stderr);
      const json = JSON.stringify(JSON.parse(r.stdout));
      assert.ok(
        json.includes(JSON.stringify(join(tree, "servers", SERVER, "server.crt"))),
        "caddy reads another cert path",
      );
      assert.ok(
        json.includes(JSON.stringify(join(tree, "servers", SERVER, "server.key"))),
        "caddy reads another key path",
      );
    } else t.diagnostic("caddy not installed");
  });

  it("a tree path or --prefix with a newline: every export refuses it (exit 2 naming the flag), nothing written", () => {
    const exports: string[][] = [
      ["nginx", "--server", SERVER],
      ["haproxy", "--server", SERVER],
      ["caddy", "--server", SERVER],
      ["env", "--gateway", "--plugin", "p1"],
      ["env", "--gateway", "--format", "shell"],
      ["env", "--gateway", "--format", "compose"],
      ["env", "--gateway", "--format", "json"],
      ["plugin-tls", "--plugin", "p1"],
      ["k8s"],
      ["gateway-api", "--server", SERVER],
    ];
    for (const [tree, prefix, flag] of [
      [HOSTILE.newline, undefined, "--out"],
      // With --prefix the paths are the container's, but the tree's path is still in the comment header.
      [HOSTILE.newline, "/app/certs", "--out"],
      [HOSTILE.quotable, "/app/x\ninclude /etc/passwd;", "--prefix"],
    ] as const) {
      for (const file of [haproxyPem(tree), fullchain(tree)]) rmSync(file, { force: true });
      // export k8s and gateway-api take no --prefix.
      for (const [kind, ...args] of exports.filter(([kind]) => !prefix || !["k8s", "gateway-api"].includes(kind!))) {
        const out = join(cwd, `refused-${kind}`);
        const r = cli(
          ["export", kind!, "--out", tree, ...(prefix ? ["--prefix", prefix] : []), ...args, "-o", out],
          cwd,
        );
        assert.equal(r.code, 2, `${kind} ${args.join(" ")} ${flag}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`${flag}: ".*\\\\n.*" has a control character or newline`));
        assert.ok(!existsSync(out), `${kind}: ${out} was written`);
      }
      assert.ok(!existsSync(haproxyPem(tree)), "haproxy.pem was written");
      assert.ok(!existsSync(fullchain(tree)));
    }
  });

  it("$ quotes and braces: each proxy format refuses what its quotes cannot hold, before writing haproxy.pem; nginx -t and haproxy -c take braces", () => {
    const cases: Array<[string, string, RegExp]> = [
      [HOSTILE.dollar, "nginx", /--out: ".*" holds \$, which nginx reads as syntax even inside quotes/],
      [HOSTILE.dollar, "haproxy", /--out: ".*" holds \$, which HAProxy/],
      [HOSTILE.dollar, "caddy", /--out: ".*" holds \$ \{ \}, which Caddy/],
      [HOSTILE.quote, "nginx", /--out: ".*" holds " ', which nginx/],
      [HOSTILE.quote, "haproxy", /--out: ".*" holds " ', which HAProxy/],
      [HOSTILE.braces, "caddy", /--out: ".*" holds \{ \}, which Caddy/],
    ];
    for (const [tree, kind, message] of cases) {
      const out = join(cwd, `refused-${kind}.conf`);
      const r = cli(["export", kind, "--out", tree, "--server", SERVER, "-o", out], cwd);
      assert.equal(r.code, 2, `${kind} ${tree}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(out));
      assert.ok(!existsSync(haproxyPem(tree)), `${kind}: haproxy.pem was written before the refusal`);
    }
    // Braces are literal inside nginx's and HAProxy's quotes: those two take the path, and read it right.
    const nginx = exported("nginx", HOSTILE.braces);
    const haproxy = exported("haproxy", HOSTILE.braces);
    if (installed("nginx")) nginxAccepts(nginx);
    if (installed("haproxy")) haproxyAccepts(haproxy);
  });

  it("dotenv never holds ${ (exit 2 naming the variable); bash and python-dotenv read a quoted path exactly", () => {
    const r = cli(["export", "env", "--out", HOSTILE.dollar, "--gateway"], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /PLUGINS_CLIENT_MTLS_CERTFILE: ".*d\$\{HOME\}e.*" holds \$/);
    assert.equal(r.stdout, "");
    const compose = cli(["export", "env", "--out", HOSTILE.dollar, "--gateway", "--format", "compose"], cwd);
    assert.equal(compose.code, 2, compose.stderr);
    assert.match(compose.stderr, /holds \$, which docker compose expands/);
    // sh and JSON have no interpolation inside their quoting: the path goes through as it is.
    const shell = cli(["export", "env", "--out", HOSTILE.dollar, "--gateway", "--format", "shell"], cwd);
    assert.equal(shell.code, 0, shell.stderr);
    const sourced = spawnSync(
      "sh",
      [
        "-c",
        '. "$1"; printf %s "$PLUGINS_CLIENT_MTLS_CERTFILE"',
        "sh",
        writeTemp(join(cwd, "dollar.sh"), shell.stdout),
      ],
      {
        encoding: "utf8",
      },
    );
    assert.equal(sourced.stdout, join(HOSTILE.dollar, "gateway/client.crt"));

    // ; # and spaces: single-quoted, as bash (set -a; .) and python-dotenv read them.
    const dotenv = cli(["export", "env", "--out", HOSTILE.quotable, "--gateway", "-o", join(cwd, "q.env")], cwd);
    assert.equal(dotenv.code, 0, dotenv.stderr);
    const expected = join(HOSTILE.quotable, "gateway/client.key");
    const bash = spawnSync(
      "bash",
      ["-c", 'set -a; . "$1"; printf %s "$PLUGINS_CLIENT_MTLS_KEYFILE"', "bash", join(cwd, "q.env")],
      {
        encoding: "utf8",
        env: { PATH: process.env.PATH },
      },
    );
    assert.equal(bash.stdout, expected, bash.stderr);
    // Debian's python3-dotenv (.ci/run installs it) is for /usr/bin/python3; a pyenv python3 may have its own.
    const withDotenv = ["python3", "/usr/bin/python3", PYTHON].find(
      (py) => spawnSync(py, ["-c", "import dotenv"], { encoding: "utf8" }).status === 0,
    );
    assert.ok(withDotenv, "python-dotenv is not installed (.ci/run installs Debian's python3-dotenv)");
    const py = spawnSync(
      withDotenv,
      ["-c", "import sys, json, dotenv; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))", join(cwd, "q.env")],
      { encoding: "utf8" },
    );
    assert.equal(py.status, 0, py.stderr);
    assert.equal((JSON.parse(py.stdout) as Record<string, string>).PLUGINS_CLIENT_MTLS_KEYFILE, expected);
    // ' and " inside a .env value: refused for ', which no single-quoted value can hold.
    const quoted = cli(["export", "env", "--out", HOSTILE.quote, "--gateway"], cwd);
    assert.equal(quoted.code, 2, quoted.stderr);
    assert.match(quoted.stderr, /PLUGINS_CLIENT_MTLS_CERTFILE: .* holds '/);
  });

  it("export gateway-api's hint quotes a wildcard --hostname for the shell: run by sh, it issues exactly that SAN", () => {
    const project = tempDir("mtls-render-hint-");
    const tree = join(project, "t");
    must(cli(["server", "web.example.com", ...EC, "--out", tree, "--san", "*.example.com", "-q"], project), "server");
    // A file the unquoted glob would match: sh would pass `x.other.com` instead of `*.other.com`.
    writeFileSync(join(project, "x.other.com"), "");
    const r = cli(
      ["export", "gateway-api", "--out", tree, "--server", "web.example.com", "--hostname", "*.other.com"],
      project,
    );
    assert.equal(r.code, 2, r.stderr);
    const command = /`(mtls-certs server [^`]*)`/.exec(r.stderr)?.[1];
    assert.ok(command, r.stderr);
    rmSync(join(tree, "servers/web.example.com"), { recursive: true });
    const run = spawnSync("sh", ["-c", command.replace(/^mtls-certs/, `"${process.execPath}" "${BIN}"`)], {
      cwd: project,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      opensslField(join(tree, "servers/web.example.com/server.crt"), "-ext", "subjectAltName"),
      /DNS:\*\.other\.com/,
    );
  });
});
