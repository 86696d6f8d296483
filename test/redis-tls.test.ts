/**
 * Redis over mutual TLS: `server redis` makes its cert and `export env --redis redis` the gateway's
 * REDIS_SSL_* settings. A real redis-server (TLS only, client certs required, loopback) serves
 * redis-cli --tls given exactly those variables' files; without a client cert, or with another
 * CA's, it refuses. Python's ssl with the hostname checked (as redis-py checks it with
 * REDIS_SSL_CHECK_HOSTNAME=true) accepts the cert for the host REDIS_URL names, and no other.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { cli, freePort, tempDir, waitForPort } from "./helpers.js";

type Vars = Record<string, string>;

function redisCli(
  port: number,
  files: { ca: string; cert?: string; key?: string },
): { code: number | null; out: string } {
  const args = ["--tls", "--cacert", files.ca, "-h", "127.0.0.1", "-p", String(port), "--sni", "redis"];
  if (files.cert !== undefined && files.key !== undefined) args.push("--cert", files.cert, "--key", files.key);
  const r = spawnSync("redis-cli", [...args, "PING"], { encoding: "utf8", timeout: 20_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

/** A TLS client that checks the server's name, sends PING, and prints the reply. */
const NAMED_PING = `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
ctx.load_cert_chain(sys.argv[4], sys.argv[5])
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:
    with ctx.wrap_socket(raw, server_hostname=sys.argv[1]) as s:
        s.sendall(b"PING\\r\\n")
        print(s.recv(100).decode().strip())
`;

describe("export env --redis, with a real redis-server over mutual TLS", () => {
  let dir: string;
  let other: string;
  let server: ChildProcess;
  let port: number;
  let log = "";
  const env = (args: string[], cwd = dir): Vars => {
    const r = cli(["export", "env", ...args, "--format", "json"], cwd);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Vars;
  };

  before(async () => {
    dir = tempDir();
    const ec = ["--key-type", "ecdsa-p256", "-q"];
    assert.equal(cli(["all", ...ec], dir).code, 0);
    assert.equal(cli(["server", "redis", ...ec], dir).code, 0);
    assert.equal(cli(["client", "cache-user", ...ec], dir).code, 0);
    other = tempDir();
    assert.equal(cli(["all", ...ec], other).code, 0);
    const leaf = join(dir, "certs/mcp/servers/redis");
    port = await freePort();
    // port 0: no plain-text listener at all; every client must present a cert from the tree's CA.
    server = spawn("redis-server", [
      "--port",
      "0",
      "--bind",
      "127.0.0.1",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      join(leaf, "server.crt"),
      "--tls-key-file",
      join(leaf, "server.key"),
      "--tls-ca-cert-file",
      join(leaf, "ca.crt"),
      "--tls-auth-clients",
      "yes",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ]);
    server.stdout?.on("data", (d) => (log += d));
    server.stderr?.on("data", (d) => (log += d));
    await waitForPort(port, server, () => log);
  });
  after(() => {
    server?.kill();
  });

  it("prints REDIS_SSL=true, the three files, the hostname check on, and a rediss:// REDIS_URL to set", () => {
    const r = cli(["export", "env", "--redis", "redis"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^REDIS_SSL=true$/m);
    assert.match(r.stdout, /^REDIS_SSL_CHECK_HOSTNAME=true$/m);
    assert.match(r.stdout, /^REDIS_SSL_CERTFILE=.*\/gateway\/client\.crt$/m);
    assert.match(r.stdout, /^# REDIS_URL= +\(rediss:\/\/redis:6379\/0 /m);
    assert.equal(cli(["export", "env", "--client", "cache-user"], dir).code, 2, "--client without --redis");
  });

  it("redis-cli --tls with the gateway's files gets PONG; without a client cert or with another CA's, refused", () => {
    const vars = env(["--redis", "redis"]);
    const ca = vars.REDIS_SSL_CA_CERTS ?? "";
    assert.deepEqual(redisCli(port, { ca, cert: vars.REDIS_SSL_CERTFILE, key: vars.REDIS_SSL_KEYFILE }), {
      code: 0,
      out: "PONG",
    });
    const named = env(["--redis", "redis", "--client", "cache-user"]);
    assert.equal(redisCli(port, { ca, cert: named.REDIS_SSL_CERTFILE, key: named.REDIS_SSL_KEYFILE }).out, "PONG");
    const bare = redisCli(port, { ca });
    assert.notEqual(bare.code, 0, bare.out);
    assert.match(bare.out, /Server closed the connection|reset by peer|I\/O error/);
    const theirs = env(["--gateway"], other);
    const foreign = redisCli(port, {
      ca,
      cert: theirs.PLUGINS_CLIENT_MTLS_CERTFILE,
      key: theirs.PLUGINS_CLIENT_MTLS_KEYFILE,
    });
    assert.notEqual(foreign.code, 0, foreign.out);
    assert.doesNotMatch(foreign.out, /PONG/);
  });

  it("the server's cert passes a strict hostname check for REDIS_URL's host, and fails it for another", () => {
    const vars = env(["--redis", "redis"]);
    const ping = (host: string) =>
      spawnSync(
        "python3",
        [
          "-c",
          NAMED_PING,
          host,
          String(port),
          vars.REDIS_SSL_CA_CERTS ?? "",
          vars.REDIS_SSL_CERTFILE ?? "",
          vars.REDIS_SSL_KEYFILE ?? "",
        ],
        { encoding: "utf8", timeout: 20_000 },
      );
    const ok = ping("redis");
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "+PONG");
    const wrong = ping("cache.internal");
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /Hostname mismatch|doesn't match/);
  });
});
