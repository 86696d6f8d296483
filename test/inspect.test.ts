/**
 * `inspect` reads what openssl reads: every field is compared with `openssl x509 -text` (or
 * `req -text`, `crl -text`, `pkcs12`) on the same file.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { CertificateItem, CrlItem, CsrItem, InspectReport, PrivateKeyItem } from "../src/commands/inspect.js";
import {
  cli,
  openssl,
  read,
  tempDir,
  writeFile,
  x509Text,
  type Run,
  opensslEcRequest,
  opensslSignCsr,
} from "./helpers.js";

function must(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r;
}

function inspect(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { run: Run; report: InspectReport } {
  const run = cli(["inspect", "--json", ...args], cwd, env);
  assert.ok(run.stdout.trim().startsWith("{"), run.stderr);
  return { run, report: JSON.parse(run.stdout) as InspectReport };
}

function onlyCert(report: InspectReport): CertificateItem {
  assert.equal(report.items.length, 1);
  const item = report.items[0]!;
  assert.equal(item.type, "certificate");
  return item as CertificateItem;
}

/** The value on the line after an `X509v3 <name>:` header of `openssl x509 -text`, or null. */
function extension(text: string, name: string): { critical: boolean; value: string } | null {
  const m = new RegExp(`X509v3 ${name}:( critical)? *\\n\\s*(.*)`).exec(text);
  return m ? { critical: Boolean(m[1]), value: m[2]!.trim() } : null;
}

const OPENSSL_USAGE: Record<string, string> = {
  "Digital Signature": "digitalSignature",
  "Key Encipherment": "keyEncipherment",
  "Certificate Sign": "keyCertSign",
  "CRL Sign": "cRLSign",
  "TLS Web Server Authentication": "serverAuth",
  "TLS Web Client Authentication": "clientAuth",
};

/** Every field inspect prints, checked against openssl's own reading of the file. */
function assertMatchesOpenssl(item: CertificateItem, file: string): void {
  const text = x509Text(file);
  const line = (re: RegExp) => re.exec(text)?.[1]?.trim();
  const name = (s: string | undefined) => s?.replace(/ = /g, "=");
  assert.equal(item.subject, name(line(/Subject: (.*)/)));
  assert.equal(item.issuer, name(line(/Issuer: (.*)/)));
  assert.equal(
    `serial=${item.serial}`,
    must(openssl(["x509", "-in", file, "-noout", "-serial"]), "serial").stdout.trim(),
  );
  assert.equal(item.notAfter, new Date(line(/Not After : (.*)/)!).toISOString());
  assert.equal(item.notBefore, new Date(line(/Not Before: (.*)/)!).toISOString());
  assert.equal(
    `sha256 Fingerprint=${item.fingerprint}`,
    must(openssl(["x509", "-in", file, "-noout", "-fingerprint", "-sha256"]), "fingerprint").stdout.trim(),
  );
  assert.equal(item.keyBits, Number(line(/Public-Key: \((\d+) bit\)/)));
  assert.equal(item.version, Number(line(/Version: (\d)/)));
  const san = extension(text, "Subject Alternative Name");
  assert.deepEqual(item.sans, san ? san.value.split(", ").map((s) => s.replace("IP Address:", "IP:")) : []);
  const ku = extension(text, "Key Usage");
  assert.deepEqual(item.keyUsage, ku ? ku.value.split(", ").map((u) => OPENSSL_USAGE[u] ?? u) : null);
  assert.equal(item.keyUsageCritical, ku?.critical ?? false);
  const eku = extension(text, "Extended Key Usage");
  assert.deepEqual(item.extendedKeyUsage, eku ? eku.value.split(", ").map((u) => OPENSSL_USAGE[u] ?? u) : null);
  const bc = extension(text, "Basic Constraints");
  assert.deepEqual(
    item.basicConstraints === null
      ? null
      : {
          ca: item.basicConstraints.ca,
          critical: item.basicConstraints.critical,
          pathLength: item.basicConstraints.pathLength,
        },
    bc === null
      ? null
      : {
          ca: bc.value.startsWith("CA:TRUE"),
          critical: bc.critical,
          pathLength: /pathlen:(\d+)/.exec(bc.value) ? Number(/pathlen:(\d+)/.exec(bc.value)![1]) : null,
        },
  );
}

describe("inspect: the fields openssl reads, for every kind of file", () => {
  let dir: string;
  let tree: string;

  before(() => {
    dir = tempDir();
    must(cli(["all", "--key-type", "ecdsa-p256", "--quiet"], dir), "all");
    tree = join(dir, "certs/mcp");
  });

  it("a CA, a plugin server cert and the gateway client cert of a tree: every field equals openssl x509 -text's", () => {
    for (const file of ["ca/ca.crt", "plugins/example-plugin-a/server.crt", "gateway/client.crt"]) {
      const { run, report } = inspect([join(tree, file)], dir);
      assert.equal(run.code, 0);
      assert.equal(report.kind, "certificate");
      assertMatchesOpenssl(onlyCert(report), join(tree, file));
    }
  });

  it("the Makefile's CA (no keyUsage) and a v1 cert: keyUsage null, as openssl shows none", () => {
    const caKey = join(dir, "mk-ca.key");
    const caCert = join(dir, "mk-ca.crt");
    must(
      openssl([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        caKey,
        "-out",
        caCert,
        "-days",
        "825",
        "-subj",
        "/CN=ContextForge-CA/O=ContextForge/OU=Plugins",
      ]),
      "CA",
    );
    const ca = onlyCert(inspect([caCert], dir).report);
    assert.equal(ca.keyUsage, null);
    assert.equal(ca.selfSigned, true);
    assertMatchesOpenssl(ca, caCert);
    // The Makefile's gateway cert: x509 -req without an extension file is X.509 v1.
    const csr = join(dir, "gw.csr");
    const gw = join(dir, "gw.crt");
    must(
      openssl([
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "gw.key"),
        "-out",
        csr,
        "-subj",
        "/CN=mcp-gateway-client/O=MCPGateway/OU=Gateway",
      ]),
      "csr",
    );
    opensslSignCsr(csr, { cert: caCert, key: caKey }, gw, { days: 825, digest: "-sha256" });
    const v1 = onlyCert(inspect([gw], dir).report);
    assert.equal(v1.version, 1);
    assertMatchesOpenssl(v1, gw);
  });

  it("name constraints on a CA, as openssl writes them", () => {
    const file = join(dir, "nc-ca.crt");
    must(
      opensslEcRequest(join(dir, "nc.key"), file, [
        "-x509",
        "-days",
        "30",
        "-subj",
        "/CN=Constrained CA",
        "-addext",
        "nameConstraints=critical,permitted;DNS:.example.com,permitted;IP:10.0.0.0/255.0.0.0,excluded;DNS:bad.example.com",
      ]),
      "nc CA",
    );
    const ca = onlyCert(inspect([file], dir).report);
    assert.deepEqual(ca.nameConstraints, {
      permitted: ["DNS:.example.com", "IP:10.0.0.0/8"],
      excluded: ["DNS:bad.example.com"],
      critical: true,
    });
    assert.match(
      x509Text(file),
      /X509v3 Name Constraints: critical\n\s+Permitted:\n\s+DNS:\.example\.com\n\s+IP:10\.0\.0\.0\/255\.0\.0\.0/,
    );
  });

  it("a key: whether it matches a certificate (exit 1 when it does not), encrypted or not; never its bytes", () => {
    const key = join(tree, "plugins/example-plugin-a/server.key");
    const own = inspect([key, "--key-of", join(tree, "plugins/example-plugin-a/server.crt")], dir);
    assert.equal(own.run.code, 0);
    assert.deepEqual(
      { ...(own.report.items[0] as PrivateKeyItem), matchedAgainst: null },
      { type: "private-key", encrypted: false, key: "EC P-256", keyBits: 256, matches: true, matchedAgainst: null },
    );
    const other = inspect([key, "--key-of", join(tree, "gateway/client.crt")], dir);
    assert.equal(other.run.code, 1);
    assert.equal((other.report.items[0] as PrivateKeyItem).matches, false);
    assert.ok(!other.run.stdout.includes(read(key).split("\n")[1]!), "key material printed");

    const encrypted = join(dir, "encrypted.key");
    must(openssl(["pkey", "-in", key, "-aes256", "-passout", "pass:hunter2", "-out", encrypted]), "encrypt");
    const locked = inspect([encrypted], dir).report.items[0] as PrivateKeyItem;
    assert.deepEqual([locked.encrypted, locked.key], [true, null]);
    const opened = inspect(
      [encrypted, "--password-env", "KEY_PW", "--key-of", join(tree, "plugins/example-plugin-a/server.crt")],
      dir,
      { KEY_PW: "hunter2" },
    ).report.items[0] as PrivateKeyItem;
    assert.deepEqual([opened.key, opened.matches], ["EC P-256", true]);
    const wrong = cli(["inspect", encrypted, "--password-env", "KEY_PW"], dir, { KEY_PW: "nope" });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /wrong password/);
  });

  it("a CSR and a bundle", () => {
    const csr = join(dir, "req.csr");
    must(
      openssl([
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "req.key"),
        "-out",
        csr,
        "-subj",
        "/CN=api.internal/O=Example",
        "-addext",
        "subjectAltName=DNS:api.internal,IP:10.1.2.3",
      ]),
      "csr",
    );
    const item = inspect([csr], dir).report.items[0] as CsrItem;
    const text = must(openssl(["req", "-in", csr, "-noout", "-text"]), "req -text").stdout;
    assert.equal(item.subject, /Subject: (.*)/.exec(text)![1]!.replace(/ = /g, "="));
    assert.deepEqual(item.sans, ["DNS:api.internal", "IP:10.1.2.3"]);
    assert.deepEqual([item.key, item.signatureValid], ["RSA 2048", true]);

    const bundle = writeFile(
      join(dir, "bundle.pem"),
      read(join(tree, "plugins/example-plugin-a/server.crt")) + read(join(tree, "ca/ca.crt")),
    );
    const report = inspect([bundle], dir).report;
    assert.equal(report.kind, "bundle");
    assert.deepEqual(
      report.items.map((i) => (i as CertificateItem).subject),
      ["CN=mcp-plugin-example-plugin-a, O=MCPGateway, OU=Plugins", "CN=ContextForge-CA, O=ContextForge, OU=Plugins"],
    );
  });

  it("a CRL made by openssl ca: the revoked serial and dates openssl crl -text shows", () => {
    const ca = join(tree, "ca");
    const db = join(dir, "crl-db");
    writeFile(join(db, "index.txt"), "");
    writeFile(join(db, "crlnumber"), "01\n");
    const config = writeFile(
      join(db, "ca.cnf"),
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}/index.txt\ncrlnumber = ${db}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n`,
    );
    const opensslCa = (...args: string[]): Run =>
      must(
        openssl(["ca", "-config", config, "-keyfile", join(ca, "ca.key"), "-cert", join(ca, "ca.crt"), ...args]),
        args[0]!,
      );
    const revoked = join(tree, "plugins/example-plugin-b/server.crt");
    opensslCa("-revoke", revoked);
    const crl = join(dir, "ca.crl");
    opensslCa("-gencrl", "-out", crl);
    const item = inspect([crl], dir).report.items[0] as CrlItem;
    const text = must(openssl(["crl", "-in", crl, "-noout", "-text"]), "crl -text").stdout;
    assert.equal(item.issuer, /Issuer: (.*)/.exec(text)![1]!.replace(/ = /g, "="));
    assert.equal(item.nextUpdate, new Date(/Next Update: (.*)/.exec(text)![1]!).toISOString());
    assert.deepEqual(
      item.revoked.map((r) => r.serial),
      [/Serial Number: (\w+)/.exec(text)![1]!.toUpperCase()],
    );
    assert.equal(item.revoked[0]!.serial, onlyCert(inspect([revoked], dir).report).serial);
  });

  it("a PKCS#12 file as OpenSSL 3 exports it: the key, matching the leaf, and each certificate; a wrong password is exit 2", () => {
    const p12 = join(dir, "plugin.p12");
    const leaf = join(tree, "plugins/example-plugin-a/server.crt");
    must(
      openssl([
        "pkcs12",
        "-export",
        "-in",
        leaf,
        "-inkey",
        join(tree, "plugins/example-plugin-a/server.key"),
        "-certfile",
        join(tree, "ca/ca.crt"),
        "-out",
        p12,
        "-passout",
        "pass:p12-secret",
      ]),
      "pkcs12",
    );
    const { run, report } = inspect([p12, "--password-env", "P12_PW"], dir, { P12_PW: "p12-secret" });
    assert.equal(run.code, 0);
    assert.equal(report.kind, "pkcs12");
    const key = report.items.find((i): i is PrivateKeyItem => i.type === "private-key");
    assert.deepEqual([key?.key, key?.matches], ["EC P-256", true]);
    const fingerprints = report.items
      .filter((i): i is CertificateItem => i.type === "certificate")
      .map((c) => c.fingerprint)
      .sort();
    const expected = [leaf, join(tree, "ca/ca.crt")]
      .map(
        (f) =>
          must(openssl(["x509", "-in", f, "-noout", "-fingerprint", "-sha256"]), "fp")
            .stdout.trim()
            .split("=")[1]!,
      )
      .sort();
    assert.deepEqual(fingerprints, expected);
    const wrong = cli(["inspect", p12, "--password-env", "P12_PW"], dir, { P12_PW: "wrong" });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /wrong password/);
  });

  it("a file that is none of these is exit 2, named; --json prints the error document", () => {
    const junk = writeFile(join(dir, "junk.txt"), "hello\n");
    const r = cli(["inspect", "--json", junk], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /junk\.txt: not a certificate, key, CSR, CRL or PKCS#12 file/);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, "E_DAMAGED");
  });
});
