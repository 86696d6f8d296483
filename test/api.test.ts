/**
 * The library API as a user gets it: the packed tarball installed into a fresh project, its
 * types checked by tsc, and in-memory certificates completing real mutual-TLS handshakes.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MtlsError, createMemoryCa, verifyPem, type MemoryCa, type MemoryCert } from "../src/index.js";
import { ROOT, cli, mtlsHandshake, openssl, read, tempDir, writeFile } from "./helpers.js";

const DAY_MS = 86_400_000;

/** A child process, outside this test runner (NODE_TEST_CONTEXT would swallow a child's own node --test report). */
function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      NODE_TEST_CONTEXT: undefined,
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    },
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

describe("the packed package in a fresh consumer project", () => {
  let app: string;
  let files: string[];

  before(() => {
    const work = tempDir("mtls-certs-consumer-");
    // dist/ is already built by `npm test`'s pretest; --ignore-scripts keeps other tests' dist/ untouched.
    const pack = run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", work], ROOT);
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = join(work, pack.stdout.trim().split("\n").pop()!);
    files = run("tar", ["-tzf", tarball], work).stdout.split("\n").filter(Boolean);
    app = join(work, "app");
    mkdirSync(app);
    for (const f of readdirSync(join(ROOT, "test", "consumer")))
      copyFileSync(join(ROOT, "test", "consumer", f), join(app, f));
    // The cache holds every dependency after `npm ci`; the registry is only asked when it does not.
    const install = run("npm", ["install", "--prefer-offline", "--no-save", tarball, "@types/node@20"], app);
    assert.equal(install.code, 0, install.stderr);
  });

  it("ships the type declarations next to the code, and no tests or sources", () => {
    for (const f of [
      "package/dist/index.js",
      "package/dist/index.d.ts",
      "package/dist/memory.d.ts",
      "package/dist/commands/verify.d.ts",
      "package/bin/mtls-certs.js",
    ])
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    assert.deepEqual(
      files.filter((f) => /^package\/(src|test|build)\//.test(f)),
      [],
    );
  });

  it("type-checks a consumer's TypeScript against the installed package (no DOM lib, and strict lib checks with DOM)", () => {
    const tsc = join(ROOT, "node_modules", ".bin", "tsc");
    const plain = run(tsc, ["-p", "tsconfig.json"], app);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    const strict = run(tsc, ["-p", "tsconfig.json", "--noEmit", "--lib", "ES2022,DOM", "--skipLibCheck", "false"], app);
    assert.equal(strict.code, 0, strict.stdout + strict.stderr);
  });

  it("runs the consumer: an in-memory CA's leaves complete a mutual-TLS handshake, and errors carry code and exit code", () => {
    const r = run(process.execPath, [join("dist", "consumer.js")], app);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      greeting: "hello test-suite",
      verified: true,
      refused: { code: "E_BAD_NAME", exitCode: 2 },
    });
    assert.ok(!existsSync(join(app, "certs")), "the in-memory mode wrote files");
  });

  it("the Library API page's test-suite example type-checks against the package and passes under node --test", () => {
    const readme = read(join(ROOT, "docs", "library-api.md"));
    const example = /## In-memory certificates for a test suite[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, "docs/library-api.md: no ```ts example under 'In-memory certificates for a test suite'");
    writeFile(join(app, "readme.ts"), example);
    writeFile(join(app, "tsconfig.readme.json"), JSON.stringify({ extends: "./tsconfig.json", files: ["readme.ts"] }));
    const tsc = run(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.readme.json"], app);
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
    const test = run(process.execPath, ["--test", "--test-reporter=tap", join("dist", "readme.js")], app);
    assert.equal(test.code, 0, test.stdout + test.stderr);
    assert.match(test.stdout, /# pass 1/);
  });
});

describe("--json on every command", () => {
  /** `mtls-certs ...args --help` in process: forty spawned CLIs would cost seconds each on two cores. */
  async function help(args: string[]): Promise<string> {
    let out = "";
    const stdout = new Writable({
      write: (chunk, _enc, done) => {
        out += String(chunk);
        done();
      },
    });
    const stderr = new Writable({ write: (_chunk, _enc, done) => done() });
    // dist/, as the bin runs it: cli.js reads ../package.json for --version.
    const { run } = (await import(pathToFileURL(join(ROOT, "dist", "cli.js")).href)) as typeof import("../src/cli.js");
    await run([...args, "--help"], { stdout, stderr, env: {} });
    return out;
  }

  /** Every runnable command, groups (`key`, `export`) expanded, from the CLI's own --help. */
  async function commands(prefix: string[] = []): Promise<string[][]> {
    // The top level lists commands under group headings ("Issue certificates:", …), a group under "Commands:".
    const sections = [...(await help(prefix)).matchAll(/^([A-Z][^\n]*):\n((?: {2}.*\n?)*)/gm)].filter(
      (m) => m[1] !== "Options",
    );
    const names = sections
      .flatMap((m) => [...m[2]!.matchAll(/^ {2}([a-z][a-z0-9-]*)/gm)].map((n) => n[1]!))
      .filter((n) => n !== "help");
    const found: string[][] = [];
    for (const name of names) {
      if (/^Commands:/m.test(await help([...prefix, name]))) found.push(...(await commands([...prefix, name])));
      else found.push([...prefix, name]);
    }
    return found;
  }

  it("every command and subcommand offers --json", async () => {
    const all = await commands();
    assert.ok(all.length >= 10, `only ${all.length} commands found`);
    const without: string[] = [];
    for (const c of all) if (!/^\s+--json\b/m.test(await help(c))) without.push(c.join(" "));
    assert.deepEqual(without, []);
  });

  it("a tree's life in JSON: each command prints exactly one document on stdout, progress and warnings on stderr", () => {
    const dir = tempDir();
    const env = { P12_PW: "p12-secret", KEY_PW: "key-secret" };
    const runs: string[][] = [
      ["ca", "--key-type", "ecdsa-p256"],
      ["gateway", "--key-type", "ecdsa-p256"],
      ["plugin", "alpha", "--key-type", "ecdsa-p256", "--ip", "127.0.0.1"],
      ["all", "--key-type", "ecdsa-p256"],
      ["server", "api.internal", "--key-type", "ecdsa-p256"],
      ["client", "alice", "--key-type", "ecdsa-p256"],
      ["https", "--key-type", "ecdsa-p256"],
      ["jwt", "--ecdsa"],
      ["check"],
      ["renew"],
      ["revoke", "alpha"],
      ["crl"],
      ["fingerprint", "certs/mcp/ca/ca.crt"],
      ["inspect", "certs/mcp/plugins/example-plugin-a/server.crt"],
      ["verify", "certs/mcp/plugins/example-plugin-a/server.crt", "--host", "localhost"],
      ["export", "p12", "example-plugin-a", "--out", "a.p12", "--password-env", "P12_PW"],
      ["export", "plugin-tls", "--plugin", "example-plugin-a"],
      ["plugin", "../escape"],
    ];
    for (const args of runs) {
      const r = cli([...args, "--json"], dir, env);
      assert.notEqual(r.code, null, `${args.join(" ")}: killed`);
      let doc: unknown;
      assert.doesNotThrow(
        () => (doc = JSON.parse(r.stdout)),
        `${args.join(" ")} --json (exit ${r.code}) printed:\n${r.stdout}\nstderr:\n${r.stderr}`,
      );
      assert.equal(typeof doc, "object");
      assert.ok(!/\x1b\[/.test(r.stdout), `${args.join(" ")}: colour codes in the JSON`);
      if (args[1] === "../escape")
        assert.deepEqual([r.code, (doc as { error: { code: string } }).error.code], [2, "E_BAD_NAME"]);
      else assert.ok(r.code === 0 || r.code === 1, `${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
    }
  });
});

describe("in-memory mode", () => {
  let ca: MemoryCa;
  let server: MemoryCert;
  let client: MemoryCert;
  let dir: string;

  before(async () => {
    dir = tempDir();
    ca = await createMemoryCa({ keyType: "ecdsa-p256" });
    [server, client] = await Promise.all([
      ca.issue({ role: "server", name: "localhost", sans: ["IP:127.0.0.1"] }),
      ca.issue({ role: "gateway" }),
    ]);
  });

  it("a server and a gateway client from one memory CA complete a mutual-TLS handshake over node:tls", async () => {
    const result = await mtlsHandshake(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem },
      { cert: client.certPem, key: client.keyPem, ca: server.caPem },
      { servername: "localhost" },
    );
    assert.deepEqual(result, { ok: true, peerCn: "mcp-gateway-client" });
  });

  it("makes the same profiles as the tree: openssl verifies them with -x509_strict for their purpose", () => {
    const caFile = writeFile(join(dir, "ca.pem"), ca.certPem);
    const serverFile = writeFile(join(dir, "server.pem"), server.certPem);
    const clientFile = writeFile(join(dir, "client.pem"), client.certPem);
    assert.equal(
      openssl([
        "verify",
        "-x509_strict",
        "-purpose",
        "sslserver",
        "-verify_ip",
        "127.0.0.1",
        "-CAfile",
        caFile,
        serverFile,
      ]).code,
      0,
    );
    assert.equal(openssl(["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", caFile, clientFile]).code, 0);
    // A gateway cert is clientAuth only: openssl refuses it as a server, as a peer would.
    assert.notEqual(
      openssl(["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", caFile, clientFile]).code,
      0,
    );
  });

  it("a client from another memory CA is refused by the server", async () => {
    const other = await createMemoryCa({ keyType: "ecdsa-p256" });
    const stranger = await other.issue({ role: "client", name: "stranger" });
    const result = await mtlsHandshake(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem },
      { cert: stranger.certPem, key: stranger.keyPem, ca: ca.certPem },
      { servername: "localhost" },
    );
    assert.equal(result.ok, false);
  });

  it("notBefore/notAfter make an expired fixture: node:tls refuses it and verifyPem names the cause", async () => {
    const now = new Date();
    const expired = await ca.issue({
      role: "server",
      name: "localhost",
      notBefore: new Date(now.getTime() - 10 * DAY_MS),
      notAfter: new Date(now.getTime() - DAY_MS),
    });
    const result = await mtlsHandshake(
      { cert: expired.certPem, key: expired.keyPem, ca: ca.certPem },
      { cert: client.certPem, key: client.keyPem, ca: ca.certPem },
      { servername: "localhost" },
    );
    assert.equal(result.ok, false);
    assert.match(result.error ?? "", /expired/);
    const report = await verifyPem({ certPem: expired.certPem, caPem: ca.certPem, host: "localhost" });
    assert.deepEqual(
      report.problems.map((p) => p.code),
      ["expired"],
    );
  });

  it("refuses bad input with MtlsError: a stable code and the CLI's exit code", async () => {
    await assert.rejects(
      ca.issue({ role: "plugin", name: "../escape" }),
      (e) => e instanceof MtlsError && e.code === "E_BAD_NAME" && e.exitCode === 2,
    );
    await assert.rejects(
      ca.issue({ role: "server", name: "localhost", sans: ["IP:300.1.1.1"] }),
      (e) => e instanceof MtlsError && e.code === "E_BAD_IP",
    );
    await assert.rejects(
      createMemoryCa({ keyType: "ecdsa-p256", days: 0 }),
      (e) => e instanceof MtlsError && e.code === "E_BAD_DAYS" && e.exitCode === 2,
    );
  });
});
