/**
 * Issue 19 §1: `mtls-certs sign <csr> <role> [name]`. The requests are made by openssl (`req -new`),
 * the results judged by openssl (`x509 -text`, `verify -x509_strict -purpose`) and a real
 * node:tls handshake with the requester's own key, which never enters the tree.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LedgerEntry } from "../src/store/ledger.js";
import { cli, leafEnd, mtlsHandshake, openssl, read, tempDir, verifyStrict, x509Text } from "./helpers.js";

interface Csr {
  key: string;
  csr: string;
}

/** A key and CSR made by openssl alone; `addext` are `-addext` values. */
function opensslCsr(dir: string, stem: string, keyArgs: string[], subject: string, addext: string[] = []): Csr {
  const key = join(dir, `${stem}.key`);
  const csr = join(dir, `${stem}.csr`);
  const r = openssl([
    "req",
    "-new",
    ...keyArgs,
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    subject,
    ...addext.flatMap((e) => ["-addext", e]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  return { key, csr };
}
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const RSA = ["-newkey", "rsa:2048"];

/** SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it from a cert or a private key. */
function spkiOf(file: string, kind: "cert" | "key"): string {
  const pub =
    kind === "cert"
      ? openssl(["x509", "-in", file, "-noout", "-pubkey"]).stdout
      : openssl(["pkey", "-in", file, "-pubout"]).stdout;
  const der = openssl(["pkey", "-pubin", "-outform", "PEM"], pub).stdout;
  assert.match(der, /BEGIN PUBLIC KEY/);
  return der;
}

function ledger(out: string): LedgerEntry[] {
  return (JSON.parse(read(join(out, "ca/ledger.json"))) as { entries: LedgerEntry[] }).entries;
}

describe("sign <csr>", () => {
  const dir = tempDir("mtls-certs-sign-");
  const out = join(dir, "certs/mcp");
  before(() => {
    // An EC tree with a server for localhost: the peer of the client signed below.
    const r = cli(["server", "localhost", "--ip", "127.0.0.1", "--key-type", "ecdsa-p256", "--out", out, "-q"], dir);
    assert.equal(r.code, 0, r.stderr);
  });

  it("copies nothing a CSR asks for beyond its key: CA:TRUE, keyCertSign and its SANs are dropped", () => {
    const req = opensslCsr(dir, "greedy", EC, "/CN=root-of-all/O=Evil", [
      "basicConstraints=critical,CA:TRUE",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      "subjectAltName=DNS:api.internal,DNS:www.bank.example",
      "1.2.3.4.5.6.7=ASN1:UTF8String:unknown",
    ]);
    // openssl itself sees what the request asks for.
    assert.match(openssl(["req", "-in", req.csr, "-noout", "-text"]).stdout, /CA:TRUE/);
    const r = cli(["sign", req.csr, "server", "api.internal", "--out", out], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no key file/);
    const leaf = join(out, "servers/api.internal");
    const text = x509Text(join(leaf, "server.crt"));
    assert.match(text, /CA:FALSE/);
    assert.doesNotMatch(text, /CA:TRUE|Certificate Sign|CRL Sign|1\.2\.3\.4\.5\.6\.7|bank/);
    assert.match(text, /Subject: CN ?= ?api\.internal, O ?= ?MCPGateway, OU ?= ?Servers/);
    assert.match(text, /DNS:api\.internal/);
    const v = verifyStrict(join(out, "ca/ca.crt"), join(leaf, "server.crt"), ["-purpose", "sslserver"]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    // The cert is for the requester's key; no key file is written: the key is not ours.
    assert.equal(spkiOf(join(leaf, "server.crt"), "cert"), spkiOf(req.key, "key"));
    assert.equal(existsSync(join(leaf, "server.key")), false);
    assert.equal(read(join(leaf, "ca.crt")), read(join(out, "ca/ca.crt")));
    const entry = ledger(out).find((e) => e.role === "server" && e.name === "api.internal");
    assert.equal(entry?.source, "csr");
    assert.equal(entry?.status, "valid");
    // check does not call the missing key a problem for a leaf the ledger records as signed from a CSR.
    const check = cli(["check", "--out", out, "--json"], dir);
    assert.equal(check.code, 0, check.stdout);
  });

  it("signs an RSA 2048 client request that then works in a real mTLS handshake with the client's own key", async () => {
    const req = opensslCsr(dir, "alice", RSA, "/CN=whatever");
    const r = cli(["sign", req.csr, "client", "alice", "--out", out, "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { certificates: Array<{ role: string; name: string; cert: string }> };
    const cert = report.certificates.find((c) => c.role === "client")?.cert;
    assert.equal(cert, join(out, "clients/alice/client.crt"));
    assert.match(
      x509Text(cert),
      /Subject: CN ?= ?alice, O ?= ?MCPGateway, OU ?= ?Clients[\s\S]*TLS Web Client Authentication/,
    );
    assert.equal(existsSync(join(out, "clients/alice/client.key")), false);
    assert.equal(existsSync(join(out, "clients/alice/client.pem")), false);
    const result = await mtlsHandshake(
      leafEnd(join(out, "servers/localhost"), "server"),
      {
        cert: read(cert),
        key: read(req.key),
        ca: read(join(out, "clients/alice/ca.crt")),
      },
      { servername: "localhost" },
    );
    assert.deepEqual(result, { ok: true, peerCn: "alice" });
  });

  it("refuses a request whose signature does not verify, a file that is no CSR and a directory (exit 2, file named)", () => {
    const req = opensslCsr(dir, "broken", EC, "/CN=x");
    const derFile = join(dir, "broken.der");
    assert.equal(openssl(["req", "-in", req.csr, "-outform", "DER", "-out", derFile]).code, 0);
    const bytes = readFileSync(derFile);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x01; // inside the ECDSA signature's s
    writeFileSync(derFile, bytes);
    // openssl agrees the request is now bad (it says so, though `req -verify` still exits 0).
    assert.match(openssl(["req", "-in", derFile, "-inform", "DER", "-verify", "-noout"]).stderr, /verify failure/);
    const bad = cli(["sign", derFile, "server", "broken", "--out", out], dir);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /broken\.der.*signature does not verify/);
    assert.equal(existsSync(join(out, "servers/broken")), false);

    const notCsr = cli(["sign", join(out, "ca/ca.crt"), "server", "broken", "--out", out], dir);
    assert.equal(notCsr.code, 2);
    assert.match(notCsr.stderr, /ca\.crt: not a certificate signing request/);
    mkdirSync(join(dir, "adir.csr"));
    const directory = cli(["sign", join(dir, "adir.csr"), "server", "broken", "--out", out], dir);
    assert.equal(directory.code, 2);
    assert.match(directory.stderr, /adir\.csr: not a regular file/);
  });

  it("takes a request's SANs only with --csr-sans, only for server and client, and only names the issuing checks pass", () => {
    const req = opensslCsr(dir, "sans", EC, "/CN=x", ["subjectAltName=DNS:svc.internal,IP:10.0.0.7"]);
    const r = cli(["sign", req.csr, "server", "svc", "--csr-sans", "--san", "svc.example", "--out", out], dir);
    assert.equal(r.code, 0, r.stderr);
    const text = x509Text(join(out, "servers/svc/server.crt"));
    assert.match(text, /DNS:svc, DNS:svc\.example, DNS:svc\.internal, IP Address:10\.0\.0\.7/);
    const plugin = cli(["sign", req.csr, "plugin", "p1", "--csr-sans", "--out", out], dir);
    assert.equal(plugin.code, 2);
    assert.match(plugin.stderr, /plugin's names are the tree's/);
    const wild = opensslCsr(dir, "wild", EC, "/CN=x", ["subjectAltName=DNS:*.*.example"]);
    const refused = cli(["sign", wild.csr, "server", "wild", "--csr-sans", "--out", out], dir);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /wild\.csr: SAN/);
    assert.equal(existsSync(join(out, "servers/wild")), false);
  });

  it("writes to -o/--output instead of the tree, still recorded in the ledger", () => {
    const req = opensslCsr(dir, "gw", EC, "/CN=x");
    const file = join(dir, "gateway-signed.crt");
    const r = cli(["sign", req.csr, "gateway", "--out", out, "-o", file], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(x509Text(file), /mcp-gateway-client[\s\S]*TLS Web Client Authentication/);
    assert.equal(existsSync(join(out, "gateway/client.crt")), false);
    const serial = openssl(["x509", "-in", file, "-noout", "-serial"]).stdout.trim().replace("serial=", "");
    const entry = ledger(out).find((e) => e.serial === serial);
    assert.equal(entry?.source, "csr");
    assert.equal(entry?.role, "gateway");
    const again = cli(["sign", req.csr, "gateway", "--out", out, "-o", file], dir);
    assert.equal(again.code, 2, "an existing --output file is kept without --force");
  });

  it("renew keeps the requester's key, says so, and writes no key file", () => {
    const req = opensslCsr(dir, "renewme", EC, "/CN=x");
    assert.equal(cli(["sign", req.csr, "server", "renewme", "--out", out, "-q"], dir).code, 0);
    const certFile = join(out, "servers/renewme/server.crt");
    const firstSerial = openssl(["x509", "-in", certFile, "-noout", "-serial"]).stdout;
    const r = cli(["renew", "--force", "renewme", "--out", out], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /renewme.*same key \(signed from a CSR: the key is not ours\)/);
    assert.notEqual(openssl(["x509", "-in", certFile, "-noout", "-serial"]).stdout, firstSerial);
    assert.equal(spkiOf(certFile, "cert"), spkiOf(req.key, "key"));
    assert.equal(existsSync(join(out, "servers/renewme/server.key")), false);
    const entries = ledger(out).filter((e) => e.role === "server" && e.name === "renewme");
    assert.deepEqual(
      entries.map((e) => [e.source, e.status]),
      [
        ["csr", "superseded"],
        ["csr", "valid"],
      ],
    );
    const json = cli(["renew", "--force", "renewme", "--out", out, "--json"], dir);
    const renewed = (JSON.parse(json.stdout) as { renewed: Array<{ keyReused: boolean; keyFromCsr: boolean }> })
      .renewed;
    assert.deepEqual(
      renewed.map((x) => [x.keyReused, x.keyFromCsr]),
      [[true, true]],
    );
  });

  it("renew learns 'signed from a CSR' from the ledger alone: a planted key is not taken, a lost key is not papered over", () => {
    const req = opensslCsr(dir, "planted", EC, "/CN=x");
    assert.equal(cli(["sign", req.csr, "server", "planted", "--out", out, "-q"], dir).code, 0);
    // The leaf's owner drops a key of their choosing into the directory: renewal ignores it.
    const other = opensslCsr(dir, "other", EC, "/CN=x");
    writeFileSync(join(out, "servers/planted/server.key"), read(other.key), { mode: 0o600 });
    const planted = cli(["renew", "--force", "planted", "--out", out], dir);
    assert.match(planted.stdout, /renewed .*planted.*same key \(signed from a CSR/);
    assert.equal(spkiOf(join(out, "servers/planted/server.crt"), "cert"), spkiOf(req.key, "key"));
    // ...and the planted key is named as the problem it is (exit 1), not silently used.
    assert.equal(planted.code, 1);
    assert.match(planted.stdout, /server\.key: does not match the certificate/);

    // An issued leaf (source "issued") whose key is gone is not renewed as if it came from a CSR.
    assert.equal(cli(["server", "lost", "--key-type", "ecdsa-p256", "--out", out, "-q"], dir).code, 0);
    const keyFile = join(out, "servers/lost/server.key");
    const spki = spkiOf(join(out, "servers/lost/server.crt"), "cert");
    rmSync(keyFile);
    const r = cli(["renew", "--force", "lost", "--out", out], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /has no key/);
    assert.equal(spkiOf(join(out, "servers/lost/server.crt"), "cert"), spki);
  });
});
