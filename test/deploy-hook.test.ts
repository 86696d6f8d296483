/**
 * Issue 19 §2: `renew --deploy-hook CMD` runs once after a renewal that changed something, with
 * the renewed certs in MTLS_CERTS_* variables and as JSON on stdin; a failing hook is exit 1 and
 * leaves the renewal in place. Proved with a real nginx (master + workers, on loopback, its own
 * prefix): the hook is `nginx -s reload`, and a handshake afterwards sees the new serial.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { issueServer } from "../src/commands/server.js";
import type { DeployHookInput } from "../src/commands/deploy-hook.js";
import type { RenewReport } from "../src/commands/renew/index.js";
import { cli, freePort, openssl, read, tempDir, waitForPort, writeFile } from "./helpers.js";

const DAY = 86_400_000;
const daysFromNow = (n: number): Date => new Date(Date.now() + n * DAY);
const fast = { keyType: "ecdsa-p256" as const };

/** A tree with one server cert for localhost that expires in 10 days: due for `renew`. */
async function dueTree(): Promise<{ out: string; dir: string }> {
  const dir = tempDir("mtls-certs-hook-");
  const out = join(dir, "certs/mcp");
  await issueServer("localhost", {
    ...fast,
    out,
    ip: ["127.0.0.1"],
    notBefore: daysFromNow(-300),
    notAfter: daysFromNow(10),
  });
  return { out, dir };
}

/** The serial openssl reads from a cert file, upper-case hex. */
function fileSerial(path: string): string {
  const r = openssl(["x509", "-in", path, "-noout", "-serial"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .replace(/^serial=/, "")
    .toUpperCase();
}

/** The serial of the cert a TLS server presents, verified against `ca` for host localhost. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((res, rej) => {
    const socket = tlsConnect(
      { host: "127.0.0.1", port, servername: "localhost", ca, rejectUnauthorized: true },
      () => {
        const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
        socket.end();
        res(serial);
      },
    );
    socket.on("error", rej);
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
  });
}

describe("renew --deploy-hook: nginx reloads the renewed cert", () => {
  it("the hook runs `nginx -s reload`; a handshake after the renewal sees the new serial", async (t) => {
    t.diagnostic(spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim());
    const { out, dir } = await dueTree();
    const leaf = join(out, "servers/localhost");
    const prefix = join(dir, "nginx");
    mkdirSync(join(prefix, "logs"), { recursive: true });
    const port = await freePort();
    const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
      .map((k) => `${k}_temp_path ${join(prefix, k)};`)
      .join(" ");
    // A master process with workers, in the foreground: what `nginx -s reload` signals via the pid file.
    const conf = writeFile(
      join(prefix, "nginx.conf"),
      `daemon off;\nmaster_process on;\nworker_processes 1;\npid ${join(prefix, "nginx.pid")};\nerror_log ${join(prefix, "error.log")} info;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n  ${temps}\n  server {\n    listen 127.0.0.1:${port} ssl;\n    ssl_certificate ${join(leaf, "server.crt")};\n    ssl_certificate_key ${join(leaf, "server.key")};\n    location / { return 200 "ok\\n"; }\n  }\n}\n`,
    );
    const nginx = spawn("nginx", ["-p", prefix, "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    nginx.stderr.on("data", (d) => (log += d));
    const exited = new Promise((res) => nginx.once("exit", res));
    try {
      await waitForPort(port, nginx, () => log);
      const ca = read(join(leaf, "ca.crt"));
      const before = await servedSerial(port, ca);
      assert.equal(before, fileSerial(join(leaf, "server.crt")));

      const hook = `nginx -p '${prefix}' -c '${conf}' -s reload`;
      const r = cli(["renew", "--out", out, "--json", "--deploy-hook", hook], dir);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as RenewReport & { deployHook: { ok: boolean; exitCode: number } };
      assert.equal(report.renewed.length, 1);
      assert.deepEqual(report.deployHook, { command: hook, ok: true, exitCode: 0, signal: null, error: null });
      assert.match(r.stderr, /running the deploy hook: nginx/);
      const renewed = fileSerial(join(leaf, "server.crt"));
      assert.notEqual(renewed, before);
      assert.equal(report.renewed[0]!.after.serial?.toUpperCase(), renewed);

      // nginx re-reads its config and certs on SIGHUP and hands new connections to new workers.
      let after = before;
      for (let i = 0; i < 50 && after === before; i++) {
        await new Promise((res) => setTimeout(res, 100));
        after = await servedSerial(port, ca);
      }
      assert.equal(after, renewed, `nginx still serves ${after}: ${log}`);

      // Without the hook nginx keeps the cert it has in memory: the reload is what made the difference.
      const unhooked = cli(["renew", "--out", out, "--force"], dir);
      assert.equal(unhooked.code, 0, unhooked.stderr);
      assert.notEqual(fileSerial(join(leaf, "server.crt")), renewed);
      await new Promise((res) => setTimeout(res, 1000));
      assert.equal(await servedSerial(port, ca), renewed);
    } finally {
      nginx.kill("SIGTERM");
      await exited;
    }
    assert.ok(!existsSync(join(prefix, "nginx.pid")), "nginx left its pid file: not stopped");
  });
});

describe("renew --deploy-hook: when it runs, what it is told, and what a failure does", () => {
  it("tells the hook the renewed certs in MTLS_CERTS_* variables and as JSON on stdin", async () => {
    const { out, dir } = await dueTree();
    const hook = `env | grep '^MTLS_CERTS_' | sort > '${dir}/env.txt'; cat > '${dir}/stdin.json'; echo hook says hello`;
    const r = cli(["renew", "--out", out, "--deploy-hook", hook], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /hook says hello/, "the hook's output goes to stderr");
    assert.doesNotMatch(r.stdout, /hook says hello/);
    const leaf = join(out, "servers/localhost");
    const cert = join(leaf, "server.crt");
    const env = read(join(dir, "env.txt"));
    assert.match(env, new RegExp(`^MTLS_CERTS_TREE=${out}$`, "m"));
    assert.match(env, /^MTLS_CERTS_RENEWED=server\/localhost$/m);
    assert.match(env, /^MTLS_CERTS_RENEWED_COUNT=1$/m);
    assert.match(env, new RegExp(`^MTLS_CERTS_RENEWED_CERTS=${cert}$`, "m"));
    assert.match(env, new RegExp(`^MTLS_CERTS_RENEWED_KEYS=${join(leaf, "server.key")}$`, "m"));
    assert.match(env, /^MTLS_CERTS_CA_ROTATED=0$/m);
    assert.match(env, new RegExp(`^MTLS_CERTS_BACKUP=${out}/\\.backup/`, "m"));
    const input = JSON.parse(read(join(dir, "stdin.json"))) as DeployHookInput;
    assert.equal(input.tree, out);
    assert.equal(input.renewed.length, 1);
    const [only] = input.renewed;
    assert.equal(only!.role, "server");
    assert.equal(only!.cert, cert);
    assert.equal(only!.serial?.toUpperCase(), fileSerial(cert));
    // The previous serial is the one in the backup folder.
    assert.equal(only!.previousSerial?.toUpperCase(), fileSerial(join(input.backup!, "servers/localhost/server.crt")));
    assert.equal(
      new Date(only!.notAfter).toISOString(),
      new Date(openssl(["x509", "-in", cert, "-noout", "-enddate"]).stdout.trim().slice(9)).toISOString(),
    );
    assert.deepEqual(input.failed, []);
  });

  it("does not run when nothing changed, nor in a dry run; env MTLS_CERTS_DEPLOY_HOOK works and the flag beats it", async () => {
    const { out, dir } = await dueTree();
    const marker = (name: string) => `touch '${join(dir, name)}'`;
    const dry = cli(["renew", "--out", out, "--dry-run", "--deploy-hook", marker("dry")], dir);
    assert.equal(dry.code, 1, dry.stderr); // the cert still expires in 10 days: attention
    assert.ok(!existsSync(join(dir, "dry")), "the hook ran in a dry run");
    assert.match(dry.stderr, /dry run: the deploy hook would run/);
    // From the environment when no flag says otherwise; the flag wins over it.
    const viaEnv = cli(["renew", "--out", out, "--deploy-hook", marker("flag")], dir, {
      MTLS_CERTS_DEPLOY_HOOK: marker("env"),
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.ok(existsSync(join(dir, "flag")) && !existsSync(join(dir, "env")));
    const again = cli(["renew", "--out", out, "--force"], dir, { MTLS_CERTS_DEPLOY_HOOK: marker("env") });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(existsSync(join(dir, "env")), "the env var's hook did not run");
    // Nothing due: nothing to deploy.
    const quiet = cli(["renew", "--out", out, "--deploy-hook", marker("idle")], dir);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.ok(!existsSync(join(dir, "idle")), "the hook ran although nothing was renewed");
  });

  it("keeps the passphrase variables the flags named out of the hook's environment; the rest is inherited", async () => {
    const dir = tempDir("mtls-certs-hook-secret-");
    const out = join(dir, "certs/mcp");
    const passphrase = "correct horse battery staple";
    await issueServer("localhost", {
      ...fast,
      out,
      keyPassphrase: passphrase,
      notBefore: daysFromNow(-300),
      notAfter: daysFromNow(10),
    });
    const hook = `env > '${dir}/env.txt'`;
    const r = cli(["renew", "--out", out, "--key-passphrase-env", "LEAF_SECRET", "--deploy-hook", hook], dir, {
      LEAF_SECRET: passphrase,
      UNRELATED_SETTING: "kept",
    });
    assert.equal(r.code, 0, r.stderr);
    const env = read(join(dir, "env.txt"));
    assert.match(env, /^UNRELATED_SETTING=kept$/m, "the hook lost the caller's environment");
    assert.match(env, /^MTLS_CERTS_RENEWED=server\/localhost$/m);
    assert.doesNotMatch(env, /LEAF_SECRET/, "the passphrase variable reached the hook");
    assert.ok(!env.includes(passphrase), "the passphrase reached the hook");
  });

  it("a failing hook is exit 1, said on stderr, and the renewal stays", async () => {
    const { out, dir } = await dueTree();
    const cert = join(out, "servers/localhost/server.crt");
    const before = fileSerial(cert);
    const r = cli(["renew", "--out", out, "--deploy-hook", "echo reload refused >&2; exit 3"], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /reload refused/);
    assert.match(r.stderr, /the deploy hook failed \(exit 3\)/);
    assert.match(r.stderr, /the renewal stands/);
    assert.notEqual(fileSerial(cert), before, "the renewal was undone");
    // The renewed tree is fine: check passes.
    assert.equal(cli(["check", "--out", out], dir).code, 0);
    // A command the shell cannot find is a failure too (sh: exit 127).
    const missing = cli(["renew", "--out", out, "--force", "--deploy-hook", "no-such-reload-command"], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /the deploy hook failed \(exit 127\)/);
    assert.ok(readFileSync(cert, "utf8").includes("BEGIN CERTIFICATE"));
  });
});
