/**
 * export nginx|haproxy|caddy: each config is run by the real server on loopback, in front of a
 * tiny upstream that echoes the headers it gets. A client cert from the tree gets through and
 * the upstream sees its CN; no cert is refused; a revoked cert is refused where a CRL exists.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, statSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { cli, freePort, openssl, read, tempDir, waitForPort, writeFile, type Run } from "./helpers.js";

const SERVER = "gateway.local";
// A guard against a hung daemon, not a speed test: four test files share the cores under `npm test`.
const TIME_LIMIT = { timeout: 180_000 };

function installed(bin: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;
}
function skipUnless(bin: string, pkg: string): false | string {
  return installed(bin) ? false : `${bin} is not installed (.ci/run installs Debian's ${pkg})`;
}

/** Starts a server in the foreground; `stop` ends it (SIGTERM, then SIGKILL) and waits. */
async function startDaemon(
  command: string,
  args: string[],
  port: number,
  env: NodeJS.ProcessEnv = {},
): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((res) => child.once("exit", res));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForPort(port, child, () => output);
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}

/** An upstream on loopback that answers with the request's headers as JSON. */
async function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => res.end(JSON.stringify(req.headers)));
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** curl, asynchronously (the upstream answers from this process), bounded to 10 s. */
function curl(args: string[]): Promise<Run> {
  return new Promise((res) => {
    const child = spawn("curl", ["-sS", "--max-time", "10", ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

/** nginx in the foreground with `<prefix>/mtls.conf` included in its http {}; pid, logs and temp files in `prefix`. */
async function startNginx(prefix: string, port: number): Promise<{ stop: () => Promise<void> }> {
  mkdirSync(join(prefix, "logs"), { recursive: true });
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((k) => `${k}_temp_path ${join(prefix, k)};`)
    .join(" ");
  const conf = writeFile(
    join(prefix, "nginx.conf"),
    `daemon off;\nmaster_process off;\npid ${join(prefix, "nginx.pid")};\nerror_log ${join(prefix, "error.log")} info;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n  ${temps}\n  include ${join(prefix, "mtls.conf")};\n}\n`,
  );
  const test = spawnSync("nginx", ["-t", "-p", prefix, "-c", conf], { encoding: "utf8" });
  assert.equal(test.status, 0, test.stderr);
  return startDaemon("nginx", ["-p", prefix, "-c", conf], port);
}

/**
 * Caddy with the exported site imported under test-run global options (no admin endpoint, no
 * ACME, storage in `home`); `caddy adapt` must accept it first.
 */
async function startCaddy(home: string, site: string, port: number): Promise<{ stop: () => Promise<void> }> {
  const caddyfile = writeFile(
    join(home, "Caddyfile"),
    `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${join(home, "data")}\n}\nimport ${site}\n`,
  );
  const env = { HOME: home, XDG_DATA_HOME: join(home, "xdg-data"), XDG_CONFIG_HOME: join(home, "xdg-config") };
  const adapted = spawnSync("caddy", ["adapt", "--config", caddyfile, "--adapter", "caddyfile"], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  assert.equal(adapted.status, 0, adapted.stderr);
  assert.match(adapted.stdout, /require_and_verify/);
  return startDaemon("caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"], port, env);
}

describe("export nginx, haproxy and caddy: proxies that real servers run", () => {
  const dir = tempDir();
  const tree = join(dir, "certs/mcp");
  const clientPem = (name: string) => join(tree, "clients", name, "client.pem");
  let upstream: { server: Server; url: string };
  let nginxBeforeCrl: Run;

  /** curl to the proxy as SERVER (the name in its cert), verifying the server against the CA. */
  const request = (port: number, client?: string) =>
    curl([
      ...(client ? ["--cert", clientPem(client)] : []),
      "--resolve",
      `${SERVER}:${port}:127.0.0.1`,
      "--cacert",
      join(tree, "ca/ca.crt"),
      `https://${SERVER}:${port}/health`,
      "-w",
      "\n%{http_code}",
    ]);
  const headersSeen = (r: Run) => JSON.parse(r.stdout.split("\n")[0] ?? "{}") as Record<string, string>;
  const status = (r: Run) => r.stdout.trim().split("\n").at(-1);
  /** admin's cert gets through, and the upstream sees its CN in the headers the gateway reads. */
  const admitted = async (port: number) => {
    const good = await request(port, "admin");
    assert.equal(status(good), "200", good.stderr);
    const seen = headersSeen(good);
    assert.equal(seen["x-ssl-client-s-dn-cn"], "admin");
    assert.equal(seen["x-authenticated-user"], "admin");
    return seen;
  };
  const exportConfig = (kind: string, port: number, extra: string[] = []) =>
    cli(
      [
        "export",
        kind,
        "--out",
        tree,
        "--server",
        SERVER,
        "--listen",
        `127.0.0.1:${port}`,
        "--upstream",
        upstream.url,
        ...extra,
      ],
      dir,
    );

  before(async () => {
    const kt = ["--out", tree, "--key-type", "ecdsa-p256", "-q"];
    for (const args of [["all"], ["server", SERVER], ["client", "admin"], ["client", "eve"]]) {
      const r = cli([...args, ...kt], dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    upstream = await startUpstream();
    nginxBeforeCrl = exportConfig("nginx", 8443);
    // The CRL: eve is revoked; admin stays good.
    const revoked = cli(["revoke", "eve", "--out", tree], dir);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.ok(existsSync(join(tree, "ca/ca.crl")));
  });
  after(() => upstream.server.close());

  it("writes ssl_crl only once the tree has a CRL", () => {
    assert.equal(nginxBeforeCrl.code, 0, nginxBeforeCrl.stderr);
    assert.doesNotMatch(nginxBeforeCrl.stdout, /ssl_crl/);
    const withCrl = exportConfig("nginx", 8443);
    assert.match(withCrl.stdout, new RegExp(`ssl_crl ${join(tree, "ca/ca.crl")};`));
  });

  it("nginx runs the snippet: a client cert reaches the upstream with its CN, no cert gets 400, a revoked cert is refused", {
    ...TIME_LIMIT,
    skip: skipUnless("nginx", "nginx-light"),
  }, async (t) => {
    t.diagnostic(spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim());
    const port = await freePort();
    const exported = exportConfig("nginx", port, ["-o", join(dir, "nginx/mtls.conf")]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(read(join(dir, "nginx/mtls.conf")), /ssl_verify_depth 2;/);
    const prefix = join(dir, "nginx");
    const nginx = await startNginx(prefix, port);
    try {
      const seen = await admitted(port);
      assert.equal(seen["x-ssl-client-verify"], "SUCCESS");
      assert.match(seen["x-ssl-client-s-dn"] ?? "", /CN=admin/);
      assert.match(decodeURIComponent(seen["x-ssl-client-cert"] ?? ""), /^-----BEGIN CERTIFICATE-----/);

      const none = await request(port);
      assert.equal(status(none), "400", "no client cert: nginx answers 400");
      const revoked = await request(port, "eve");
      assert.equal(status(revoked), "400", "revoked cert: nginx answers 400");
      assert.match(read(join(prefix, "error.log")), /certificate revoked/);
    } finally {
      await nginx.stop();
    }
  });

  it("haproxy -c accepts its config and, started, enforces client certs and the CRL; its bundle is 600 and holds the server's pair", {
    ...TIME_LIMIT,
    skip: skipUnless("haproxy", "haproxy"),
  }, async (t) => {
    t.diagnostic(spawnSync("haproxy", ["-v"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "");
    const port = await freePort();
    const cfg = join(dir, "haproxy.cfg");
    const exported = exportConfig("haproxy", port, ["-o", cfg]);
    assert.equal(exported.code, 0, exported.stderr);
    const bundle = join(tree, "servers", SERVER, "haproxy.pem");
    assert.equal(statSync(bundle).mode & 0o777, 0o600);
    const certKey = openssl(["x509", "-in", bundle, "-noout", "-pubkey"]).stdout;
    assert.equal(openssl(["pkey", "-in", bundle, "-pubout"]).stdout, certKey, "the bundle's key is the cert's");
    assert.equal(
      openssl(["x509", "-in", bundle, "-noout", "-fingerprint"]).stdout,
      openssl(["x509", "-in", join(tree, "servers", SERVER, "server.crt"), "-noout", "-fingerprint"]).stdout,
    );
    assert.match(read(cfg), /verify required crl-file /);

    const check = spawnSync("haproxy", ["-c", "-f", cfg], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const haproxy = await startDaemon("haproxy", ["-db", "-f", cfg], port);
    try {
      const seen = await admitted(port);
      assert.equal(seen["x-ssl-client-verify"], "SUCCESS");
      assert.equal(seen["x-ssl-client-s-dn"], "OU=Clients,O=MCPGateway,CN=admin");

      const none = await request(port);
      assert.notEqual(none.code, 0, "no client cert: the handshake fails");
      assert.match(none.stderr, /certificate required|handshake|alert/i);
      const revoked = await request(port, "eve");
      assert.notEqual(revoked.code, 0);
      assert.match(revoked.stderr, /certificate revoked/);
    } finally {
      await haproxy.stop();
    }
    // A second export with the same files leaves the bundle as it was.
    const again = exportConfig("haproxy", port, ["-o", cfg, "--force"]);
    assert.doesNotMatch(again.stderr, /wrote .*haproxy\.pem/);
  });

  it("caddy adapt accepts the Caddyfile and, started, enforces client certs", {
    ...TIME_LIMIT,
    skip: skipUnless("caddy", "caddy"),
  }, async (t) => {
    t.diagnostic(`caddy ${spawnSync("caddy", ["version"], { encoding: "utf8" }).stdout.trim()}`);
    const port = await freePort();
    const site = join(dir, "caddy/site.caddy");
    mkdirSync(join(dir, "caddy"), { recursive: true });
    const exported = exportConfig("caddy", port, ["-o", site]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /Caddy does not check CRLs/);
    const caddy = await startCaddy(join(dir, "caddy"), site, port);
    try {
      const seen = await admitted(port);
      assert.match(seen["x-ssl-client-s-dn"] ?? "", /^CN=admin,/);

      const none = await request(port);
      assert.notEqual(none.code, 0, "no client cert: the handshake fails");
    } finally {
      await caddy.stop();
    }
  });

  it("an encrypted server key: HAProxy's bundle needs --key-passphrase-env and then holds the key decrypted; Caddy refuses", () => {
    const kt = ["--out", tree, "--key-type", "ecdsa-p256", "-q", "--key-passphrase-env", "PW"];
    assert.equal(cli(["server", "locked.local", ...kt], dir, { PW: "open-sesame" }).code, 0);
    const args = ["--out", tree, "--server", "locked.local", "-o", join(dir, "locked.cfg")];
    const refused = cli(["export", "haproxy", ...args], dir);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /server\.key: the key is encrypted and HAProxy cannot open an encrypted key[\s\S]*--key-passphrase-env/,
    );
    const wrong = cli(["export", "haproxy", ...args, "--key-passphrase-env", "PW"], dir, { PW: "wrong" });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /wrong passphrase/);
    assert.equal(existsSync(join(tree, "servers/locked.local/haproxy.pem")), false, "nothing written on refusal");
    const ok = cli(["export", "haproxy", ...args, "--key-passphrase-env", "PW"], dir, { PW: "open-sesame" });
    assert.equal(ok.code, 0, ok.stderr);
    const bundle = join(tree, "servers/locked.local/haproxy.pem");
    assert.doesNotMatch(read(bundle), /ENCRYPTED/);
    assert.equal(
      openssl(["pkey", "-in", bundle, "-pubout"]).stdout,
      openssl(["x509", "-in", bundle, "-noout", "-pubkey"]).stdout,
    );
    const caddy = cli(["export", "caddy", "--out", tree, "--server", "locked.local"], dir);
    assert.equal(caddy.code, 2);
    assert.match(caddy.stderr, /Caddy cannot open an encrypted key/);
  });

  it("paths go under --prefix for a container", () => {
    const r = cli(["export", "nginx", "--out", tree, "--server", SERVER, "--prefix", "/etc/nginx/certs"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`ssl_certificate /etc/nginx/certs/servers/${SERVER}/server\\.crt;`));
    assert.match(r.stdout, new RegExp(`ssl_client_certificate /etc/nginx/certs/servers/${SERVER}/ca\\.crt;`));
    assert.match(r.stdout, /ssl_crl \/etc\/nginx\/certs\/ca\/ca\.crl;/);
    assert.match(r.stdout, /listen 443 ssl;/);
    const directives = r.stdout.split("\n").filter((line) => !line.trim().startsWith("#"));
    assert.equal(directives.filter((line) => line.includes(dir)).length, 0, "no real path outside comments");
  });

  it("refuses bad input with exit 2, naming the option, and writes nothing", () => {
    const out = join(dir, "refused.conf");
    const cases: Array<[string[], RegExp]> = [
      [["--server", "nosuch"], /--server nosuch: no certificate yet[\s\S]*mtls-certs server nosuch/],
      [["--server", SERVER, "--listen", "70000"], /--listen port: "70000"/],
      [["--server", SERVER, "--listen", "0"], /--listen port/],
      [
        ["--server", SERVER, "--upstream", "not a url"],
        /--upstream: "not a url" (is not a URL|holds characters that are syntax in a proxy config)/,
      ],
      [["--server", SERVER, "--upstream", "http://gw:4444/api"], /--upstream: .* has a path/],
      [["--server", "../etc"], /--server: "\.\.\/etc" is not a safe name/],
    ];
    for (const kind of ["nginx", "haproxy", "caddy"]) {
      // Every case for nginx; the same checks run before any kind renders, so one each for the others.
      for (const [args, message] of kind === "nginx" ? cases : cases.slice(0, 1)) {
        const r = cli(["export", kind, "--out", tree, "-o", out, ...args], dir);
        assert.equal(r.code, 2, `${kind} ${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(existsSync(out), false);
      }
    }
  });
});

describe("export nginx, haproxy and caddy with an intermediate CA: the server presents the chain, clients verify to the root", () => {
  const dir = tempDir();
  const tree = join(dir, "certs/mcp");
  let upstream: { server: Server; url: string };

  before(async () => {
    const kt = ["--out", tree, "--key-type", "ecdsa-p256", "-q"];
    for (const args of [
      ["ca", "--intermediate"],
      ["server", SERVER],
      ["client", "admin"],
      ["client", "eve"],
    ]) {
      const r = cli([...args, ...kt], dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    assert.equal(cli(["revoke", "eve", "--out", tree], dir).code, 0);
    upstream = await startUpstream();
  });
  after(() => upstream.server.close());

  const exportTo = (kind: string, port: number, out: string) => {
    const r = cli(
      [
        "export",
        kind,
        "--out",
        tree,
        "--server",
        SERVER,
        "--listen",
        `127.0.0.1:${port}`,
        "--upstream",
        upstream.url,
        "-o",
        out,
      ],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  /** admin gets through with its CN; no cert does not. */
  const enforced = async (port: number, refusedStatus: "400" | "handshake") => {
    const args = (client?: string) => [
      ...(client ? ["--cert", join(tree, "clients", client, "client.pem")] : []),
      "--resolve",
      `${SERVER}:${port}:127.0.0.1`,
      "--cacert",
      join(tree, "ca/ca.crt"),
      `https://${SERVER}:${port}/`,
      "-w",
      "\n%{http_code}",
    ];
    const good = await curl(args("admin"));
    assert.equal(good.stdout.trim().split("\n").at(-1), "200", good.stderr);
    assert.equal(
      (JSON.parse(good.stdout.split("\n")[0] ?? "{}") as Record<string, string>)["x-ssl-client-s-dn-cn"],
      "admin",
    );
    const none = await curl(args());
    if (refusedStatus === "400") assert.equal(none.stdout.trim().split("\n").at(-1), "400");
    else assert.notEqual(none.code, 0);
  };

  it("nginx: fullchain.crt carries the intermediate, depth 3 lets clients through, and a CRL without the root's is left out and said", {
    ...TIME_LIMIT,
    skip: skipUnless("nginx", "nginx-light"),
  }, async () => {
    const port = await freePort();
    const conf = join(dir, "nginx/mtls.conf");
    const r = exportTo("nginx", port, conf);
    const text = read(conf);
    const fullchain = join(tree, "servers", SERVER, "fullchain.crt");
    assert.match(text, new RegExp(`ssl_certificate ${fullchain};`));
    assert.match(text, /ssl_verify_depth 3;/);
    assert.doesNotMatch(text, /^\s*ssl_crl /m);
    assert.match(text, /# .*ca\.crl is not enforced: it has no CRL from CN=ContextForge-CA/);
    assert.match(r.stderr, /not enforced/);
    // openssl: the presented chain leads from the server cert to the root.
    const verified = openssl([
      "verify",
      "-x509_strict",
      "-CAfile",
      join(tree, "ca/ca.crt"),
      "-untrusted",
      fullchain,
      join(tree, "servers", SERVER, "server.crt"),
    ]);
    assert.equal(verified.code, 0, verified.stderr);
    const nginx = await startNginx(join(dir, "nginx"), port);
    try {
      await enforced(port, "400");
    } finally {
      await nginx.stop();
    }
  });

  it("haproxy: the bundle carries the intermediate; started, it lets clients of the intermediate through and refuses a client without a cert", {
    ...TIME_LIMIT,
    skip: skipUnless("haproxy", "haproxy"),
  }, async () => {
    const port = await freePort();
    const cfg = join(dir, "haproxy.cfg");
    exportTo("haproxy", port, cfg);
    assert.doesNotMatch(read(cfg), /crl-file/);
    assert.equal((read(join(tree, "servers", SERVER, "haproxy.pem")).match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    const haproxy = await startDaemon("haproxy", ["-db", "-f", cfg], port);
    try {
      await enforced(port, "handshake");
    } finally {
      await haproxy.stop();
    }
  });

  it("caddy: it presents fullchain.crt and lets clients of the intermediate through", {
    ...TIME_LIMIT,
    skip: skipUnless("caddy", "caddy"),
  }, async () => {
    const port = await freePort();
    const site = join(dir, "caddy/site.caddy");
    mkdirSync(join(dir, "caddy"), { recursive: true });
    exportTo("caddy", port, site);
    assert.match(read(site), /fullchain\.crt/);
    const caddy = await startCaddy(join(dir, "caddy"), site, port);
    try {
      await enforced(port, "handshake");
    } finally {
      await caddy.stop();
    }
  });
});

/**
 * Issue 13 review: haproxy.pem (and fullchain.crt) are made from the server's pair, and a proxy
 * serves what they hold. renew makes them again from the new pair (with their mode and group),
 * check names one that still holds an old pair, and export never replaces a user's own file.
 */
describe("haproxy.pem and fullchain.crt follow the server's pair: renew rebuilds them, check names stale ones", () => {
  const dir = tempDir();
  // Readable by the container users of the group test (mkdtemp makes 0700).
  chmodSync(dir, 0o755);
  const tree = join(dir, "certs/mcp");
  const kt = ["--out", tree, "--key-type", "ecdsa-p256", "-q"];
  const leaf = (name: string, file: string) => join(tree, "servers", name, file);
  const serialOf = (text: string) => openssl(["x509", "-noout", "-serial"], text).stdout.trim();
  const haproxyExport = (name: string, extra: string[] = [], port = 8443) =>
    cli(
      [
        "export",
        "haproxy",
        "--out",
        tree,
        "--server",
        name,
        "--listen",
        `127.0.0.1:${port}`,
        "--upstream",
        "http://127.0.0.1:4444",
        ...extra,
      ],
      dir,
    );
  const renew = (name: string) => {
    const r = cli(["renew", "--force", "--out", tree, name], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r;
  };
  /** The bundle's first cert is server.crt's and its key is that cert's (openssl reads both). */
  const holdsPair = (name: string) => {
    const bundle = leaf(name, "haproxy.pem");
    assert.equal(serialOf(read(bundle)), serialOf(read(leaf(name, "server.crt"))), `${bundle}: the current cert`);
    assert.equal(
      openssl(["pkey", "-in", bundle, "-pubout"]).stdout,
      openssl(["x509", "-in", leaf(name, "server.crt"), "-noout", "-pubkey"]).stdout,
      `${bundle}: the current key`,
    );
  };

  before(() => {
    for (const args of [["ca"], ["client", "admin"]]) assert.equal(cli([...args, ...kt], dir).code, 0);
  });

  it("after renew, a started HAProxy serves the new cert (openssl s_client's handshake), not the old one", {
    ...TIME_LIMIT,
    skip: skipUnless("haproxy", "haproxy"),
  }, async () => {
    const name = "served.local";
    assert.equal(cli(["server", name, ...kt], dir).code, 0);
    const port = await freePort();
    const cfg = join(dir, "served.cfg");
    const exported = haproxyExport(name, ["-o", cfg], port);
    assert.equal(exported.code, 0, exported.stderr);
    /** The serial of the cert a real handshake gets, verified against the tree's CA. */
    const servedSerial = async () => {
      const haproxy = await startDaemon("haproxy", ["-db", "-f", cfg], port);
      try {
        const client = join(tree, "clients/admin/client.pem");
        const hello = spawnSync(
          "openssl",
          [
            "s_client",
            "-connect",
            `127.0.0.1:${port}`,
            "-servername",
            name,
            "-verify_return_error",
            "-verify_hostname",
            name,
            "-CAfile",
            join(tree, "ca/ca.crt"),
            "-cert",
            client,
            "-key",
            client,
          ],
          { encoding: "utf8", input: "", timeout: 10_000 },
        );
        assert.match(hello.stdout, /Verify return code: 0 \(ok\)/, hello.stdout + hello.stderr);
        return serialOf(hello.stdout);
      } finally {
        await haproxy.stop();
      }
    };
    const before = await servedSerial();
    assert.equal(before, serialOf(read(leaf(name, "server.crt"))));

    const renewed = renew(name);
    const after = serialOf(read(leaf(name, "server.crt")));
    assert.notEqual(after, before, "renew made a new cert");
    const checked = spawnSync("haproxy", ["-c", "-f", cfg], { encoding: "utf8" });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.equal(await servedSerial(), after, `HAProxy serves the renewed cert\n${renewed.stderr}`);
    holdsPair(name);
    assert.equal((statSync(leaf(name, "haproxy.pem")).mode & 0o777).toString(8), "600");
    assert.equal(cli(["check", "--out", tree], dir).code, 0);
  });

  it("check: a haproxy.pem that still holds the old pair is a problem (exit 1), named as stale", () => {
    const name = "stale.local";
    assert.equal(cli(["server", name, ...kt], dir).code, 0);
    assert.equal(haproxyExport(name).code, 0);
    const old = read(leaf(name, "haproxy.pem"));
    renew(name);
    // What renew left before this fix: the old cert and key in the bundle.
    writeFileSync(leaf(name, "haproxy.pem"), old);
    const check = cli(["check", "--out", tree], dir);
    assert.equal(check.code, 1, check.stdout);
    assert.match(
      check.stdout + check.stderr,
      /haproxy\.pem: stale: holds the cert with serial [0-9A-F]+, not the leaf's current one/,
    );
    // An export of the renewed pair replaces it without --force: it is the file export wrote for this server.
    const again = haproxyExport(name);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /wrote .*stale\.local\/haproxy\.pem/);
    holdsPair(name);
    assert.equal(cli(["check", "--out", tree], dir).code, 0);
  });

  it("export haproxy does not replace a haproxy.pem it did not write for the server: exit 2 naming it; --force does", () => {
    const name = "own.local";
    assert.equal(cli(["server", name, ...kt], dir).code, 0);
    // The user's own bundle: a cert and key for the same name from another CA (another tree here).
    const other = join(dir, "other/certs/mcp");
    assert.equal(cli(["server", name, "--out", other, "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    const users = read(join(other, "servers", name, "server.crt")) + read(join(other, "servers", name, "server.key"));
    writeFileSync(leaf(name, "haproxy.pem"), users, { mode: 0o600 });
    const refused = haproxyExport(name);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /own\.local\/haproxy\.pem: already exists and does not hold a server own\.local cert/);
    assert.match(refused.stderr, /--force/);
    assert.equal(read(leaf(name, "haproxy.pem")), users, "left as it was");
    // renew rebuilds only a bundle export wrote for this server: the user's is left, and it says so;
    // exit 1, as check (after renew) names it: HAProxy would serve it in place of the server's pair.
    const renewed = cli(["renew", "--force", "--out", tree, name], dir);
    assert.equal(renewed.code, 1, renewed.stdout + renewed.stderr);
    assert.match(
      renewed.stderr + renewed.stdout,
      /own\.local\/haproxy\.pem: does not hold a server own\.local cert this tree issued with its key; left as it is/,
    );
    assert.equal(read(leaf(name, "haproxy.pem")), users, "renew left it too");
    const forced = haproxyExport(name, ["--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    holdsPair(name);
  });

  it("the bundle has the key's mode and group: HAProxy running as the container's group reads it, before and after renew", {
    skip:
      process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0
        ? false
        : "needs root and setpriv to act as the container's user",
  }, () => {
    const name = "shared.local";
    assert.equal(cli(["server", name, ...kt, "--key-group", "10001"], dir).code, 0);
    const cfg = join(dir, "shared.cfg");
    const exported = haproxyExport(name, ["-o", cfg]);
    assert.equal(exported.code, 0, exported.stderr);
    chmodSync(cfg, 0o644);
    const bundle = leaf(name, "haproxy.pem");
    /** haproxy -c as uid 10001, gid 10001, no other groups: it opens the bundle as HAProxy's container would. */
    const checkAsContainer = () =>
      spawnSync("setpriv", ["--reuid=10001", "--regid=10001", "--clear-groups", "haproxy", "-c", "-f", cfg], {
        encoding: "utf8",
      });
    for (const when of ["exported", "renewed"]) {
      if (when === "renewed") renew(name);
      const stat = statSync(bundle);
      assert.equal((stat.mode & 0o777).toString(8), "640", `${when}: mode`);
      assert.equal(stat.gid, 10001, `${when}: group`);
      const r = checkAsContainer();
      assert.equal(r.status, 0, `${when}: ${r.stdout}${r.stderr}`);
      holdsPair(name);
    }
    // A bundle that lost its group (chgrp, a copy) gets the key's back on the next export.
    chownSync(bundle, 0, 0);
    chmodSync(bundle, 0o600);
    assert.notEqual(checkAsContainer().status, 0, "0600 root: the container's user cannot open it");
    assert.equal(haproxyExport(name).code, 0);
    assert.equal(statSync(bundle).gid, 10001);
    assert.equal(checkAsContainer().status, 0);
    // Never wider than the key: a 0600 key gives a 0600 bundle, which the container's user cannot open.
    const narrow = "narrow.local";
    assert.equal(cli(["server", narrow, ...kt], dir).code, 0);
    assert.equal(haproxyExport(narrow).code, 0);
    assert.equal((statSync(leaf(narrow, "haproxy.pem")).mode & 0o777).toString(8), "600");
    // `server NAME --key-group` on an existing server gives its key and its bundle the group at once.
    const shared = cli(["server", narrow, ...kt, "--key-group", "10001"], dir);
    assert.equal(shared.code, 0, shared.stderr);
    assert.match(shared.stdout, /narrow\.local\/haproxy\.pem: existing key given group 10001, mode 640/);
    assert.equal(statSync(leaf(narrow, "haproxy.pem")).gid, 10001);
  });

  it("under an intermediate, renew rebuilds fullchain.crt (nginx and Caddy serve it) and haproxy.pem with the chain", () => {
    const sub = join(dir, "intermediate");
    const root = join(sub, "certs/mcp");
    const args = ["--out", root, "--key-type", "ecdsa-p256", "-q"];
    assert.equal(cli(["ca", "--intermediate", ...args], dir).code, 0);
    assert.equal(cli(["server", SERVER, ...args], dir).code, 0);
    for (const kind of ["nginx", "haproxy"])
      assert.equal(cli(["export", kind, "--out", root, "--server", SERVER], dir).code, 0);
    const file = (f: string) => join(root, "servers", SERVER, f);
    const r = cli(["renew", "--force", "--out", root, SERVER], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cert = serialOf(read(file("server.crt")));
    for (const f of ["fullchain.crt", "haproxy.pem"]) {
      assert.equal(serialOf(read(file(f))), cert, `${f} holds the renewed cert`);
      const verified = openssl([
        "verify",
        "-x509_strict",
        "-CAfile",
        join(root, "ca/ca.crt"),
        "-untrusted",
        file(f),
        file("server.crt"),
      ]);
      assert.equal(verified.code, 0, `${f}: ${verified.stderr}`);
    }
    assert.equal((read(file("haproxy.pem")).match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    assert.equal(cli(["check", "--out", root], dir).code, 0);
  });
});
