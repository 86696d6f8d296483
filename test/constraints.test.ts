/**
 * Name-constrained CA (issue 10): `ca --permit-dns/--permit-ip/--exclude-dns` writes a critical
 * nameConstraints extension that OpenSSL (and Go, when installed) enforce on a leaf made by
 * openssl itself under our CA; mtls-certs refuses to sign outside it, before anything is written.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { cli, opensslSignedCert, tempDir, verifyStrict, writeFile, x509Text } from "./helpers.js";

/** A server cert signed by our CA with `openssl x509 -req -CA`, carrying exactly `san`. */
function opensslServer(dir: string, name: string, tree: string, san: string): { cert: string; key: string } {
  const ca = { cert: join(tree, "ca/ca.crt"), key: join(tree, "ca/ca.key") };
  return opensslSignedCert(dir, name, ca, [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=serverAuth",
    `subjectAltName=${san}`,
  ]);
}

const hasGo = spawnSync("sh", ["-c", "command -v go"]).status === 0;

/** Go's crypto/x509 Verify, which enforces name constraints on its own. */
function goVerify(dir: string, caFile: string, certFile: string): { code: number | null; output: string } {
  const program = writeFile(
    join(dir, "goverify", "main.go"),
    `package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func main() {
	roots := x509.NewCertPool()
	caPem, _ := os.ReadFile(os.Args[1])
	roots.AppendCertsFromPEM(caPem)
	leafPem, _ := os.ReadFile(os.Args[2])
	block, _ := pem.Decode(leafPem)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
`,
  );
  const r = spawnSync("go", ["run", program, caFile, certFile], {
    encoding: "utf8",
    env: { ...process.env, GOFLAGS: "-mod=mod", GO111MODULE: "off", GOCACHE: join(dir, "gocache") },
  });
  return { code: r.status, output: r.stdout + r.stderr };
}

describe("a name-constrained CA", () => {
  let dir: string;
  let tree: string;
  let caCert: string;
  let created: ReturnType<typeof cli>;

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    caCert = join(tree, "ca/ca.crt");
    created = cli(
      [
        "ca",
        "--key-type",
        "ecdsa-p256",
        "--permit-dns",
        "example.com",
        "localhost",
        "--permit-ip",
        "127.0.0.0/8",
        "--exclude-dns",
        "bad.example.com",
        "-q",
      ],
      dir,
    );
  });

  it("carries a critical nameConstraints extension that openssl reads back", () => {
    assert.equal(created.code, 0, created.stderr);
    const text = x509Text(caCert);
    assert.match(
      text,
      /X509v3 Name Constraints: critical\s*\n\s*Permitted:\s*\n\s*DNS:example\.com\s*\n\s*DNS:localhost\s*\n\s*IP:127\.0\.0\.0\/255\.0\.0\.0\s*\n\s*Excluded:\s*\n\s*DNS:bad\.example\.com/,
    );
  });

  it("a leaf inside the constraints is issued and verifies", () => {
    const r = cli(["server", "api.example.com", "--ip", "127.0.0.1", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(r.code, 0, r.stderr);
    const v = verifyStrict(caCert, join(tree, "servers/api.example.com/server.crt"), ["-purpose", "sslserver"]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  for (const [what, args, san] of [
    ["a DNS name outside", ["server", "evil.org"], "DNS:evil.org"],
    ["an excluded DNS name", ["server", "bad.example.com"], "DNS:bad.example.com"],
    ["a name under an excluded one", ["server", "x.bad.example.com"], "DNS:x.bad.example.com"],
    ["an IP outside", ["server", "ok.example.com", "--ip", "10.1.2.3"], "IP:10.1.2.3"],
    ["a plugin URL host outside (IPv6)", ["plugin", "v6.example.com", "--ip", "::1"], "IP:::1"],
  ] as const) {
    it(`issuing ${what} is exit 2 naming the SAN, with nothing written`, () => {
      const r = cli([...args, "--key-type", "ecdsa-p256"], dir);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(`SAN ${san} is outside the CA's name constraints`), r.stderr);
      const name = args[1];
      assert.equal(
        existsSync(join(tree, args[0] === "plugin" ? "plugins" : "servers", name)),
        false,
        "a directory was created",
      );
    });
  }

  it("openssl verify refuses leaves that openssl itself signed outside the constraints, and accepts one inside", () => {
    const inside = opensslServer(dir, "inside", tree, "DNS:www.example.com,IP:127.0.0.2");
    assert.equal(verifyStrict(caCert, inside.cert).code, 0);
    const cases = [
      ["outside-dns", "DNS:evil.org", /permitted subtree violation/],
      ["outside-ip", "DNS:www.example.com,IP:10.0.0.1", /permitted subtree violation/],
      ["excluded-dns", "DNS:bad.example.com", /excluded subtree violation/],
    ] as const;
    for (const [name, san, error] of cases) {
      const leaf = opensslServer(dir, name, tree, san);
      const r = verifyStrict(caCert, leaf.cert);
      assert.notEqual(r.code, 0, `${name} verified`);
      assert.match(r.stdout + r.stderr, error);
    }
  });

  it("Go's crypto/x509 refuses the outside leaf and accepts the inside one", {
    skip: hasGo ? false : "go is not installed on this machine: Go's crypto/x509 part not run (openssl's is)",
  }, () => {
    const inside = opensslServer(dir, "go-inside", tree, "DNS:go.example.com");
    const outside = opensslServer(dir, "go-outside", tree, "DNS:evil.org");
    assert.equal(goVerify(dir, caCert, inside.cert).output.trim(), "ok");
    const r = goVerify(dir, caCert, outside.cert);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /not permitted|constraint/i);
  });

  it("check shows the constraints on the CA and flags a leaf outside them", () => {
    // A leaf that openssl made outside the constraints, placed in the tree by hand.
    const outside = opensslServer(dir, "dropped-in", tree, "DNS:evil.org");
    const leafDir = join(tree, "servers/dropped-in");
    mkdirSync(leafDir, { recursive: true });
    copyFileSync(outside.cert, join(leafDir, "server.crt"));
    copyFileSync(outside.key, join(leafDir, "server.key"));
    copyFileSync(caCert, join(leafDir, "ca.crt"));
    spawnSync("chmod", ["600", join(leafDir, "server.key")]);
    const table = cli(["check"], dir);
    assert.match(
      table.stdout,
      /name constraints: permitted DNS:example\.com; permitted DNS:localhost; permitted IP:127\.0\.0\.0\/8; excluded DNS:bad\.example\.com/,
    );
    const r = cli(["check", "--json"], dir);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as {
      certificates: Array<{
        role: string;
        name: string;
        status: string;
        problems: string[];
        nameConstraints?: string[];
      }>;
    };
    assert.deepEqual(report.certificates.find((c) => c.role === "ca")!.nameConstraints, [
      "permitted DNS:example.com",
      "permitted DNS:localhost",
      "permitted IP:127.0.0.0/8",
      "excluded DNS:bad.example.com",
    ]);
    const dropped = report.certificates.find((c) => c.name === "dropped-in")!;
    // Dropped in by hand, so the issuance ledger never recorded it: foreign, and the constraint is named too.
    assert.equal(dropped.status, "foreign");
    assert.match(dropped.problems.join("\n"), /SAN DNS:evil\.org is outside the CA's name constraints/);
    assert.equal(report.certificates.find((c) => c.name === "api.example.com")!.status, "ok");
  });

  it("asking an existing CA for other constraints is exit 2: they are fixed when the CA is made", () => {
    const r = cli(["ca", "--permit-dns", "other.org"], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the CA exists already, with name constraints/);
  });
});

describe("ca --permit-dns alone", () => {
  it("excludes every IP address, so an IP SAN is refused by openssl too", () => {
    const dir = tempDir();
    const tree = join(dir, "certs/mcp");
    const r = cli(["ca", "--key-type", "ecdsa-p256", "--permit-dns", "example.com", "-q"], dir);
    assert.equal(r.code, 0, r.stderr);
    const text = x509Text(join(tree, "ca/ca.crt"));
    assert.match(text, /Excluded:\s*\n\s*IP:0\.0\.0\.0\/0\.0\.0\.0\s*\n\s*IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/);
    const leaf = opensslServer(dir, "with-ip", tree, "DNS:www.example.com,IP:127.0.0.1");
    const v = verifyStrict(join(tree, "ca/ca.crt"), leaf.cert);
    assert.match(v.stdout + v.stderr, /excluded subtree violation/);
    const ours = cli(["server", "www.example.com", "--ip", "127.0.0.1", "--key-type", "ecdsa-p256"], dir);
    assert.equal(ours.code, 2);
    assert.match(
      ours.stderr,
      /SAN IP:127\.0\.0\.1 is outside the CA's name constraints \(excluded by every IPv4 address\)/,
    );
  });

  it("bad constraint values are exit 2 naming the flag, and make no tree", () => {
    const dir = tempDir();
    for (const [args, message] of [
      [["--permit-ip", "10.0.0.0/33"], /--permit-ip: "10\.0\.0\.0\/33" is not an address range/],
      [["--permit-ip", "example.com"], /--permit-ip: "example\.com" is not an address range/],
      [["--permit-dns", "*.example.com"], /--permit-dns: "\*\.example\.com" is not a DNS suffix/],
      [["--exclude-dns", "bad name"], /--exclude-dns: "bad name"/],
    ] as const) {
      const r = cli(["ca", ...args], dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
    assert.equal(existsSync(join(dir, "certs")), false);
  });
});

describe("renewal under a name-constrained CA", () => {
  it("refuses to sign a SAN the config now asks for when it falls outside the constraints, and keeps the old cert", () => {
    const dir = tempDir();
    const config = writeFile(
      join(dir, "plugins/external/config.yaml"),
      'plugins:\n  - name: "p"\n    kind: "external"\n    mcp:\n      url: https://p.internal:8000/mcp\n',
    );
    const ca = cli(
      [
        "ca",
        "--key-type",
        "ecdsa-p256",
        "--permit-dns",
        "internal",
        "--permit-dns",
        "p",
        "--permit-dns",
        "mcp-plugin-p",
        "--permit-dns",
        "localhost",
      ],
      dir,
    );
    assert.equal(ca.code, 0, ca.stderr);
    assert.equal(cli(["plugin", "p", "--key-type", "ecdsa-p256"], dir).code, 0);
    const cert = join(dir, "certs/mcp/plugins/p/server.crt");
    const before = x509Text(cert);
    writeFile(
      config,
      'plugins:\n  - name: "p"\n    kind: "external"\n    mcp:\n      url: https://p.elsewhere.example:8000/mcp\n',
    );
    const r = cli(["renew", "p", "--json"], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.renewed.length, 0);
    assert.match(JSON.stringify(doc.failed), /DNS:p\.elsewhere\.example is outside the CA's name constraints/);
    assert.equal(x509Text(cert), before);
    assert.equal(verifyStrict(join(dir, "certs/mcp/ca/ca.crt"), cert, ["-purpose", "sslserver"]).code, 0);
  });
});
