/**
 * More leaf kinds (issue 7): named servers and clients, the gateway's own HTTPS cert and JWT
 * keys, and the intermediate CA. Checked by openssl, curl, node:tls and Python's ssl.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, renameSync, statSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { join } from "node:path";
import {
  cli,
  leafEnd,
  mtlsHandshake,
  openssl,
  pluginConfig,
  pythonStrictClient,
  read,
  runAsync,
  tempDir,
  verifyStrict,
  writeFile,
  x509Text,
  type Run,
} from "./helpers.js";

const FAST = ["--key-type", "rsa2048", "-q"];
const DAY_MS = 86_400_000;

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** An HTTPS server on 127.0.0.1 that answers with the client cert's CN ("anonymous" without one). */
async function withHttpsServer<T>(
  o: { cert: string; key: string; ca?: string; requireClientCert?: boolean },
  work: (port: number) => Promise<T>,
): Promise<T> {
  const server = https.createServer(
    {
      cert: o.cert,
      key: o.key,
      ca: o.ca,
      requestCert: Boolean(o.requireClientCert),
      rejectUnauthorized: Boolean(o.requireClientCert),
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`hello ${peer?.subject?.CN ?? "anonymous"}\n`);
    },
  );
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  try {
    return await work((server.address() as AddressInfo).port);
  } finally {
    server.close();
  }
}

function sansOf(certPath: string): string {
  return openssl(["x509", "-in", certPath, "-noout", "-ext", "subjectAltName"]).stdout;
}

describe("server and client: named leaves for proxies and API clients (seed 003)", () => {
  let dir: string;
  let tree: string;
  let server: string;
  let admin: string;
  const runs: Record<string, Run> = {};

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    server = join(tree, "servers/gateway.local");
    admin = join(tree, "clients/admin");
    runs.server = cli(["server", "gateway.local", "--san", "api.example.com", "--ip", "127.0.0.1", ...FAST], dir);
    runs.client = cli(["client", "admin", "--cn", "admin@example.com", "--json", ...FAST], dir);
    runs.plainClient = cli(["client", "backend-prod", ...FAST], dir);
  });

  it("server writes servers/<name>/{server.key,server.crt,ca.crt}, key 600", () => {
    assert.equal(runs.server!.code, 0, runs.server!.stderr);
    assert.deepEqual(readdirSync(server).sort(), ["ca.crt", "server.crt", "server.key"]);
    assert.equal(mode(join(server, "server.key")), "600");
    assert.equal(mode(join(server, "server.crt")), "644");
    assert.equal(read(join(server, "ca.crt")), read(join(tree, "ca/ca.crt")));
  });

  it("the server cert is serverAuth with SANs name + --san + --ip, and passes openssl verify -x509_strict -purpose sslserver", () => {
    const text = x509Text(join(server, "server.crt"));
    assert.match(text, /Extended Key Usage: *\n *TLS Web Server Authentication\n/);
    assert.match(
      sansOf(join(server, "server.crt")),
      /DNS:gateway\.local, DNS:api\.example\.com, IP Address:127\.0\.0\.1\n/,
    );
    const ok = verifyStrict(join(server, "ca.crt"), join(server, "server.crt"), ["-purpose", "sslserver"]);
    assert.equal(ok.code, 0, ok.stderr);
    // A server cert must not pass as a client cert.
    assert.notEqual(
      verifyStrict(join(server, "ca.crt"), join(server, "server.crt"), ["-purpose", "sslclient"]).code,
      0,
    );
  });

  it("the server's name and IP pass Python's strict hostname check", async () => {
    for (const host of ["gateway.local", "127.0.0.1", "api.example.com"]) {
      const r = await pythonStrictClient(
        {
          cert: read(join(server, "server.crt")),
          key: read(join(server, "server.key")),
          ca: read(join(admin, "ca.crt")),
        },
        { certfile: join(admin, "client.crt"), keyfile: join(admin, "client.key"), cafile: join(server, "ca.crt") },
        host,
      );
      assert.equal(r.code, 0, `${host}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), "hello");
    }
    const wrong = await pythonStrictClient(
      {
        cert: read(join(server, "server.crt")),
        key: read(join(server, "server.key")),
        ca: read(join(admin, "ca.crt")),
      },
      { certfile: join(admin, "client.crt"), keyfile: join(admin, "client.key"), cafile: join(server, "ca.crt") },
      "other.example.com",
    );
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /[Hh]ostname mismatch|doesn't match/);
  });

  it("client writes clients/<name>/{client.key,client.crt,client.pem,ca.crt}; an e-mail CN gets an rfc822Name SAN", () => {
    assert.equal(runs.client!.code, 0, runs.client!.stderr);
    assert.deepEqual(readdirSync(admin).sort(), ["ca.crt", "client.crt", "client.key", "client.pem"]);
    const subject = openssl([
      "x509",
      "-in",
      join(admin, "client.crt"),
      "-noout",
      "-subject",
      "-nameopt",
      "RFC2253",
    ]).stdout;
    assert.equal(subject.trim(), "subject=OU=Clients,O=MCPGateway,CN=admin@example.com");
    assert.match(sansOf(join(admin, "client.crt")), /email:admin@example\.com\n/);
    assert.match(x509Text(join(admin, "client.crt")), /Extended Key Usage: *\n *TLS Web Client Authentication\n/);
    const ok = verifyStrict(join(admin, "ca.crt"), join(admin, "client.crt"), ["-purpose", "sslclient"]);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(runs.client!.stdout) as {
      certificates: Array<{ role: string; name: string; action: string; sans: string[] }>;
    };
    assert.deepEqual(
      report.certificates.map((c) => [c.role, c.name, c.action]),
      [
        ["ca", "ca", "kept"],
        ["client", "admin", "created"],
      ],
    );
    assert.deepEqual(report.certificates[1]!.sans, ["email:admin@example.com"]);
  });

  it("the CN defaults to the name, with no SAN", () => {
    const crt = join(tree, "clients/backend-prod/client.crt");
    assert.equal(runs.plainClient!.code, 0, runs.plainClient!.stderr);
    assert.match(openssl(["x509", "-in", crt, "-noout", "-subject"]).stdout, /CN = backend-prod/);
    assert.doesNotMatch(x509Text(crt), /Subject Alternative Name/);
  });

  it("client.pem is the cert then the key, mode 600", () => {
    const pem = read(join(admin, "client.pem"));
    assert.equal(mode(join(admin, "client.pem")), "600");
    assert.equal(pem, read(join(admin, "client.crt")) + read(join(admin, "client.key")));
  });

  it("curl --cert client.pem gets through a server that requires client certs; without it, it does not", async () => {
    await withHttpsServer({ ...leafEnd(server, "server"), requireClientCert: true }, async (port) => {
      const url = `https://gateway.local:${port}/health`;
      const resolve = ["--resolve", `gateway.local:${port}:127.0.0.1`];
      const withCert = await runAsync("curl", [
        "-sS",
        "--fail",
        ...resolve,
        "--cacert",
        join(admin, "ca.crt"),
        "--cert",
        join(admin, "client.pem"),
        url,
      ]);
      assert.equal(withCert.code, 0, withCert.stderr);
      assert.equal(withCert.stdout, "hello admin@example.com\n");
      const without = await runAsync("curl", ["-sS", "--fail", ...resolve, "--cacert", join(admin, "ca.crt"), url]);
      assert.notEqual(without.code, 0);
    });
  });

  it("a second run keeps every file and says so", () => {
    const before = read(join(server, "server.crt"));
    const again = cli(["server", "gateway.local", "--san", "api.example.com", "--ip", "127.0.0.1", ...FAST], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /kept +server +gateway\.local/);
    assert.equal(read(join(server, "server.crt")), before);
  });

  it("bad input is exit 2 naming the flag and value, and writes nothing", () => {
    const cases: Array<[string[], RegExp]> = [
      [["server", "s1", "--ip", "300.1.2.3"], /--ip: "300\.1\.2\.3" is not an IP address/],
      [["server", "s1", "--san", "a..b"], /--san: "a\.\.b" is not a valid DNS name/],
      [["server", "s1", "--san", "a.*.example.com"], /--san: "a\.\*\.example\.com" is not a valid DNS name/],
      [["server", "../s1"], /server name: "\.\.\/s1" is not a safe name/],
      [["client", "c1", "--cn", "bob@"], /--cn: "bob@" is not an e-mail address|--cn: "" is not a valid DNS name/],
      [["client", "c1", "--cn", "x".repeat(65)], /--cn: "x{65}" is not a usable common name/],
      [["server", "s1", "--key-type", "rsa1024"], /--key-type: unknown key type "rsa1024"/],
    ];
    const fresh = tempDir();
    for (const [args, message] of cases) {
      const r = cli([...args, "-q"], fresh);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(existsSync(join(fresh, "certs/mcp/ca")), false, "nothing written");
    assert.equal(existsSync(join(tree, "servers/s1")), false);
  });
});

describe("https: the gateway's own serve-ssl cert (make certs)", () => {
  let dir: string;
  let certs: string;
  let run: Run;

  before(() => {
    dir = tempDir();
    certs = join(dir, "certs");
    run = cli(["https", "--san", "gateway.example.com", "--ip", "::1", ...FAST], dir);
  });

  it("writes certs/cert.pem and certs/key.pem outside certs/mcp, key mode 640", () => {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(mode(join(certs, "key.pem")), "640");
    assert.equal(mode(join(certs, "cert.pem")), "644");
    assert.equal(existsSync(join(certs, "mcp")), false, "a self-signed cert makes no tree");
  });

  it("is CN=localhost with DNS:localhost, IP:127.0.0.1 and the extras, for 365 days", () => {
    const cert = join(certs, "cert.pem");
    assert.match(openssl(["x509", "-in", cert, "-noout", "-subject"]).stdout, /subject=CN = localhost\n/);
    assert.match(
      sansOf(cert),
      /DNS:localhost, IP Address:127\.0\.0\.1, DNS:gateway\.example\.com, IP Address:0:0:0:0:0:0:0:1\n/,
    );
    const dates = openssl(["x509", "-in", cert, "-noout", "-startdate", "-enddate"]).stdout;
    const get = (k: string) => new Date(dates.match(new RegExp(`${k}=(.*)`))![1]!).getTime();
    assert.ok(Math.abs(get("notAfter") - Date.now() - 365 * DAY_MS) < 60_000, dates);
  });

  it("is self-signed and passes openssl verify -x509_strict -purpose sslserver against itself", () => {
    const cert = join(certs, "cert.pem");
    assert.equal(
      openssl(["x509", "-in", cert, "-noout", "-subject"]).stdout.replace("subject", "issuer"),
      openssl(["x509", "-in", cert, "-noout", "-issuer"]).stdout,
    );
    const r = verifyStrict(cert, cert, ["-purpose", "sslserver"]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("curl trusts it for https://localhost and https://127.0.0.1", async () => {
    await withHttpsServer({ cert: read(join(certs, "cert.pem")), key: read(join(certs, "key.pem")) }, async (port) => {
      for (const url of [`https://localhost:${port}/`, `https://127.0.0.1:${port}/`]) {
        const r = await runAsync("curl", [
          "-sS",
          "--fail",
          "--resolve",
          `localhost:${port}:127.0.0.1`,
          "--cacert",
          join(certs, "cert.pem"),
          url,
        ]);
        assert.equal(r.code, 0, `${url}: ${r.stderr}`);
        assert.equal(r.stdout, "hello anonymous\n");
      }
    });
  });

  it("--days sets the validity; MCP_CERT_DAYS does not apply", () => {
    const other = tempDir();
    const r = cli(["https", ...FAST], other, { MCP_CERT_DAYS: "30" });
    assert.equal(r.code, 0, r.stderr);
    const end = new Date(
      openssl(["x509", "-in", join(other, "certs/cert.pem"), "-noout", "-enddate"]).stdout.split("=")[1]!,
    ).getTime();
    assert.ok(Math.abs(end - Date.now() - 365 * DAY_MS) < 60_000);
    const days = cli(["https", "--days", "10", "--dir", "short", ...FAST], other);
    assert.equal(days.code, 0, days.stderr);
    const shortEnd = new Date(
      openssl(["x509", "-in", join(other, "short/cert.pem"), "-noout", "-enddate"]).stdout.split("=")[1]!,
    ).getTime();
    assert.ok(Math.abs(shortEnd - Date.now() - 10 * DAY_MS) < 60_000);
  });

  it("--group sets key.pem's group where permitted, and warns where not", () => {
    const other = tempDir();
    const root = process.getuid?.() === 0;
    const gid = root ? 4242 : process.getgid!();
    const r = cli(["https", "--group", String(gid), ...FAST], other);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(join(other, "certs/key.pem")).gid, gid);
    assert.equal(mode(join(other, "certs/key.pem")), "640");
    if (!root) {
      const refused = cli(["https", "--group", "0", "--dir", "g0", ...FAST], other);
      assert.equal(refused.code, 0, refused.stderr);
      assert.match(refused.stderr, /not changed to group 0/);
    }
    assert.equal(cli(["https", "--group", "-1", "--dir", "bad", ...FAST], other).code, 2);
  });

  it("--ca signs it with the tree's CA; without a CA it is exit 2", () => {
    const other = tempDir();
    const missing = cli(["https", "--ca", ...FAST], other);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ca\.crt: missing/);
    assert.equal(existsSync(join(other, "certs")), false, "nothing written");
    assert.equal(cli(["ca", ...FAST], other).code, 0);
    const r = cli(["https", "--ca", ...FAST], other);
    assert.equal(r.code, 0, r.stderr);
    const ok = verifyStrict(join(other, "certs/mcp/ca/ca.crt"), join(other, "certs/cert.pem"), [
      "-purpose",
      "sslserver",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(mode(join(other, "certs/key.pem")), "640");
  });
});

describe("jwt: the gateway's JWT signing keys (make certs-jwt, certs-jwt-ecdsa)", () => {
  let dir: string;
  let jwt: string;
  const data = (): string => writeFile(join(dir, "payload.txt"), "header.payload");

  before(() => {
    dir = tempDir();
    jwt = join(dir, "certs/jwt");
    assert.equal(cli(["jwt", "-q"], dir).code, 0);
    assert.equal(cli(["jwt", "--ecdsa", "-q"], dir).code, 0);
  });

  it("writes private.pem (RSA 4096, 600) + public.pem (644) and ec_private.pem (P-256) + ec_public.pem", () => {
    assert.deepEqual(readdirSync(jwt).sort(), ["ec_private.pem", "ec_public.pem", "private.pem", "public.pem"]);
    assert.equal(mode(join(jwt, "private.pem")), "600");
    assert.equal(mode(join(jwt, "ec_private.pem")), "600");
    assert.equal(mode(join(jwt, "public.pem")), "644");
    assert.equal(mode(join(jwt, "ec_public.pem")), "644");
    assert.match(
      openssl(["pkey", "-in", join(jwt, "private.pem"), "-noout", "-text"]).stdout,
      /Private-Key: \(4096 bit/,
    );
    assert.match(openssl(["pkey", "-in", join(jwt, "ec_private.pem"), "-noout", "-text"]).stdout, /NIST CURVE: P-256/);
  });

  for (const [name, priv, pub] of [
    ["RS256", "private.pem", "public.pem"],
    ["ES256", "ec_private.pem", "ec_public.pem"],
  ] as const) {
    it(`${name}: a signature made with ${priv} verifies with ${pub} (openssl dgst), a tampered payload does not`, () => {
      const payload = data();
      const sig = join(dir, `${name}.sig`);
      const signed = openssl(["dgst", "-sha256", "-sign", join(jwt, priv), "-out", sig, payload]);
      assert.equal(signed.code, 0, signed.stderr);
      const ok = openssl(["dgst", "-sha256", "-verify", join(jwt, pub), "-signature", sig, payload]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /Verified OK/);
      writeFile(payload, "header.tampered");
      const bad = openssl(["dgst", "-sha256", "-verify", join(jwt, pub), "-signature", sig, payload]);
      assert.notEqual(bad.code, 0);
    });
  }

  it("a second run keeps both keys; a lost public key is derived again from the private key", () => {
    const privateBefore = read(join(jwt, "private.pem"));
    const publicBefore = read(join(jwt, "public.pem"));
    renameSync(join(jwt, "public.pem"), join(dir, "public.old"));
    const r = cli(["jwt", "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { keys: Array<{ role: string; action: string }> };
    assert.deepEqual(
      report.keys.map((k) => [k.role, k.action]),
      [
        ["jwt-private", "kept"],
        ["jwt-public", "created"],
      ],
    );
    assert.equal(read(join(jwt, "private.pem")), privateBefore);
    assert.equal(read(join(jwt, "public.pem")), publicBefore);
  });
});

describe("ca --intermediate: a root plus an intermediate that signs every leaf (seed 003's chain)", () => {
  let dir: string;
  let tree: string;
  let ca: string;
  let plugin: string;
  let gateway: string;

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    ca = join(tree, "ca");
    plugin = join(tree, "plugins/ChainPlugin");
    gateway = join(tree, "gateway");
    writeFile(
      join(dir, "plugins/external/config.yaml"),
      pluginConfig([{ name: "ChainPlugin", url: "https://127.0.0.1:8000/mcp" }]),
    );
    const made = cli(["ca", "--intermediate", ...FAST], dir);
    assert.equal(made.code, 0, made.stderr);
    const all = cli(["all", ...FAST], dir);
    assert.equal(all.code, 0, all.stderr);
  });

  it("the intermediate is a CA with pathlen 0 and keyCertSign, signed by the root", () => {
    const text = x509Text(join(ca, "intermediate.crt"));
    assert.match(text, /Basic Constraints: critical\n *CA:TRUE, pathlen:0\n/);
    assert.match(text, /Key Usage: critical\n *Certificate Sign, CRL Sign\n/);
    const r = verifyStrict(join(ca, "ca.crt"), join(ca, "intermediate.crt"));
    assert.equal(r.code, 0, r.stderr);
  });

  it("every leaf verifies with openssl verify -x509_strict -untrusted intermediate.crt, and not without it", () => {
    for (const [leaf, purpose] of [
      [join(plugin, "server.crt"), "sslserver"],
      [join(gateway, "client.crt"), "sslclient"],
    ] as const) {
      const ok = verifyStrict(join(ca, "ca.crt"), leaf, [
        "-purpose",
        purpose,
        "-untrusted",
        join(ca, "intermediate.crt"),
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.notEqual(
        verifyStrict(join(ca, "ca.crt"), leaf, ["-purpose", purpose]).code,
        0,
        "signed by the intermediate, not the root",
      );
    }
  });

  it("every ca.crt copy is the chain: intermediate, then root", () => {
    const chain = read(join(ca, "intermediate.crt")) + read(join(ca, "ca.crt"));
    assert.equal(read(join(ca, "bundle.crt")), chain);
    assert.equal(read(join(plugin, "ca.crt")), chain);
    assert.equal(read(join(gateway, "ca.crt")), chain);
  });

  it("a real mutual-TLS handshake goes through the chain (node:tls, then Python strict against 127.0.0.1)", async () => {
    const result = await mtlsHandshake(leafEnd(plugin, "server"), leafEnd(gateway, "client"), {
      servername: "ChainPlugin",
    });
    assert.deepEqual(result, { ok: true, peerCn: "mcp-gateway-client" });
    const py = await pythonStrictClient(
      leafEnd(plugin, "server"),
      { certfile: join(gateway, "client.crt"), keyfile: join(gateway, "client.key"), cafile: join(gateway, "ca.crt") },
      "127.0.0.1",
    );
    assert.equal(py.code, 0, py.stderr);
  });

  it("with the root key offline, leaves are still issued and check is all ok, the intermediate listed", () => {
    renameSync(join(ca, "ca.key"), join(dir, "root-offline.key"));
    const client = cli(["client", "ops", ...FAST], dir);
    assert.equal(client.code, 0, client.stderr);
    const ok = verifyStrict(join(ca, "ca.crt"), join(tree, "clients/ops/client.crt"), [
      "-purpose",
      "sslclient",
      "-untrusted",
      join(ca, "intermediate.crt"),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const check = cli(["check", "--json"], dir);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const report = JSON.parse(check.stdout) as { certificates: Array<{ role: string; status: string }> };
    assert.deepEqual(report.certificates.map((c) => c.role).slice(0, 2), ["ca", "intermediate"]);
    assert.ok(
      report.certificates.every((c) => c.status === "ok"),
      check.stdout,
    );
  });

  it("https --ca under the intermediate: cert.pem is leaf + intermediate, so curl trusting only the root connects", async () => {
    const r = cli(["https", "--ca", ...FAST], dir);
    assert.equal(r.code, 0, r.stderr);
    const certPem = join(dir, "certs/cert.pem");
    const blocks = read(certPem).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
    assert.equal(blocks.length, 2);
    assert.equal(blocks[1], read(join(ca, "intermediate.crt")));
    const strict = verifyStrict(join(ca, "ca.crt"), certPem, [
      "-purpose",
      "sslserver",
      "-untrusted",
      certPem,
      "-verify_hostname",
      "localhost",
    ]);
    assert.equal(strict.code, 0, strict.stderr);
    await withHttpsServer({ cert: read(certPem), key: read(join(dir, "certs/key.pem")) }, async (port) => {
      const curl = await runAsync("curl", [
        "-sS",
        "--fail",
        "--resolve",
        `localhost:${port}:127.0.0.1`,
        "--cacert",
        join(ca, "ca.crt"),
        `https://localhost:${port}/`,
      ]);
      assert.equal(curl.code, 0, curl.stderr);
    });
    const check = JSON.parse(cli(["check", "--json"], dir).stdout) as {
      certificates: Array<{ role: string; status: string; signedBy: string }>;
    };
    assert.deepEqual(
      check.certificates.filter((c) => c.role === "https").map((c) => [c.status, c.signedBy]),
      [["ok", "intermediate"]],
    );
  });

  it("a second `ca --intermediate` keeps both; adding an intermediate to a root-only tree is exit 2", () => {
    const again = cli(["ca", "--intermediate", "--json", ...FAST], dir);
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout) as { certificates: Array<{ role: string; action: string }> };
    assert.deepEqual(
      report.certificates.map((c) => [c.role, c.action]),
      [
        ["ca", "kept"],
        ["intermediate", "kept"],
      ],
    );
    const other = tempDir();
    assert.equal(cli(["ca", ...FAST], other).code, 0);
    const refused = cli(["ca", "--intermediate", ...FAST], other);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already has a CA without an intermediate/);
    assert.equal(existsSync(join(other, "certs/mcp/ca/intermediate.crt")), false);
  });
});

describe("the default profile for server and client: RSA 4096, sha256WithRSAEncryption", () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    assert.equal(cli(["server", "api", "-q"], dir).code, 0);
    assert.equal(cli(["client", "alice", "-q"], dir).code, 0);
  });

  for (const path of ["ca/ca.crt", "servers/api/server.crt", "clients/alice/client.crt"]) {
    it(`${path} has a 4096-bit RSA key and a SHA-256 RSA signature`, () => {
      const text = x509Text(join(dir, "certs/mcp", path));
      assert.match(text, /Public-Key: \(4096 bit\)/);
      assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    });
  }

  it("the keys on disk are RSA 4096 (openssl pkey)", () => {
    for (const key of ["servers/api/server.key", "clients/alice/client.key"]) {
      assert.match(
        openssl(["pkey", "-in", join(dir, "certs/mcp", key), "-noout", "-text"]).stdout,
        /Private-Key: \(4096 bit/,
      );
    }
    assert.ok(readFileSync(join(dir, "certs/mcp/clients/alice/client.pem"), "utf8").includes("BEGIN PRIVATE KEY"));
  });
});
