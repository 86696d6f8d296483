/**
 * `verify` against certificates made with openssl the Makefile's way, each case judged by
 * `openssl verify -x509_strict` and by Go's crypto/x509 too: the verdicts must agree (Go is not
 * strict about a CA's keyUsage, and says so below) and verify must name the cause.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createMemoryCa } from "../src/index.js";
import type { VerifyReport } from "../src/commands/verify.js";
import {
  cli,
  openssl,
  pythonStrictClient,
  read,
  tempDir,
  writeFile,
  type Run,
  opensslSignCsr,
  verifyStrict,
} from "./helpers.js";

const DAY_MS = 86_400_000;

interface Pair {
  cert: string;
  key: string;
}

function must(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
}

/** `make certs-mcp-ca`: req -x509; the Makefile's CA has no keyUsage, a fixed one adds it. */
function opensslCa(dir: string, name: string, subject: string, keyUsage: boolean): Pair {
  const p = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const ku = keyUsage ? ["-addext", "keyUsage=critical,keyCertSign,cRLSign"] : [];
  must(
    openssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      p.key,
      "-out",
      p.cert,
      "-days",
      "825",
      "-subj",
      subject,
      ...ku,
    ]),
    `CA ${name}`,
  );
  return p;
}

/** `make certs-mcp-plugin`: a CSR, then `x509 -req -sha256` with an extension file. */
function opensslLeaf(dir: string, name: string, ca: Pair, subject: string, extensions: string[]): Pair {
  const p = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  must(
    openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", p.key, "-out", csr, "-subj", subject]),
    `CSR ${name}`,
  );
  const ext = writeFile(join(dir, `${name}.ext`), extensions.join("\n") + "\n");
  opensslSignCsr(csr, ca, p.cert, { days: 825, digest: "-sha256", extfile: ext });
  return p;
}

/** Go's crypto/x509 Verify, the other verifier the issue names: roots, intermediates, host, EKU. */
const GO_VERIFIER = `package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func load(path string) []*x509.Certificate {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return certs
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		certs = append(certs, cert)
	}
}

// verifier CERT CA HOST server|client
func main() {
	certs, roots, intermediates := load(os.Args[1]), x509.NewCertPool(), x509.NewCertPool()
	for _, c := range load(os.Args[2]) {
		roots.AddCert(c)
	}
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	usage := x509.ExtKeyUsageServerAuth
	if os.Args[4] == "client" {
		usage = x509.ExtKeyUsageClientAuth
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, DNSName: os.Args[3], KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
`;

let goVerifier: string | undefined;
function goVerify(cert: string, ca: string, host: string, purpose: "server" | "client"): Run {
  const r = spawnSync(goVerifier!, [cert, ca, host, purpose], { encoding: "utf8" });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function verify(args: string[], cwd: string): { run: Run; report: VerifyReport } {
  const run = cli(["verify", "--json", ...args], cwd);
  return { run, report: JSON.parse(run.stdout) as VerifyReport };
}

/** Our verdict, openssl's verdict, and the cause we name. */
function agree(
  ours: { run: Run; report: VerifyReport },
  theirs: Run,
  expected: { ok: boolean; codes?: string[]; openssl?: RegExp },
): void {
  assert.equal(theirs.code === 0, expected.ok, `openssl: ${theirs.stdout}${theirs.stderr}`);
  assert.equal(ours.report.ok, expected.ok, JSON.stringify(ours.report.problems));
  assert.equal(ours.run.code, expected.ok ? 0 : 1);
  assert.deepEqual(
    ours.report.problems.map((p) => p.code),
    expected.codes ?? [],
  );
  if (expected.openssl) assert.match(theirs.stdout + theirs.stderr, expected.openssl);
}

describe("verify: the same verdicts as openssl verify -x509_strict and Go's crypto/x509, with the cause named", () => {
  let dir: string;
  let makefileCa: Pair;
  let goodCa: Pair;
  let twinCa: Pair;
  let otherCa: Pair;
  let plugin: Pair;
  let goodPlugin: Pair;
  let clientOnly: Pair;
  let twinPlugin: Pair;
  let otherPlugin: Pair;

  before(() => {
    dir = tempDir();
    const source = writeFile(join(dir, "go-verifier", "main.go"), GO_VERIFIER);
    goVerifier = join(dir, "go-verifier", "verifier");
    const build = spawnSync("go", ["build", "-o", goVerifier, source], {
      encoding: "utf8",
      cwd: join(dir, "go-verifier"),
      env: { ...process.env, GO111MODULE: "off", GOFLAGS: "" },
    });
    assert.equal(build.status, 0, `go build: ${build.stderr}`);
    const caSubject = "/CN=ContextForge-CA/O=ContextForge/OU=Plugins";
    const sans = "subjectAltName=DNS:a,DNS:mcp-plugin-a,DNS:localhost";
    makefileCa = opensslCa(dir, "makefile-ca", caSubject, false);
    goodCa = opensslCa(dir, "good-ca", caSubject, true);
    // A second `make certs-mcp-ca` elsewhere: same name, different key.
    twinCa = opensslCa(dir, "twin-ca", caSubject, true);
    otherCa = opensslCa(dir, "other-ca", "/CN=Other-CA", true);
    plugin = opensslLeaf(dir, "makefile-plugin", makefileCa, "/CN=mcp-plugin-a/O=MCPGateway/OU=Plugins", [sans]);
    goodPlugin = opensslLeaf(dir, "good-plugin", goodCa, "/CN=mcp-plugin-a/O=MCPGateway/OU=Plugins", [sans]);
    clientOnly = opensslLeaf(dir, "client-only", goodCa, "/CN=mcp-gateway-client/O=MCPGateway/OU=Gateway", [
      "extendedKeyUsage=clientAuth",
      "keyUsage=critical,digitalSignature,keyEncipherment",
    ]);
    twinPlugin = opensslLeaf(dir, "twin-plugin", twinCa, "/CN=mcp-plugin-a/O=MCPGateway/OU=Plugins", [sans]);
    otherPlugin = opensslLeaf(dir, "other-plugin", otherCa, "/CN=mcp-plugin-a/O=MCPGateway/OU=Plugins", [sans]);
  });

  it("the Makefile's CA (no keyUsage): openssl accepts it only without -x509_strict, Python's strict client refuses it; verify names the missing keyUsage", async () => {
    assert.equal(
      openssl(["verify", "-CAfile", makefileCa.cert, plugin.cert]).code,
      0,
      "non-strict openssl should accept it",
    );
    agree(verify([plugin.cert, "--ca", makefileCa.cert], dir), verifyStrict(makefileCa.cert, plugin.cert), {
      ok: false,
      codes: ["ca-missing-key-usage"],
      openssl: /CA cert does not include key usage extension/,
    });
    // The gateway's own TLS stack: Python's ssl with VERIFY_X509_STRICT refuses the handshake for the same reason.
    const client = opensslLeaf(dir, "makefile-client", makefileCa, "/CN=mcp-gateway-client/O=MCPGateway/OU=Gateway", [
      "extendedKeyUsage=clientAuth",
    ]);
    const python = await pythonStrictClient(
      { cert: read(plugin.cert), key: read(plugin.key), ca: read(makefileCa.cert) },
      { certfile: client.cert, keyfile: client.key, cafile: makefileCa.cert },
      "localhost",
    );
    assert.notEqual(python.code, 0);
    assert.match(python.stderr, /CA cert does not include key usage extension/);
    // Go's crypto/x509 does not require keyUsage on a CA: only strict OpenSSL (Python 3.13's default) refuses it.
    assert.equal(goVerify(plugin.cert, makefileCa.cert, "localhost", "server").code, 0);
  });

  it("a fixed CA and the same server cert pass openssl, Go and Python's strict client, for a host the cert names", async () => {
    agree(
      verify([goodPlugin.cert, "--ca", goodCa.cert, "--host", "localhost"], dir),
      verifyStrict(goodCa.cert, goodPlugin.cert, ["-purpose", "sslserver", "-verify_hostname", "localhost"]),
      { ok: true },
    );
    assert.equal(goVerify(goodPlugin.cert, goodCa.cert, "localhost", "server").stdout, "ok\n");
    const server = { cert: read(goodPlugin.cert), key: read(goodPlugin.key), ca: read(goodCa.cert) };
    const client = { certfile: clientOnly.cert, keyfile: clientOnly.key, cafile: goodCa.cert };
    const python = await pythonStrictClient(server, client, "localhost");
    assert.equal(python.stdout.trim(), "hello", python.stderr);
    // ... and the same strict client refuses 127.0.0.1, which the cert does not name.
    assert.match((await pythonStrictClient(server, client, "127.0.0.1")).stderr, /IP address mismatch/);
  });

  it("a server cert without the host: no SAN matches 127.0.0.1, and the fix says --ip 127.0.0.1", () => {
    const ours = verify([goodPlugin.cert, "--ca", goodCa.cert, "--host", "127.0.0.1"], dir);
    agree(ours, verifyStrict(goodCa.cert, goodPlugin.cert, ["-purpose", "sslserver", "-verify_ip", "127.0.0.1"]), {
      ok: false,
      codes: ["host-mismatch"],
      openssl: /IP address mismatch/,
    });
    assert.match(ours.report.problems[0]!.message, /no SAN matches 127\.0\.0\.1/);
    assert.match(ours.report.problems[0]!.fix, /--ip 127\.0\.0\.1/);
    const text = cli(["verify", goodPlugin.cert, "--ca", goodCa.cert, "--host", "127.0.0.1"], dir);
    assert.equal(text.code, 1);
    assert.match(
      text.stdout,
      /^✗ no SAN matches 127\.0\.0\.1 \(SANs: DNS:a, DNS:mcp-plugin-a, DNS:localhost\): `mtls-certs renew a --ip 127\.0\.0\.1` re-issues it now with that name/m,
    );
    assert.match(
      goVerify(goodPlugin.cert, goodCa.cert, "127.0.0.1", "server").stdout,
      /not valid for 127\.0\.0\.1|doesn't contain any IP SANs/,
    );
  });

  it("a client cert (extendedKeyUsage clientAuth only) used as a server fails; as a client it passes", () => {
    agree(
      verify([clientOnly.cert, "--ca", goodCa.cert, "--purpose", "server"], dir),
      verifyStrict(goodCa.cert, clientOnly.cert, ["-purpose", "sslserver"]),
      {
        ok: false,
        codes: ["wrong-purpose"],
        openssl: /unsuitable certificate purpose/,
      },
    );
    agree(
      verify([clientOnly.cert, "--ca", goodCa.cert, "--purpose", "client"], dir),
      verifyStrict(goodCa.cert, clientOnly.cert, ["-purpose", "sslclient"]),
      { ok: true },
    );
    assert.match(goVerify(clientOnly.cert, goodCa.cert, "", "server").stdout, /incompatible key usage/);
    assert.equal(goVerify(clientOnly.cert, goodCa.cert, "", "client").stdout, "ok\n");
  });

  it("a cert from another CA with the same name (a second make certs-mcp-ca) is named as such", () => {
    agree(verify([twinPlugin.cert, "--ca", goodCa.cert], dir), verifyStrict(goodCa.cert, twinPlugin.cert), {
      ok: false,
      codes: ["bad-signature"],
      openssl: /error (7|20) /,
    });
    assert.match(goVerify(twinPlugin.cert, goodCa.cert, "", "server").stdout, /unknown authority/);
  });

  it("a cert from an unrelated CA: its issuer is not in the CA file", () => {
    agree(verify([otherPlugin.cert, "--ca", goodCa.cert], dir), verifyStrict(goodCa.cert, otherPlugin.cert), {
      ok: false,
      codes: ["unknown-issuer"],
      openssl: /unable to get local issuer certificate/,
    });
    assert.match(goVerify(otherPlugin.cert, goodCa.cert, "", "server").stdout, /unknown authority/);
  });

  it("an expired cert (made through the API's notBefore/notAfter, as OpenSSL 3.0's x509 cannot backdate)", async () => {
    const ca = await createMemoryCa({ keyType: "ecdsa-p256" });
    const now = Date.now();
    const old = await ca.issue({
      role: "server",
      name: "localhost",
      notBefore: new Date(now - 30 * DAY_MS),
      notAfter: new Date(now - 2 * DAY_MS),
    });
    const caFile = writeFile(join(dir, "mem-ca.crt"), ca.certPem);
    const certFile = writeFile(join(dir, "expired.crt"), old.certPem);
    const ours = verify([certFile, "--ca", caFile, "--host", "localhost"], dir);
    agree(ours, verifyStrict(caFile, certFile, ["-purpose", "sslserver", "-verify_hostname", "localhost"]), {
      ok: false,
      codes: ["expired"],
      openssl: /certificate has expired/,
    });
    assert.match(ours.report.problems[0]!.fix, /mtls-certs renew/);
    assert.match(goVerify(certFile, caFile, "localhost", "server").stdout, /expired/);
  });

  it("a chain through an intermediate sent after the leaf: passes with a proper intermediate, fails when it lacks keyUsage", () => {
    for (const [name, ku, ok] of [
      ["inter-good", "keyUsage=critical,keyCertSign,cRLSign", true],
      ["inter-no-ku", "", false],
    ] as const) {
      const inter = opensslLeaf(dir, name, goodCa, `/CN=${name}/O=ContextForge`, [
        "basicConstraints=critical,CA:TRUE,pathlen:0",
        ...(ku ? [ku] : []),
      ]);
      const leaf = opensslLeaf(dir, `${name}-leaf`, inter, "/CN=svc", [
        "subjectAltName=DNS:svc",
        "extendedKeyUsage=serverAuth",
      ]);
      const chainFile = writeFile(join(dir, `${name}-chain.pem`), read(leaf.cert) + read(inter.cert));
      const ours = verify([chainFile, "--ca", goodCa.cert, "--host", "svc"], dir);
      agree(
        ours,
        verifyStrict(goodCa.cert, leaf.cert, [
          "-purpose",
          "sslserver",
          "-verify_hostname",
          "svc",
          "-untrusted",
          inter.cert,
        ]),
        {
          ok,
          codes: ok ? [] : ["ca-missing-key-usage"],
          openssl: ok ? /OK/ : /CA cert does not include key usage extension/,
        },
      );
      assert.deepEqual(
        ours.report.chain.map((c) => [c.subject.split(",")[0], c.trusted]),
        [
          ["CN=svc", false],
          [`CN=${name}`, false],
          ["CN=ContextForge-CA", true],
        ],
      );
    }
  });

  it("--crl: a cert revoked by `openssl ca` fails as it does under openssl verify -crl_check; a cert not listed passes", () => {
    const revoked = opensslLeaf(dir, "revoked-plugin", goodCa, "/CN=mcp-plugin-r/O=MCPGateway/OU=Plugins", [
      "subjectAltName=DNS:r",
    ]);
    const db = join(dir, "crl-db");
    writeFile(join(db, "index.txt"), "");
    writeFile(join(db, "crlnumber"), "01\n");
    const config = writeFile(
      join(db, "ca.cnf"),
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}/index.txt\ncrlnumber = ${db}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n`,
    );
    must(
      openssl(["ca", "-config", config, "-keyfile", goodCa.key, "-cert", goodCa.cert, "-revoke", revoked.cert]),
      "revoke",
    );
    const crl = join(dir, "good-ca.crl");
    must(
      openssl(["ca", "-config", config, "-keyfile", goodCa.key, "-cert", goodCa.cert, "-gencrl", "-out", crl]),
      "gencrl",
    );
    const strictCrl = (cert: string) => verifyStrict(goodCa.cert, cert, ["-crl_check", "-CRLfile", crl]);
    agree(verify([revoked.cert, "--ca", goodCa.cert, "--crl", crl], dir), strictCrl(revoked.cert), {
      ok: false,
      codes: ["revoked"],
      openssl: /certificate revoked/,
    });
    agree(verify([goodPlugin.cert, "--ca", goodCa.cert, "--crl", crl], dir), strictCrl(goodPlugin.cert), { ok: true });
    // A CRL from another CA proves nothing about this cert.
    agree(
      verify([twinPlugin.cert, "--ca", twinCa.cert, "--crl", crl], dir),
      verifyStrict(twinCa.cert, twinPlugin.cert, ["-crl_check", "-CRLfile", crl]),
      {
        ok: false,
        codes: ["crl-not-from-issuer"],
        openssl: /CRL signature failure|unable to get certificate CRL/,
      },
    );
  });

  it("mtls-certs' own tree passes, with the ca.crt beside each cert as the default CA", () => {
    const treeDir = tempDir();
    must(cli(["all", "--key-type", "ecdsa-p256", "--quiet"], treeDir), "all");
    const server = join(treeDir, "certs/mcp/plugins/example-plugin-a/server.crt");
    const gateway = join(treeDir, "certs/mcp/gateway/client.crt");
    const ca = join(treeDir, "certs/mcp/ca/ca.crt");
    const s = verify([server, "--host", "example-plugin-a"], treeDir);
    agree(s, verifyStrict(ca, server, ["-purpose", "sslserver", "-verify_hostname", "example-plugin-a"]), { ok: true });
    assert.equal(s.report.ca, join(treeDir, "certs/mcp/plugins/example-plugin-a/ca.crt"));
    // A name in the tree works as the file does, as with fingerprint and revoke.
    const byName = verify(["example-plugin-a", "--host", "example-plugin-a"], treeDir);
    assert.deepEqual([byName.report.ok, byName.report.file], [true, server]);
    const g = verify([gateway], treeDir);
    assert.equal(g.report.purpose, "client", "the purpose follows the cert's extendedKeyUsage");
    agree(g, verifyStrict(ca, gateway, ["-purpose", "sslclient"]), { ok: true });
    assert.equal(goVerify(server, ca, "example-plugin-a", "server").stdout, "ok\n");
    assert.equal(goVerify(gateway, ca, "", "client").stdout, "ok\n");
  });

  it("a tree with an intermediate (ca --intermediate): the chain runs leaf, intermediate, root, all of it checked", () => {
    const treeDir = tempDir();
    must(cli(["ca", "--intermediate", "--key-type", "ecdsa-p256", "--quiet"], treeDir), "ca --intermediate");
    must(cli(["plugin", "p", "--key-type", "ecdsa-p256", "--quiet"], treeDir), "plugin");
    const server = join(treeDir, "certs/mcp/plugins/p/server.crt");
    const bundle = join(treeDir, "certs/mcp/plugins/p/ca.crt");
    const ours = verify(["p", "--host", "p"], treeDir);
    agree(ours, verifyStrict(bundle, server, ["-purpose", "sslserver", "-verify_hostname", "p"]), { ok: true });
    assert.deepEqual(
      ours.report.chain.map((c) => [c.subject.split(",")[0], c.trusted]),
      [
        ["CN=mcp-plugin-p", false],
        ["CN=ContextForge-CA Intermediate", true],
        ["CN=ContextForge-CA", true],
      ],
    );
    assert.equal(goVerify(server, bundle, "p", "server").stdout, "ok\n");
  });

  it("bad input is exit 2 with the file named; --json then prints the error document", () => {
    const r = cli(["verify", "--json", join(dir, "missing.crt"), "--ca", goodCa.cert], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing\.crt: cannot read the certificate/);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, "E_NOT_FOUND");
    const key = cli(["verify", goodPlugin.key, "--ca", goodCa.cert], dir);
    assert.equal(key.code, 2);
    assert.match(key.stderr, /holds no certificate/);
  });
});

describe("verify NAME checks the tree's own CRL (issue 13 §6)", () => {
  const EC = ["--key-type", "ecdsa-p256"];
  /** Our verdict on a name and openssl's on its file with -crl_check against the same CRL file. */
  function both(dir: string, tree: string, name: string, crl: string) {
    const ours = cli(["verify", name, "--out", tree, "--json"], dir);
    const file = join(tree, "plugins", name, "server.crt");
    const theirs = verifyStrict(join(tree, "plugins", name, "ca.crt"), file, ["-crl_check", "-CRLfile", crl]);
    return { ours, report: JSON.parse(ours.stdout) as VerifyReport, theirs };
  }

  it("a revoked leaf fails (exit 1) naming the date and the reason, as openssl verify -crl_check does; the others pass", () => {
    const dir = tempDir("mtls-verify-crl-");
    const tree = join(dir, "tree");
    for (const p of ["p1", "p2"]) must(cli(["plugin", p, ...EC, "--out", tree], dir), `plugin ${p}`);
    // No CRL yet: nothing was ever revoked, and nothing is reported missing.
    const before = cli(["verify", "p1", "--out", tree, "--json"], dir);
    assert.equal(before.code, 0, before.stdout);
    assert.equal((JSON.parse(before.stdout) as VerifyReport).crl, null);
    must(cli(["revoke", "p1", "--reason", "keyCompromise", "--out", tree], dir), "revoke p1");
    const crl = join(tree, "ca/ca.crl");

    const revoked = both(dir, tree, "p1", crl);
    assert.equal(revoked.theirs.code, 2, revoked.theirs.stdout);
    assert.match(revoked.theirs.stdout + revoked.theirs.stderr, /certificate revoked/);
    assert.equal(revoked.ours.code, 1, revoked.ours.stderr);
    assert.equal(revoked.report.crl, crl);
    assert.deepEqual(
      revoked.report.problems.map((p) => p.code),
      ["revoked"],
    );
    assert.match(
      revoked.report.problems[0]!.message,
      /^revoked \d{4}-\d\d-\d\dT[\d:.]+Z \(reason keyCompromise\) in .*ca\/ca\.crl$/,
    );
    const human = cli(["verify", "p1", "--out", tree], dir);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /revoked .*\(reason keyCompromise\)/);

    const fine = both(dir, tree, "p2", crl);
    assert.equal(fine.theirs.code, 0, fine.theirs.stdout + fine.theirs.stderr);
    assert.equal(fine.ours.code, 0, fine.ours.stdout);
    assert.equal(fine.report.crl, crl);
    // A file path is still checked against the CRL given, or none: the tree's applies to names.
    const asFile = cli(["verify", join(tree, "plugins/p1/server.crt"), "--json"], dir);
    assert.equal(asFile.code, 0, asFile.stdout);
  });

  it("during a CA rotation: ca/bundle.crl, whichever CA issued the cert", () => {
    const dir = tempDir("mtls-verify-crl-rot-");
    const tree = join(dir, "tree");
    for (const p of ["p1", "p2"]) must(cli(["plugin", p, ...EC, "--out", tree], dir), `plugin ${p}`);
    must(cli(["renew", "--ca", ...EC, "--out", tree], dir), "renew --ca");
    must(cli(["revoke", "p1", "--reason", "superseded", "--out", tree], dir), "revoke p1");
    const bundle = join(tree, "ca/bundle.crl");
    assert.equal(read(bundle).match(/BEGIN X509 CRL/g)?.length, 2, "both CAs' lists in bundle.crl");

    const revoked = both(dir, tree, "p1", bundle);
    assert.match(revoked.theirs.stdout + revoked.theirs.stderr, /certificate revoked/);
    assert.equal(revoked.ours.code, 1, revoked.ours.stdout);
    assert.equal(revoked.report.crl, bundle);
    assert.match(revoked.report.problems.map((p) => p.message).join("\n"), /\(reason superseded\) in .*bundle\.crl/);
    const fine = both(dir, tree, "p2", bundle);
    assert.equal(fine.theirs.code, 0, fine.theirs.stdout + fine.theirs.stderr);
    assert.equal(fine.ours.code, 0, fine.ours.stdout);
  });
});
