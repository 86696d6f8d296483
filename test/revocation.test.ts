/**
 * Revocation and fingerprints (issue 7): `revoke` and `crl` keep certs/mcp/ca/ca.crl, a v2 CRL
 * that openssl reads and that a real mutual-TLS server uses to refuse a revoked client;
 * `fingerprint` prints what openssl prints, and its SPKI pin is what curl --pinnedpubkey takes.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { join } from "node:path";
import {
  cli,
  mtlsHandshake,
  openssl,
  opensslSignedCert,
  read,
  runAsync,
  tempDir,
  verifyStrict,
  writeFile,
  type Run,
  opensslEcRequest,
} from "./helpers.js";
import { checkTree } from "../src/commands/check.js";

const DAY_MS = 86_400_000;

function crlText(path: string): string {
  const r = openssl(["crl", "-in", path, "-noout", "-text"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function serialOf(cert: string): string {
  return openssl(["x509", "-in", cert, "-noout", "-serial"]).stdout.trim().replace("serial=", "");
}

function crlNumber(text: string): number {
  return Number(text.match(/X509v3 CRL Number:\s*\n\s*(\d+)/)![1]);
}

const CLIENT_EXT = [
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature",
  "extendedKeyUsage=clientAuth",
];

describe("revoke and crl", () => {
  let dir: string;
  let tree: string;
  let caCert: string;
  let crl: string;
  let plugin: { cert: string; key: string };
  let gateway: { cert: string; key: string };
  let goodClient: { cert: string; key: string };
  let otherClient: { cert: string; key: string };

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    const r = cli(["all", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(r.code, 0, r.stderr);
    caCert = join(tree, "ca/ca.crt");
    crl = join(tree, "ca/ca.crl");
    plugin = {
      cert: join(tree, "plugins/example-plugin-a/server.crt"),
      key: join(tree, "plugins/example-plugin-a/server.key"),
    };
    gateway = { cert: join(tree, "gateway/client.crt"), key: join(tree, "gateway/client.key") };
    const ca = { cert: caCert, key: join(tree, "ca/ca.key") };
    goodClient = opensslSignedCert(dir, "good-client", ca, CLIENT_EXT);
    otherClient = opensslSignedCert(dir, "other-client", ca, CLIENT_EXT);
  });

  it("revoke gateway writes a v2 CRL signed by the CA, with CRL number 1, the serial, the reason and nextUpdate in 30 days", () => {
    const started = Date.now();
    const r = cli(["revoke", "gateway", "--reason", "keyCompromise", "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      revoked: { cert: string; serial: string };
      entries: Array<{ serial: string }>;
    };
    assert.match(doc.revoked.cert, /gateway\/client\.crt$/);
    // The same serial as openssl prints it (and as check, renew and inspect print it).
    assert.equal(doc.revoked.serial, serialOf(gateway.cert).replace(/^0+/, ""));
    assert.deepEqual(
      doc.entries.map((e) => e.serial),
      [doc.revoked.serial],
    );
    const text = crlText(crl);
    assert.match(text, /Version 2 \(0x1\)/);
    assert.equal(crlNumber(text), 1);
    assert.match(
      text,
      new RegExp(
        `Serial Number: ${serialOf(gateway.cert)}\\s*\\n\\s*Revocation Date:[^\\n]*\\n\\s*CRL entry extensions:\\s*\\n\\s*X509v3 CRL Reason Code:\\s*\\n\\s*Key Compromise`,
      ),
    );
    const nextUpdate = new Date(text.match(/Next Update: (.*)/)![1]!);
    assert.ok(
      Math.abs(nextUpdate.getTime() - (started + 30 * DAY_MS)) < 120_000,
      `nextUpdate ${nextUpdate.toISOString()}`,
    );
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.equal(
      openssl(["crl", "-in", crl, "-noout", "-CAfile", caCert]).code,
      0,
      "openssl verifies the CRL's signature with the CA",
    );
  });

  it("openssl verify -x509_strict -crl_check refuses the revoked cert and accepts the others", () => {
    const revoked = verifyStrict(caCert, gateway.cert, ["-crl_check", "-CRLfile", crl, "-purpose", "sslclient"]);
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.stdout + revoked.stderr, /certificate revoked/);
    const good = verifyStrict(caCert, plugin.cert, ["-crl_check", "-CRLfile", crl, "-purpose", "sslserver"]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
  });

  it("revoke takes a cert file; the CRL number goes up and the first entry stays", () => {
    const r = cli(["revoke", otherClient.cert, "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { crlNumber: number; entries: unknown[] };
    assert.equal(report.crlNumber, 2);
    const text = crlText(crl);
    assert.equal(crlNumber(text), 2);
    assert.match(text, new RegExp(`Serial Number: ${serialOf(gateway.cert)}`));
    assert.match(text, new RegExp(`Serial Number: ${serialOf(otherClient.cert)}`));
  });

  it("revoking a cert again changes nothing", () => {
    const before = read(crl);
    const r = cli(["revoke", "gateway", "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { alreadyRevoked: boolean }).alreadyRevoked, true);
    assert.equal(read(crl), before);
  });

  it("a real mutual-TLS server that loads the CRL refuses the revoked client and accepts a good one", async () => {
    const server = { cert: read(plugin.cert), key: read(plugin.key), ca: read(caCert) };
    const o = { servername: "example-plugin-a", crl: read(crl) };
    const good = await mtlsHandshake(
      server,
      { cert: read(goodClient.cert), key: read(goodClient.key), ca: read(caCert) },
      o,
    );
    assert.equal(good.ok, true, good.error);
    assert.equal(good.peerCn, "good-client");
    for (const revoked of [gateway, otherClient]) {
      const r = await mtlsHandshake(server, { cert: read(revoked.cert), key: read(revoked.key), ca: read(caCert) }, o);
      assert.equal(r.ok, false, `${revoked.cert} was accepted`);
    }
    // The same revoked client without the CRL gets in: the CRL is what refused it.
    const withoutCrl = await mtlsHandshake(
      server,
      { cert: read(gateway.cert), key: read(gateway.key), ca: read(caCert) },
      { servername: "example-plugin-a" },
    );
    assert.equal(withoutCrl.ok, true, withoutCrl.error);
  });

  it("crl re-signs with a fresh nextUpdate (--crl-days) and the next number, keeping every entry", () => {
    const started = Date.now();
    const r = cli(["crl", "--crl-days", "7"], dir);
    assert.equal(r.code, 0, r.stderr);
    const text = crlText(crl);
    assert.equal(crlNumber(text), 3);
    const nextUpdate = new Date(text.match(/Next Update: (.*)/)![1]!);
    assert.ok(
      Math.abs(nextUpdate.getTime() - (started + 7 * DAY_MS)) < 120_000,
      `nextUpdate ${nextUpdate.toISOString()}`,
    );
    assert.equal((text.match(/Serial Number:/g) ?? []).length, 2);
    assert.notEqual(verifyStrict(caCert, gateway.cert, ["-crl_check", "-CRLfile", crl]).code, 0);
  });

  it("check reports the revoked certs (status revoked, exit 1)", () => {
    const r = cli(["check", "--json"], dir);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as {
      certificates: Array<{ role: string; status: string; problems: string[] }>;
    };
    const gatewayEntry = report.certificates.find((c) => c.role === "gateway")!;
    assert.equal(gatewayEntry.status, "revoked");
    assert.match(gatewayEntry.problems.join("\n"), /^revoked .*keyCompromise/m);
    assert.ok(report.certificates.filter((c) => c.role === "plugin").every((c) => c.status === "ok"));
  });

  it("check reports a CRL past its nextUpdate on the CA", async () => {
    const report = await checkTree({ out: tree, now: new Date(Date.now() + 8 * DAY_MS) });
    const ca = report.certificates.find((c) => c.role === "ca")!;
    assert.equal(ca.status, "invalid");
    assert.match(ca.problems.join("\n"), /ca\.crl: past its nextUpdate .*mtls-certs crl/);
    // openssl agrees that the CRL has expired by then.
    const attime = String(Math.floor((Date.now() + 8 * DAY_MS) / 1000));
    const r = verifyStrict(caCert, plugin.cert, ["-crl_check", "-CRLfile", crl, "-attime", attime]);
    assert.match(r.stdout + r.stderr, /CRL has expired/);
  });

  it("revoke of a cert another CA signed is exit 2 and leaves the CRL alone", () => {
    const foreignCa = join(dir, "foreign-ca");
    assert.equal(
      opensslEcRequest(`${foreignCa}.key`, `${foreignCa}.crt`, ["-x509", "-subj", "/CN=Other CA", "-days", "30"]).code,
      0,
    );
    const foreign = opensslSignedCert(
      dir,
      "foreign",
      { cert: `${foreignCa}.crt`, key: `${foreignCa}.key` },
      CLIENT_EXT,
    );
    const before = read(crl);
    const r = cli(["revoke", foreign.cert], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not signed by this tree's CA/);
    assert.equal(read(crl), before);
  });

  it("bad input is exit 2 and names the value: an unknown name, an unknown reason, a bad --crl-days", () => {
    const before = read(crl);
    const unknown = cli(["revoke", "no-such-plugin"], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /"no-such-plugin"/);
    const reason = cli(["revoke", "example-plugin-b", "--reason", "bored"], dir);
    assert.equal(reason.code, 2);
    assert.match(reason.stderr, /--reason: "bored"/);
    const days = cli(["crl", "--crl-days", "0"], dir);
    assert.equal(days.code, 2);
    assert.match(days.stderr, /--crl-days/);
    assert.equal(read(crl), before);
  });
});

describe("a CRL the CA did not sign", () => {
  it("is refused by revoke and crl (exit 2, file untouched) and flagged by check", () => {
    const dir = tempDir();
    const other = tempDir();
    for (const d of [dir, other]) assert.equal(cli(["plugin", "p", "--key-type", "ecdsa-p256", "-q"], d).code, 0);
    assert.equal(cli(["crl"], other).code, 0);
    const foreign = read(join(other, "certs/mcp/ca/ca.crl"));
    const crl = writeFile(join(dir, "certs/mcp/ca/ca.crl"), foreign);
    for (const args of [["revoke", "p"], ["crl"]]) {
      const r = cli(args, dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /ca\.crl: not signed by the CA that signs this tree's certificates/);
      assert.equal(read(crl), foreign);
    }
    const check = cli(["check", "--json"], dir);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /ca\.crl: not signed by the CA that signs this tree's certificates/);
  });
});

describe("revocation across a CA rotation (renew --ca)", () => {
  it("the old CA's list moves to ca/previous/ca.crl on the next crl; check and openssl still see the revoked leaf", () => {
    const dir = tempDir();
    const tree = join(dir, "certs/mcp");
    assert.equal(cli(["all", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    assert.equal(cli(["revoke", "example-plugin-a"], dir).code, 0);
    writeFile(join(dir, "old.crl"), read(join(tree, "ca/ca.crl")));
    cli(["renew", "--ca", "--keep-leaves", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.ok(read(join(tree, "ca/previous/ca.crt")), "renew --ca keeps the old CA in ca/previous/");

    const stale = cli(["check", "--json"], dir);
    assert.equal(stale.code, 1);
    assert.match(stale.stdout, /still the rotated-out CA's list/);

    const r = cli(["crl"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /kept as .*ca\/previous\/ca\.crl \(1 revoked\)/);
    // The old list keeps its entries and is re-signed by the previous CA with the next number, so
    // both CAs' lists stay fresh while the bundles trust both (issue 13).
    const previousList = openssl(["crl", "-in", join(tree, "ca/previous/ca.crl"), "-noout", "-text"]).stdout;
    const oldSerial = openssl(["crl", "-in", join(dir, "old.crl"), "-noout", "-text"]).stdout.match(
      /Serial Number: (\S+)/,
    )![1]!;
    assert.ok(previousList.includes(oldSerial), previousList);
    assert.equal(
      openssl(["crl", "-in", join(tree, "ca/previous/ca.crl"), "-noout", "-CAfile", join(tree, "ca/previous/ca.crt")])
        .code,
      0,
      "the old list is the previous CA's",
    );
    assert.equal(
      openssl(["crl", "-in", join(tree, "ca/ca.crl"), "-noout", "-CAfile", join(tree, "ca/ca.crt")]).code,
      0,
      "the new list is the new CA's",
    );

    const after = JSON.parse(cli(["check", "--json"], dir).stdout) as {
      certificates: Array<{ name: string; status: string; problems: string[] }>;
    };
    assert.equal(after.certificates.find((c) => c.name === "ca")!.problems.length, 0);
    assert.equal(after.certificates.find((c) => c.name === "example-plugin-a")!.status, "revoked");
    // A peer that trusts both CAs during the rotation loads both lists: ca/bundle.crl holds them.
    const both = join(tree, "ca/bundle.crl");
    assert.equal(read(both), read(join(tree, "ca/ca.crl")) + read(join(tree, "ca/previous/ca.crl")));
    const v = (name: string) =>
      openssl([
        "verify",
        "-crl_check",
        "-CRLfile",
        both,
        "-CAfile",
        join(tree, "ca/bundle.crt"),
        join(tree, `plugins/${name}/server.crt`),
      ]);
    assert.match(v("example-plugin-a").stdout + v("example-plugin-a").stderr, /certificate revoked/);
    assert.equal(v("example-plugin-b").code, 0);
  });
});

/**
 * Python's ssl as the gateway uses it (strict verification) plus VERIFY_CRL_CHECK_LEAF, against a
 * node:tls server presenting `server`: prints "accepted" or the verify error.
 */
async function pythonCrlClient(
  server: { cert: string; key: string },
  caFile: string,
  crlFile: string,
  host: string,
): Promise<Run> {
  const srv = createTlsServer({ cert: read(server.cert), key: read(server.key) }, (s) => s.end("hello\n"));
  srv.on("tlsClientError", () => undefined);
  await new Promise<void>((res) => srv.listen(0, "127.0.0.1", res));
  const script = `
import ssl, socket, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_CRL_CHECK_LEAF
ctx.load_verify_locations(cafile=sys.argv[2])
try:
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[3]))), server_hostname=sys.argv[4]) as s:
        print("accepted", s.recv(6).decode().strip())
except ssl.SSLCertVerificationError as e:
    print("refused:", e.verify_message)
`;
  try {
    return await runAsync("python3", [
      "-c",
      script,
      caFile,
      crlFile,
      String((srv.address() as AddressInfo).port),
      host,
    ]);
  } finally {
    srv.close();
  }
}

describe("revocation seen from the gateway's side (Python ssl)", () => {
  it("with VERIFY_CRL_CHECK_LEAF and the CRL loaded, a revoked plugin cert is refused and a good one accepted", async () => {
    const dir = tempDir();
    const tree = join(dir, "certs/mcp");
    assert.equal(cli(["plugin", "kept", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    assert.equal(cli(["plugin", "dropped", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    const r = cli(["revoke", "dropped", "--reason", "superseded"], dir);
    assert.equal(r.code, 0, r.stderr);
    const leaf = (name: string) => ({
      cert: join(tree, `plugins/${name}/server.crt`),
      key: join(tree, `plugins/${name}/server.key`),
    });
    const good = await pythonCrlClient(leaf("kept"), join(tree, "ca/ca.crt"), join(tree, "ca/ca.crl"), "kept");
    assert.equal(good.stdout.trim(), "accepted hello", good.stderr);
    const revoked = await pythonCrlClient(leaf("dropped"), join(tree, "ca/ca.crt"), join(tree, "ca/ca.crl"), "dropped");
    assert.equal(revoked.stdout.trim(), "refused: certificate revoked", revoked.stderr);
  });
});

/** curl, without blocking the https server that answers it in this process. */
function curl(args: string[]): Promise<Run> {
  return runAsync("curl", ["--silent", "--show-error", "--max-time", "10", ...args]);
}

describe("fingerprint", () => {
  let dir: string;
  let cert: string;
  let caCert: string;
  let server: Server;
  let port: number;

  before(async () => {
    dir = tempDir();
    const r = cli(["plugin", "pinned", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(r.code, 0, r.stderr);
    cert = join(dir, "certs/mcp/plugins/pinned/server.crt");
    caCert = join(dir, "certs/mcp/ca/ca.crt");
    server = createServer(
      { cert: read(cert), key: read(join(dir, "certs/mcp/plugins/pinned/server.key")) },
      (_req, res) => res.end("pinned ok\n"),
    );
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server?.close());

  it("prints the SHA-256 fingerprint exactly as openssl x509 -fingerprint -sha256 does", () => {
    const ours = cli(["fingerprint", cert], dir);
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = openssl(["x509", "-in", cert, "-noout", "-fingerprint", "-sha256"]).stdout.trim();
    assert.match(theirs, /^sha256 Fingerprint=/i);
    assert.ok(ours.stdout.includes(theirs), `${ours.stdout} lacks ${theirs}`);
    // A name in the tree gives the same answer as the file.
    assert.ok(cli(["fingerprint", "pinned"], dir).stdout.includes(theirs));
  });

  it("--json gives the SPKI pin that openssl computes from the public key", () => {
    const r = cli(["fingerprint", "pinned", "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { sha256: string; spkiPin: string };
    const der = openssl(["x509", "-in", cert, "-noout", "-pubkey"]).stdout;
    const spki = openssl(["pkey", "-pubin", "-outform", "DER", "-out", join(dir, "spki.der")], der);
    assert.equal(spki.code, 0, spki.stderr);
    const digest = openssl(["dgst", "-sha256", "-binary", "-out", join(dir, "spki.sha256"), join(dir, "spki.der")]);
    assert.equal(digest.code, 0, digest.stderr);
    const expected = "sha256//" + readFileSync(join(dir, "spki.sha256")).toString("base64");
    assert.equal(report.spkiPin, expected);
  });

  it("curl --pinnedpubkey connects with the pin and refuses a wrong one", async () => {
    const { spkiPin } = JSON.parse(cli(["fingerprint", "pinned", "--json"], dir).stdout) as { spkiPin: string };
    const url = `https://localhost:${port}/`;
    const ok = await curl(["--cacert", caCert, "--pinnedpubkey", spkiPin, url]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "pinned ok\n");
    const { spkiPin: caPin } = JSON.parse(cli(["fingerprint", "ca", "--json"], dir).stdout) as { spkiPin: string };
    const wrong = await curl(["--cacert", caCert, "--pinnedpubkey", caPin, url]);
    assert.equal(wrong.code, 90, `curl exit ${wrong.code}: ${wrong.stderr}`); // CURLE_SSL_PINNEDPUBKEYNOTMATCH
  });

  it("a file that is not a certificate is exit 2", () => {
    const junk = writeFile(join(dir, "junk.crt"), "not a cert\n");
    const r = cli(["fingerprint", junk], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /junk\.crt: not a PEM certificate/);
  });
});
