/**
 * Issue 23 §5 and §7, run as an attacker who can write one leaf directory: adoption takes a cert
 * only when it is that leaf's (profile, key, not a CA's own cert); `check` and `verify` judge
 * extensions as OpenSSL and Go read them; a revoked cert put back is never taken as the leaf's.
 * Each of these passed before the fix (adopted, "ok", kept, exported).
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cli, openssl, read, tempDir, verifyStrict, writeFile, type Run, opensslSignCsr } from "./helpers.js";
import * as x509 from "../src/pki/x509.js";
import { createPrivateKey, webcrypto } from "node:crypto";

const EC = ["--key-type", "ecdsa-p256", "-q"];

function must(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  return r;
}

function newKey(path: string): void {
  must(openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]), "genpkey");
}

interface Ledger {
  entries: Array<{ role: string; name: string; status: string }>;
}
const ledgerOf = (root: string) => JSON.parse(read(join(root, "ca/ledger.json"))) as Ledger;

describe("adoption checks identity, not only the signature", () => {
  let base: string;
  let oldAdmin: string;
  before(() => {
    // A tree from before the ledger: admin's client cert (CN=admin@example.com), renewed once, so
    // an old admin cert of this CA exists (kept by whoever had it), and the plugins.
    base = tempDir("mtls-identity-base-");
    must(cli(["all", ...EC], base), "all");
    must(cli(["client", "admin", "--cn", "admin@example.com", ...EC], base), "client admin");
    oldAdmin = read(join(base, "certs/mcp/clients/admin/client.crt"));
    must(cli(["renew", "--force", "admin", ...EC], base), "renew admin");
    rmSync(join(base, "certs/mcp/ca/ledger.json"));
  });
  const copy = () => {
    const dir = tempDir("mtls-identity-");
    cpSync(join(base, "certs"), join(dir, "certs"), { recursive: true });
    return { dir, root: join(dir, "certs/mcp") };
  };

  it("an old admin@example.com cert put in clients/bob and ca.crt copied as plugins/evil/server.crt: neither adopted, neither renewed", () => {
    const { dir, root } = copy();
    mkdirSync(join(root, "clients/bob"));
    writeFile(join(root, "clients/bob/client.crt"), oldAdmin);
    newKey(join(root, "clients/bob/client.key"));
    mkdirSync(join(root, "plugins/evil"));
    copyFileSync(join(root, "ca/ca.crt"), join(root, "plugins/evil/server.crt"));
    newKey(join(root, "plugins/evil/server.key"));
    // Both verify against the tree's CA: the signature alone says nothing of whose they are.
    assert.equal(openssl(["verify", "-CAfile", join(root, "ca/ca.crt"), join(root, "clients/bob/client.crt")]).code, 0);
    const bob = read(join(root, "clients/bob/client.crt"));
    const r = cli(["renew", "--force", "bob", "evil", ...EC.slice(0, 2)], dir);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /not adopted clients\/bob\/client\.crt: subject CN=admin@example\.com is client admin's identity, not client bob's/,
    );
    assert.match(r.stderr, /not adopted plugins\/evil\/server\.crt: it is one of this tree's CA certificates/);
    assert.match(r.stderr, /adopted clients\/admin\/client\.crt/, "admin's own cert is adopted");
    assert.equal(read(join(root, "clients/bob/client.crt")), bob, "bob was re-issued as admin@example.com");
    assert.equal(
      ledgerOf(root).entries.some((e) => e.name === "bob" || e.name === "evil"),
      false,
    );
  });

  it("a plugin cert with a key that is not its own: not adopted", () => {
    const { dir, root } = copy();
    newKey(join(root, "plugins/example-plugin-a/server.key"));
    const r = cli(["adopt"], dir);
    assert.match(
      r.stderr + r.stdout,
      /not adopted plugins\/example-plugin-a\/server\.crt: its key is not the certificate's/,
    );
  });

  it("after renew --ca --keep-leaves, the new ca.crt placed as a leaf cert is not adopted as 'issued after the newest record'", () => {
    const dir = tempDir("mtls-identity-rot-");
    must(cli(["all", ...EC], dir), "all");
    must(cli(["renew", "--ca", "--keep-leaves", ...EC], dir), "renew --ca --keep-leaves");
    const root = join(dir, "certs/mcp");
    mkdirSync(join(root, "plugins/evil"));
    copyFileSync(join(root, "ca/ca.crt"), join(root, "plugins/evil/server.crt"));
    newKey(join(root, "plugins/evil/server.key"));
    const r = cli(["renew", "--force", "evil", ...EC.slice(0, 2)], dir);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      ledgerOf(root).entries.some((e) => e.name === "evil"),
      false,
      "the CA's cert entered the ledger as evil's",
    );
    const check = JSON.parse(cli(["check", "--json"], dir).stdout) as {
      certificates: Array<{ name: string; status: string }>;
    };
    assert.equal(check.certificates.find((c) => c.name === "evil")?.status, "foreign");
  });
});

describe("check and verify judge criticality, duplicates and CA:TRUE leaves", () => {
  let dir: string;
  let root: string;
  let ca: string;
  before(() => {
    dir = tempDir("mtls-critical-");
    must(cli(["all", ...EC], dir), "all");
    root = join(dir, "certs/mcp");
    ca = join(root, "ca/ca.crt");
  });

  /** A plugin leaf signed by the tree's CA with openssl and these extension lines, in plugins/<name>/. */
  function planted(name: string, lines: string[]): string {
    const leafDir = join(root, "plugins", name);
    mkdirSync(leafDir, { recursive: true });
    const key = join(leafDir, "server.key");
    newKey(key);
    const csr = join(dir, `${name}.csr`);
    must(openssl(["req", "-new", "-key", key, "-subj", `/CN=mcp-plugin-${name}`, "-out", csr]), "req");
    const ext = writeFile(
      join(dir, `${name}.ext`),
      [...lines, "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"].join("\n"),
    );
    const cert = join(leafDir, "server.crt");
    opensslSignCsr(csr, { cert: ca, key: join(root, "ca/ca.key") }, cert, { days: 30, extfile: ext });
    return cert;
  }

  const codesOf = (file: string): string[] => {
    const r = cli(["verify", "--json", file, "--ca", ca], dir);
    return (JSON.parse(r.stdout) as { problems: Array<{ code: string }> }).problems.map((p) => p.code);
  };
  const checkEntry = (name: string) =>
    (
      JSON.parse(cli(["check", "--json"], dir).stdout) as {
        certificates: Array<{ name: string; status: string; policy: Array<{ code: string }> }>;
      }
    ).certificates.find((c) => c.name === name);

  it("an unknown critical extension: openssl refuses it, and so do verify and check", () => {
    const cert = planted("crit", [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=DNS:crit",
      "1.2.3.4.5=critical,ASN1:UTF8String:x",
    ]);
    assert.match(verifyStrict(ca, cert).stdout + verifyStrict(ca, cert).stderr, /unhandled critical extension/);
    assert.deepEqual(codesOf(cert), ["unknown-critical-extension"]);
    const entry = checkEntry("crit");
    assert.ok(
      entry?.policy.some((p) => p.code === "unknown-critical-extension"),
      JSON.stringify(entry),
    );
    assert.notEqual(entry?.status, "ok");
  });

  it("a CA:TRUE + keyCertSign leaf: a cert it signs for any name verifies -x509_strict against the tree's CA, so verify and check call it invalid", () => {
    const cert = planted("catrue", [
      "basicConstraints=critical,CA:TRUE",
      "keyUsage=critical,digitalSignature,keyCertSign",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=DNS:catrue",
    ]);
    // The danger, shown by openssl itself: the leaf's key mints a cert for another name.
    const key = join(dir, "minted.key");
    newKey(key);
    must(openssl(["req", "-new", "-key", key, "-subj", "/CN=minted", "-out", join(dir, "minted.csr")]), "req");
    const ext = writeFile(
      join(dir, "minted.ext"),
      "subjectAltName=DNS:PluginA\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash",
    );
    opensslSignCsr(
      join(dir, "minted.csr"),
      { cert, key: join(root, "plugins/catrue/server.key") },
      join(dir, "minted.crt"),
      { days: 5, extfile: ext },
    );
    assert.equal(verifyStrict(ca, join(dir, "minted.crt"), ["-untrusted", cert]).code, 0);
    assert.deepEqual(codesOf(cert), ["ca-as-leaf"]);
    assert.ok(checkEntry("catrue")?.policy.some((p) => p.code === "ca-as-leaf"));
  });

  it("an extension twice: openssl marks it invalid, Go refuses to parse it, Node shows the first only; verify and check name it", async () => {
    const caKeyDer = createPrivateKey(read(join(root, "ca/ca.key"))).export({ type: "pkcs8", format: "der" });
    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const signingKey = await webcrypto.subtle.importKey("pkcs8", caKeyDer, alg, false, ["sign"]);
    const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
    const caCert = new x509.X509Certificate(read(ca));
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: "0badc0de",
        subject: "CN=mcp-plugin-dup",
        // The CA's own encoded name: a re-encoded string would not chain (Node compares the bytes).
        issuer: caCert.subjectName,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 5 * 86_400_000),
        publicKey: keys.publicKey,
        signingKey,
        signingAlgorithm: alg,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, false),
          new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1"]),
          new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "dup" }]),
          new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "PluginA" }]),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
      },
      webcrypto as unknown as Crypto,
    );
    const file = writeFile(join(dir, "dup.crt"), cert.toString("pem"));
    const strict = verifyStrict(ca, file);
    assert.notEqual(strict.code, 0);
    assert.match(strict.stdout + strict.stderr, /invalid certificate|unable to get local issuer/);
    const go = writeFile(join(dir, "go-parse", "main.go"), GO_PARSE);
    const parsed = spawnSync("go", ["run", go, file], {
      encoding: "utf8",
      env: { ...process.env, GO111MODULE: "off", GOFLAGS: "" },
    });
    assert.match(parsed.stdout + parsed.stderr, /duplicate extension/);
    assert.ok(codesOf(file).includes("duplicate-extension"), codesOf(file).join(","));
    mkdirSync(join(root, "plugins/dup"));
    copyFileSync(file, join(root, "plugins/dup/server.crt"));
    assert.ok(checkEntry("dup")?.policy.some((p) => p.code === "duplicate-extension"));
  });
});

const GO_PARSE = `package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func main() {
	data, _ := os.ReadFile(os.Args[1])
	block, _ := pem.Decode(data)
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("parsed")
}
`;

describe("a cert revoked for keyCompromise, put back in its directory", () => {
  it("check says revoked, renew re-issues it on a new key (never keeps it), exports refuse it with a note", () => {
    const dir = tempDir("mtls-revoked-back-");
    must(cli(["all", ...EC], dir), "all");
    const leaf = join(dir, "certs/mcp/plugins/example-plugin-a");
    const old = { crt: read(join(leaf, "server.crt")), key: read(join(leaf, "server.key")) };
    must(cli(["revoke", "example-plugin-a", "--reason", "keyCompromise"], dir), "revoke");
    must(cli(["renew", "example-plugin-a", ...EC.slice(0, 2)], dir), "renew after revoke");
    assert.notEqual(read(join(leaf, "server.crt")), old.crt, "renew kept the revoked cert");
    // The leaf's owner puts the revoked pair back.
    writeFile(join(leaf, "server.crt"), old.crt);
    writeFile(join(leaf, "server.key"), old.key);
    const check = JSON.parse(cli(["check", "--json"], dir).stdout) as {
      certificates: Array<{ name: string; status: string; problems: string[] }>;
    };
    const entry = check.certificates.find((c) => c.name === "example-plugin-a");
    assert.equal(entry?.status, "revoked", JSON.stringify(entry));
    const exported = cli(["export", "env", "--plugin", "example-plugin-a"], dir);
    assert.notEqual(exported.code, 0);
    assert.match(exported.stderr, /revoked: serial .* was revoked \(keyCompromise\)/);
    const renewed = cli(["renew", "--json", ...EC.slice(0, 2)], dir);
    const report = JSON.parse(renewed.stdout) as {
      renewed: Array<{ name: string; reasons: string[]; keyReused: boolean }>;
    };
    const again = report.renewed.find((r) => r.name === "example-plugin-a");
    assert.ok(again, renewed.stdout);
    assert.match(again.reasons.join(";"), /revoked \(keyCompromise\)/);
    assert.equal(again.keyReused, false);
    assert.notEqual(read(join(leaf, "server.key")), old.key);
  });
});
