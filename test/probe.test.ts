/**
 * `probe` dials every plugin as the gateway does. One real server per failure reason, each run
 * pinned to TLS 1.2 and again to TLS 1.3 where TLS is reached: openssl s_server, Python's ssl,
 * plain Python sockets for what is not TLS. One shared tree, all servers at once, one probe run.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { stackUrl } from "../src/commands/probe/targets.js";
import { cli, freePort, openssl, opensslSignedCert, tempDir, waitForPort, writeFile, type Run } from "./helpers.js";

const VERSIONS = ["12", "13"] as const;
type Version = (typeof VERSIONS)[number];

/** A TLS server in Python's ssl module: client certs required, optional or not asked for. */
const PYTHON_SERVER = `
import socket, ssl, sys, threading
port, cert, key, cafile, mode, version = sys.argv[1:7]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(cafile)
ctx.verify_mode = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}[mode]
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if version == "12" else ssl.TLSVersion.TLSv1_3
srv = socket.create_server(("127.0.0.1", int(port)))
def serve(raw):
    try:
        with ctx.wrap_socket(raw, server_side=True) as s:
            s.recv(4096)
            s.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
    except Exception:
        pass
while True:
    raw, _ = srv.accept()
    threading.Thread(target=serve, args=(raw,), daemon=True).start()
`;

/** Not TLS: a port that takes connections and never speaks, or hangs up at once. */
const PYTHON_SOCKET = `
import socket, sys, time
srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))
if sys.argv[2] == "silent":
    time.sleep(3600)
while True:
    raw, _ = srv.accept()
    raw.close()
`;

/** A gRPC server as cpex's runtime builds it (python3-grpcio): client certs required or not. */
const GRPC_SERVER = `
import sys, time
from concurrent import futures
import grpc
port, cert, key, ca, require = sys.argv[1:6]
def read(path):
    with open(path, "rb") as f: return f.read()
creds = grpc.ssl_server_credentials([(read(key), read(cert))], root_certificates=read(ca), require_client_auth=require == "require")
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
server.add_secure_port("127.0.0.1:" + port, creds)
server.start()
time.sleep(3600)
`;

interface Plugin {
  name: string;
  /** A gRPC entry: \`grpc.target\` (or \`grpc.uds\` when it starts with /) instead of \`mcp.url\`. */
  grpc?: string;
  /** The URL host; default localhost. */
  host?: string;
  url?: string | null;
  /** How to start its server, given its port; undefined: nothing listens. */
  start?: (port: number) => [string, string[]];
  expect: string;
}

describe("probe: one real server per reason, with TLS 1.2 and 1.3", () => {
  const dir = tempDir();
  const tree = join(dir, "certs/mcp");
  const servers: ChildProcess[] = [];
  let run: Run;
  let results: Map<
    string,
    { reason: string; message: string; fix: string | null; tls: Record<string, unknown> | null }
  >;
  let plugins: Plugin[] = [];
  const ports = new Map<string, number>();

  before(async () => {
    // The plugin server's cert, key and the CA: whose, and how each server is set up.
    const caFile = join(tree, "ca/ca.crt");
    const leaf = (name: string) => [
      "-cert",
      join(tree, "plugins", name, "server.crt"),
      "-key",
      join(tree, "plugins", name, "server.key"),
    ];
    /** openssl s_server pinned to one TLS version (`-tls1_2`), answering HTTP (`-www`). */
    const sServer =
      (cert: string[], version: string, ...extra: string[]) =>
      (port: number) =>
        ["openssl", ["s_server", "-quiet", "-www", "-accept", String(port), version, ...cert, ...extra]] as [
          string,
          string[],
        ];
    const tls = (v: Version) => (v === "12" ? "-tls1_2" : "-tls1_3");
    const python = (cert: string[], cafile: string, mode: string, v: Version) => (port: number) =>
      ["python3", ["-c", PYTHON_SERVER, String(port), cert[1]!, cert[3]!, cafile, mode, v]] as [string, string[]];
    const grpcServer = (name: string, clientAuth: string) => (port: number) =>
      ["/usr/bin/python3", ["-c", GRPC_SERVER, String(port), leaf(name)[1]!, leaf(name)[3]!, caFile, clientAuth]] as [
        string,
        string[],
      ];
    const otherCa = { cert: join(dir, "other-ca.crt"), key: join(dir, "other-ca.key") };
    const bad = (file: string) => ["-cert", join(dir, `${file}.crt`), "-key", join(dir, `${file}.key`)];

    plugins = [
      { name: "refused", expect: "connection-refused" },
      { name: "dns", host: "nowhere.invalid", expect: "dns-failure" },
      { name: "silent", start: (p) => ["python3", ["-c", PYTHON_SOCKET, String(p), "silent"]], expect: "timeout" },
      {
        name: "hangup",
        start: (p) => ["python3", ["-c", PYTHON_SOCKET, String(p), "hangup"]],
        expect: "connection-closed",
      },
      {
        name: "health-port",
        start: (p) => ["python3", ["-m", "http.server", "--bind", "127.0.0.1", String(p)]],
        expect: "not-tls",
      },
      {
        name: "tls11",
        start: sServer(leaf("tls11"), "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"),
        expect: "tls-version",
      },
      { name: "plain", url: "http://localhost:1/mcp", expect: "plain-http-url" },
      { name: "no-url", url: null, expect: "skipped-no-url" },
      // gRPC: TLS as grpcio negotiates it (it has no version setting), ALPN h2, the target's host checked.
      { name: "grpc-ok", grpc: "localhost", start: grpcServer("grpc-ok", "require"), expect: "ok" },
      // cpex client_auth none (grpcio without require_client_auth): no CertificateRequest at all.
      {
        name: "grpc-no-client-auth",
        grpc: "localhost",
        start: grpcServer("grpc-no-client-auth", "none"),
        expect: "client-cert-not-requested",
      },
      {
        name: "grpc-mismatch",
        grpc: "127.0.0.1",
        start: grpcServer("healthy-13", "require"),
        expect: "server-name-mismatch",
      },
      {
        name: "grpc-no-h2",
        grpc: "localhost",
        start: sServer(leaf("grpc-no-h2"), "-tls1_3", "-CAfile", caFile, "-Verify", "1"),
        expect: "no-h2",
      },
      { name: "grpc-uds", grpc: "/run/mtls-certs-probe-test.sock", expect: "skipped-unix-socket" },
    ];
    for (const v of VERSIONS) {
      const ca = ["-CAfile", caFile];
      plugins.push(
        { name: `healthy-${v}`, start: sServer(leaf(`healthy-${v}`), tls(v), ...ca, "-Verify", "1"), expect: "ok" },
        {
          name: `python-healthy-${v}`,
          start: python(leaf(`python-healthy-${v}`), caFile, "required", v),
          expect: "ok",
        },
        {
          name: `ciphers-${v}`,
          start: sServer(
            leaf(`ciphers-${v}`),
            tls(v),
            ...(v === "12" ? ["-cipher", "AES128-SHA256"] : ["-ciphersuites", "TLS_AES_128_CCM_8_SHA256"]),
          ),
          expect: "handshake-failed",
        },
        { name: `untrusted-${v}`, start: sServer(bad("untrusted"), tls(v)), expect: "server-cert-untrusted" },
        { name: `expired-${v}`, start: sServer(bad("expired"), tls(v)), expect: "server-cert-expired" },
        { name: `future-${v}`, start: sServer(bad("future"), tls(v)), expect: "server-cert-not-yet-valid" },
        { name: `strict-${v}`, start: sServer(bad("no-akid"), tls(v)), expect: "server-cert-strict" },
        // Served with healthy's cert (DNS:localhost, no IP SAN) but dialed as 127.0.0.1.
        {
          name: `mismatch-${v}`,
          host: "127.0.0.1",
          start: sServer(leaf(`healthy-${v}`), tls(v), ...ca, "-Verify", "1"),
          expect: "server-name-mismatch",
        },
        {
          name: `revoked-${v}`,
          start: sServer(leaf(`revoked-${v}`), tls(v), ...ca, "-Verify", "1"),
          expect: "server-cert-revoked",
        },
        {
          name: `refuses-ours-${v}`,
          start: python(leaf(`refuses-ours-${v}`), otherCa.cert, "required", v),
          expect: "client-cert-refused",
        },
        { name: `no-mtls-${v}`, start: sServer(leaf(`no-mtls-${v}`), tls(v)), expect: "client-cert-not-requested" },
        {
          name: `optional-${v}`,
          start: python(leaf(`optional-${v}`), caFile, "optional", v),
          expect: "accepts-anonymous",
        },
      );
    }
    for (const p of plugins) ports.set(p.name, await freePort());
    const config = writeFile(
      join(dir, "plugins/external/config.yaml"),
      "plugins:\n" +
        plugins
          .map((p) => {
            if (p.grpc !== undefined)
              return `  - name: ${p.name}\n    kind: external\n    grpc:\n      ${p.grpc.startsWith("/") ? `uds: ${p.grpc}` : `target: "${p.grpc}:${ports.get(p.name)}"`}\n`;
            const url = p.url === undefined ? `https://${p.host ?? "localhost"}:${ports.get(p.name)}/mcp` : p.url;
            return `  - name: ${p.name}\n    kind: external\n${url === null ? "" : `    mcp:\n      proto: STREAMABLEHTTP\n      url: ${url}\n`}`;
          })
          .join(""),
    );
    const made = cli(["all", "--key-type", "ecdsa-p256", "--config", config], dir);
    assert.equal(made.code, 0, made.stderr);
    for (const v of VERSIONS) assert.equal(cli(["revoke", `revoked-${v}`], dir).code, 0);

    // Bad certs the way others make them: openssl, from another CA or from this one.
    mustOpenssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", otherCa.key]);
    mustOpenssl([
      "req",
      "-x509",
      "-new",
      "-key",
      otherCa.key,
      "-subj",
      "/CN=Other CA",
      "-days",
      "30",
      "-out",
      otherCa.cert,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    const serverExt = ["subjectAltName=DNS:localhost", "extendedKeyUsage=serverAuth", "keyUsage=digitalSignature"];
    opensslSignedCert(dir, "untrusted", otherCa, serverExt);
    // A client cert from the other CA for the gateway would be refused too; the server side is what is tested here.
    const treeCa = { cert: join(tree, "ca/ca.crt"), key: join(tree, "ca/ca.key") };
    opensslSignedCert(dir, "no-akid", treeCa, [
      ...serverExt,
      "authorityKeyIdentifier=none",
      "subjectKeyIdentifier=none",
    ]);
    opensslCaCert(dir, "expired", treeCa, "20200101000000Z", "20200201000000Z");
    opensslCaCert(dir, "future", treeCa, "20990101000000Z", "20991231000000Z");

    for (const p of plugins) {
      if (!p.start) continue;
      const [command, args] = p.start(ports.get(p.name)!);
      servers.push(spawn(command, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] }));
    }
    await Promise.all(
      plugins.filter((p) => p.start).map((p, i) => waitForPort(ports.get(p.name)!, servers[i]!, () => p.name)),
    );
    // 5 s per dial: the silent port costs it once; under a loaded CI machine nothing else comes near it.
    run = cli(["probe", "--json", "--timeout", "5", "--config", config], dir);
    const report = JSON.parse(run.stdout) as {
      results: Array<{
        name: string;
        reason: string;
        message: string;
        fix: string | null;
        tls: Record<string, unknown> | null;
      }>;
    };
    results = new Map(report.results.map((r) => [r.name, r]));
  });

  after(() => {
    for (const s of servers) s.kill();
  });

  it("gives each plugin the reason its server produces, and exits 1 since some fail", () => {
    assert.equal(run.code, 1, run.stderr);
    const got = Object.fromEntries(plugins.map((p) => [p.name, results.get(p.name)?.reason]));
    const wanted = Object.fromEntries(plugins.map((p) => [p.name, p.expect]));
    assert.deepEqual(got, wanted);
  });

  it("ok names the protocol the server was pinned to, the cert's serial and days left, and the client-cert facts", () => {
    for (const v of VERSIONS) {
      const ok = results.get(`healthy-${v}`)!;
      assert.equal(ok.tls?.protocol, v === "12" ? "TLSv1.2" : "TLSv1.3");
      assert.equal(ok.tls?.askedForClientCert, true);
      assert.equal(ok.tls?.acceptedClientCert, true);
      assert.equal(ok.tls?.acceptsNoClientCert, false);
      assert.match(ok.message, /server cert serial [0-9A-F]+, \d+ days left/);
    }
  });

  it("the messages say what is wrong in the terms of the case", () => {
    assert.match(results.get("untrusted-13")!.message, /issuer "CN=Other CA" is not in/);
    assert.match(results.get("health-port")!.message, /does not speak TLS: it answered "<!DOCTYPE HTML>"/);
    const mismatch = results.get("mismatch-12")!;
    assert.match(mismatch.message, /no SAN matches 127\.0\.0\.1 \(SANs: DNS:healthy-12/);
    assert.match(mismatch.message, /PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME=false/);
    assert.match(results.get("strict-13")!.message, /missing-authority-key-id/);
    assert.match(results.get("revoked-12")!.message, /revoked .* in .*ca\.crl/);
    // The alert, unless the server's reset discarded it first (then the reset after our cert says it).
    assert.match(
      results.get("refuses-ours-12")!.message,
      /alert (unknown_ca|none: it reset the connection after the gateway sent its cert) \(TLS 1\.2\)/,
    );
    assert.match(results.get("refuses-ours-13")!.message, /alert unknown_ca \(TLSv1\.3, after the handshake\)/);
    assert.match(results.get("no-url")!.message, /no mcp\.url/);
    assert.match(results.get("silent")!.message, /did not answer the TLS hello within 5 s/);
    assert.match(results.get("grpc-ok")!.message, /\(ALPN h2\)/);
    assert.match(results.get("grpc-mismatch")!.message, /gRPC always does/);
    assert.match(results.get("grpc-no-client-auth")!.fix!, /PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH=require/);
    assert.match(results.get("grpc-uds")!.message, /Unix socket, which carries no TLS/);
  });

  it("--connect dials another address under the plugin's own name; exit 0 when the link works", () => {
    const r = cli(["probe", "refused", "--connect", `127.0.0.1:${ports.get("healthy-13")}`, "--json"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [only] = (JSON.parse(r.stdout) as { results: Array<{ reason: string; serverName: string; address: string }> })
      .results;
    assert.equal(only?.reason, "ok");
    assert.equal(only?.serverName, "localhost");
    assert.equal(only?.address, `127.0.0.1:${ports.get("healthy-13")}`);
    const quiet = cli(["probe", "refused", "--connect", `127.0.0.1:${ports.get("healthy-13")}`, "-q"], dir);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stdout, "", "-q: nothing when all work");
  });

  it("mcp-stack.yaml: each plugin is dialed where the deploy tooling serves it (Compose: its name lowercased, its port)", () => {
    const stack = writeFile(
      join(dir, "mcp-stack.yaml"),
      `deployment:\n  type: compose\ncertificates:\n  validity_days: 30\nplugins:\n  - name: Localhost\n    port: ${ports.get("healthy-13")}\n`,
    );
    const r = cli(["probe", "--config", stack, "--json"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [only] = (JSON.parse(r.stdout) as { results: Array<{ reason: string; target: string }> }).results;
    assert.equal(only?.reason, "ok");
    assert.equal(only?.target, `https://localhost:${ports.get("healthy-13")}/mcp`);
    const k8s = stackUrl(
      { name: "DenyListPlugin", url: undefined, transport: { kind: "mcp" }, sans: [], where: "", port: 8000 },
      { type: "kubernetes", namespace: "mcp-gateway" },
    );
    assert.equal(k8s, "https://mcp-plugin-denylistplugin.mcp-gateway.svc:8000/mcp");
  });

  it("exit 2 for bad input: an unknown plugin, --connect with two names, a missing config", () => {
    const unknown = cli(["probe", "nope"], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no external plugin named "nope"/);
    const two = cli(["probe", "healthy-12", "healthy-13", "--connect", "127.0.0.1:1"], dir);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /--connect dials one address/);
    const missing = cli(["probe", "--config", join(dir, "nowhere.yaml")], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nowhere\.yaml: .*(no such file|does not exist)/);
  });

  it("--format prometheus passes promtool; --format github annotates the failing link", () => {
    const prom = cli(["probe", "python-healthy-13", "no-mtls-13", "--format", "prometheus"], dir);
    assert.equal(prom.code, 1);
    assert.match(prom.stdout, /^mtls_certs_probe_success\{name="python-healthy-13",transport="mcp",reason="ok"\} 1$/m);
    assert.match(
      prom.stdout,
      /^mtls_certs_probe_success\{name="no-mtls-13",transport="mcp",reason="client-cert-not-requested"\} 0$/m,
    );
    const promtool = spawnSync("promtool", ["check", "metrics"], { input: prom.stdout, encoding: "utf8" });
    if (promtool.error === undefined) assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
    const github = cli(["probe", "no-mtls-12", "--format", "github"], dir);
    assert.equal(github.code, 1);
    assert.match(
      github.stdout,
      /^::error title=mtls-certs probe%3A no-mtls-12 client-cert-not-requested::.*did not ask for a client certificate/m,
    );
  });
});

function mustOpenssl(args: string[]): void {
  const r = openssl(args);
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** A cert with given dates from `openssl ca` (OpenSSL 3.0's x509 cannot set them). */
function opensslCaCert(dir: string, name: string, ca: { cert: string; key: string }, start: string, end: string): void {
  const db = join(dir, `${name}-ca`);
  writeFile(join(db, "index.txt"), "");
  writeFile(join(db, "serial"), "1000\n");
  const conf = writeFile(
    join(db, "ca.cnf"),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}/index.txt\nnew_certs_dir = ${db}\nserial = ${db}/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n[ext]\nsubjectAltName = DNS:localhost\nextendedKeyUsage = serverAuth\nkeyUsage = digitalSignature\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n`,
  );
  const key = join(dir, `${name}.key`);
  const csr = join(db, "req.csr");
  mustOpenssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  mustOpenssl(["req", "-new", "-key", key, "-subj", `/CN=${name}`, "-out", csr]);
  mustOpenssl([
    "ca",
    "-batch",
    "-config",
    conf,
    "-extensions",
    "ext",
    "-notext",
    "-cert",
    ca.cert,
    "-keyfile",
    ca.key,
    "-startdate",
    start,
    "-enddate",
    end,
    "-in",
    csr,
    "-out",
    join(dir, `${name}.crt`),
  ]);
}

/**
 * PYTHON_SERVER's optional mode, but its third connection gets no handshake (a busy server): the
 * first is waitForPort's, the second the probe's dial with the gateway's cert, the third its dial
 * without one.
 */
const STALLS_SECOND = `
import socket, ssl, sys, threading, time
port, cert, key, cafile = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(cafile)
ctx.verify_mode = ssl.CERT_OPTIONAL
srv = socket.create_server(("127.0.0.1", int(port)))
def serve(raw):
    try:
        with ctx.wrap_socket(raw, server_side=True) as s:
            s.recv(4096)
            s.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
    except Exception:
        pass
count = 0
while True:
    raw, _ = srv.accept()
    count += 1
    if count == 3:
        continue  # held open, never answered
    threading.Thread(target=serve, args=(raw,), daemon=True).start()
`;

describe("probe: a dial without a client cert that times out is tried again", () => {
  it("a server with optional client certs, slow to answer the second dial once: accepts-anonymous, not ok", async () => {
    const dir = tempDir();
    const port = await freePort();
    const config = writeFile(
      join(dir, "plugins/external/config.yaml"),
      `plugins:\n  - name: slow\n    kind: external\n    mcp:\n      url: https://localhost:${port}/mcp\n`,
    );
    const made = cli(["all", "--key-type", "ecdsa-p256", "--config", config, "-q"], dir);
    assert.equal(made.code, 0, made.stderr);
    const leafDir = join(dir, "certs/mcp/plugins/slow");
    const server = spawn(
      "python3",
      [
        "-c",
        STALLS_SECOND,
        String(port),
        join(leafDir, "server.crt"),
        join(leafDir, "server.key"),
        join(dir, "certs/mcp/ca/ca.crt"),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    try {
      await waitForPort(port, server, () => "slow");
      const run = cli(["probe", "--json", "--timeout", "2", "--config", config], dir);
      const report = JSON.parse(run.stdout) as { results: Array<{ name: string; reason: string }> };
      assert.equal(report.results[0]?.reason, "accepts-anonymous", run.stdout);
      assert.equal(run.code, 1, run.stderr);
    } finally {
      server.kill();
    }
  });
});
