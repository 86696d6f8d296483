/**
 * One look for output: dates as `2029-03-04 02:57 UTC` for people (ISO 8601 in JSON), correct
 * plurals, a "next" block after issuing (not with --json or -q), `renew --dry-run` says "would
 * keep", and a new key in an ECDSA tree says which type it got and why.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { BIN, cli, cliEnv, tempDir, opensslEcRequest } from "./helpers.js";

const EC = ["--key-type", "ecdsa-p256"];
const HUMAN_DATE = /\d{4}-\d\d-\d\d \d\d:\d\d UTC/;

describe("one look for output", () => {
  it("all: dates for people, then a next block naming the files, export env and check", () => {
    const dir = tempDir("mtls-look-");
    const r = cli(["all", ...EC], dir, { MTLS_CERTS_COMMAND: "" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`created ca .*until ${HUMAN_DATE.source}`));
    assert.doesNotMatch(r.stdout, /T\d\d:\d\d/, "no ISO timestamps for people");
    const next = r.stdout.split("next:\n")[1] ?? "";
    assert.match(next, /files +certs\/mcp\//);
    // Run as `node <path>`: the hints start with that path, which runs when pasted.
    assert.ok(next.includes(`gateway  ${BIN} export env --gateway\n`), next);
    assert.ok(next.includes(`plugin   ${BIN} export env --plugin example-plugin-a\n`), next);
    assert.ok(next.includes(`CI       ${BIN} check --within 30\n`), next);
    // Nothing new: no next block. JSON and -q: never.
    assert.doesNotMatch(cli(["all", ...EC], dir).stdout, /next:/);
    const other = tempDir("mtls-look-");
    const json = cli(["all", ...EC, "--json"], other);
    const doc = JSON.parse(json.stdout) as { certificates: Array<{ notAfter: string }> };
    assert.match(doc.certificates[0]!.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, "ISO 8601 in JSON");
    assert.doesNotMatch(cli(["client", "bob", ...EC, "-q"], other).stdout, /next:/);
  });

  it("a tree elsewhere: the next block's commands name it with --out", () => {
    const dir = tempDir("mtls-look-");
    const r = cli(["gateway", ...EC, "--out", "elsewhere"], dir);
    assert.match(r.stdout, /mtls-certs export env --gateway --out elsewhere\n/);
    assert.match(r.stdout, /mtls-certs check --within 30 --out elsewhere\n/);
  });

  it("hints use the command the user ran (issue 28 §5): on PATH, under npx, a project's node_modules/.bin, and files that exist", () => {
    const dir = tempDir("mtls-look-");
    // A project install: node_modules/.bin/mtls-certs, a link to the package's bin, as npm makes it.
    mkdirSync(join(dir, "node_modules/.bin"), { recursive: true });
    symlinkSync(BIN, join(dir, "node_modules/.bin/mtls-certs"));
    const env = cliEnv({ MTLS_CERTS_COMMAND: "" });
    const project = spawnSync(join(dir, "node_modules/.bin/mtls-certs"), ["gateway", ...EC], {
      cwd: dir,
      encoding: "utf8",
      env,
    });
    assert.equal(project.status, 0, project.stderr);
    assert.match(project.stdout, /^ {2}gateway {2}\.\/node_modules\/\.bin\/mtls-certs export env --gateway$/m);
    // The same file reached through PATH: its bare name, which the shell finds again.
    const onPath = spawnSync("mtls-certs", ["plugin", "p1", ...EC], {
      cwd: dir,
      encoding: "utf8",
      env: { ...env, PATH: `${join(dir, "node_modules/.bin")}:${process.env.PATH}` },
    });
    assert.equal(onPath.status, 0, onPath.stderr);
    assert.match(onPath.stdout, /^ {2}plugin {3}mtls-certs export env --plugin p1$/m);
    // Under npx (npm exec sets npm_command=exec): `npx mtls-certs`, in hints and in an error's hint.
    const npx = cli(["plugin", "p2", ...EC], dir, { npm_command: "exec", MTLS_CERTS_COMMAND: "" });
    assert.match(npx.stdout, /^ {2}plugin {3}npx mtls-certs export env --plugin p2$/m);
    assert.match(npx.stdout, /^ {2}CI {7}npx mtls-certs check --within 30$/m);
    const refused = cli(["export", "nginx", "--server", "nosuch", "-o", "x.conf"], dir, {
      npm_command: "exec",
      MTLS_CERTS_COMMAND: "",
    });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^hint: make it with `npx mtls-certs server nosuch`$/m);
    // A cert signed from a CSR: the key stays with its owner, so no client.pem in the curl hint.
    const csr = opensslEcRequest(join(dir, "b.key"), join(dir, "b.csr"), ["-subj", "/CN=backend-prod"]);
    assert.equal(csr.code, 0, csr.stderr);
    const signed = cli(["sign", "b.csr", "client", "backend-prod"], dir, {
      npm_command: "exec",
      MTLS_CERTS_COMMAND: "",
    });
    assert.equal(signed.code, 0, signed.stderr);
    const curl = signed.stdout.match(/^ {2}client {3}curl --cert (\S+) /m);
    assert.ok(curl, signed.stdout);
    assert.ok(existsSync(join(dir, curl[1]!)), `${curl[1]} exists`);
    assert.doesNotMatch(signed.stdout, /client\.pem/);
  });

  it("issue 28 §8: one column for until, adopt's dates for people, renew --ca says why apart from what, no doubled labels", () => {
    const dir = tempDir("mtls-look-");
    assert.equal(cli(["plugin", "a", ...EC, "-q"], dir).code, 0);
    const r = cli(["plugin", "a-much-longer-plugin-name", ...EC], dir);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => l.includes(" until "));
    assert.equal(rows.length, 2, r.stdout);
    assert.equal(new Set(rows.map((l) => l.indexOf("certs/mcp/"))).size, 1, `paths in one column:\n${rows.join("\n")}`);
    assert.equal(new Set(rows.map((l) => l.indexOf(" until "))).size, 1, `until in one column:\n${rows.join("\n")}`);
    // adopt: the ledger re-made from the tree, each line's date as every other date reads.
    rmSync(join(dir, "certs/mcp/ca/ledger.json"));
    const adopt = cli(["adopt"], dir);
    assert.equal(adopt.code, 0, adopt.stderr);
    const adopted = `${adopt.stdout}${adopt.stderr}`;
    assert.match(adopted, new RegExp(`adopted .*plugins/a/server\\.crt: .*until ${HUMAN_DATE.source}`));
    assert.doesNotMatch(adopted, /\d{4}-\d\d-\d\dT\d\d:\d\d/, "no ISO timestamps for people");
    // renew --ca: the result (key, signer) and the reason are told apart.
    const renew = cli(["renew", "--ca"], dir);
    assert.equal(renew.code, 0, renew.stderr);
    assert.match(renew.stdout, /^renewed +plugin +a +.*; new key; why: signed by the previous CA$/m);
    // A cert whose name is its role is named once: `gateway`, not `gateway gateway`.
    assert.equal(cli(["gateway", ...EC, "-q", "--days", "10"], dir).code, 0);
    const github = cli(["check", "--format", "github"], dir);
    assert.match(
      github.stdout,
      /^::warning file=certs\/mcp\/gateway\/client\.crt,title=mtls-certs%3A gateway expiring::gateway: expiring; /m,
    );
    assert.doesNotMatch(github.stdout, /gateway gateway|ca ca/);
  });

  it("check: one date format, singular and plural right", () => {
    const dir = tempDir("mtls-look-");
    assert.equal(cli(["ca", ...EC, "-q"], dir).code, 0);
    const one = cli(["check"], dir);
    assert.match(one.stdout, new RegExp(`ca +ca +ContextForge-CA +${HUMAN_DATE.source}`));
    assert.match(one.stdout, /^1 certificate in certs\/mcp; all ok$/m);
    assert.equal(cli(["gateway", ...EC, "-q"], dir).code, 0);
    assert.match(cli(["check"], dir).stdout, /^2 certificates in certs\/mcp; all ok$/m);
    // -q: nothing when all is well.
    const quiet = cli(["check", "-q"], dir);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stdout, "");
  });

  it("renew --dry-run says would renew / would keep, never kept", () => {
    const dir = tempDir("mtls-look-");
    assert.equal(cli(["all", ...EC, "-q"], dir).code, 0);
    const r = cli(["renew", "--dry-run"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^would keep +gateway/m);
    assert.match(r.stdout, /^would keep +plugin/m);
    assert.match(r.stdout, /0 would be renewed, 3 would be kept/);
    assert.doesNotMatch(r.stdout, /^kept/m);
    const forced = cli(["renew", "--dry-run", "--force", "gateway"], dir);
    assert.match(forced.stdout, /^would renew +gateway/m);
  });

  it("a new key in an ECDSA tree says which type it is and why", () => {
    const dir = tempDir("mtls-look-");
    assert.equal(cli(["ca", ...EC, "-q"], dir).code, 0);
    const r = cli(["client", "bob", "--key-type", "ecdsa-p384"], dir);
    assert.doesNotMatch(r.stderr, /new keys are/, "an asked-for type needs no explanation");
    const picked = cli(["server", "srv.local", "--jobs", "1"], dir);
    assert.equal(picked.code, 0, picked.stderr);
    assert.match(
      picked.stderr,
      /warning: new keys are rsa4096, the default \(no --key-type given\), while the CA's key is ecdsa-p256; pass --key-type ecdsa-p256/,
    );
    assert.ok(join(dir, "certs/mcp/servers/srv.local/server.key"));
  });

  it("verify's fixes name the real plugin, and none points the gateway's client cert at the plugin config", () => {
    const dir = tempDir("mtls-look-");
    assert.equal(cli(["all", ...EC, "-q"], dir).code, 0);
    const plugin = cli(["verify", "example-plugin-a", "--host", "plugin.internal"], dir);
    assert.equal(plugin.code, 1);
    assert.match(
      plugin.stdout,
      /`mtls-certs renew example-plugin-a --san plugin\.internal` re-issues it now .*mcp\.url \(or grpc\.target\) of plugin example-plugin-a .*`mtls-certs renew example-plugin-a`/,
    );
    assert.doesNotMatch(plugin.stdout, /<name>/);
    const gateway = cli(["verify", "gateway", "--host", "x.internal"], dir);
    assert.equal(gateway.code, 1);
    assert.doesNotMatch(gateway.stdout, /mcp\.url|plugin config|<name>/);
    assert.match(gateway.stdout, /the gateway's client cert, which names no host/);
  });
});

describe("a reader that leaves early (`mtls-certs check | head -1`)", () => {
  /** Runs the CLI with its stdout pipe closed by the reader before the first write. */
  function withClosedReader(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.destroy();
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      child.on("close", (code) => done({ code, stderr }));
    });
  }

  it("--help, and check on a tree: no EPIPE crash, the command's own exit code", async () => {
    const dir = tempDir("mtls-epipe-");
    const help = await withClosedReader(["sign", "--help"], dir);
    assert.doesNotMatch(help.stderr, /EPIPE|Unhandled/);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(cli(["all", ...EC, "-q"], dir).code, 0);
    const check = await withClosedReader(["check"], dir);
    assert.doesNotMatch(check.stderr, /EPIPE|Unhandled/);
    assert.equal(check.code, 0, check.stderr);
    // A verdict still reaches the exit code: a key others can read fails the check.
    chmodSync(join(dir, "certs/mcp/gateway/client.key"), 0o644);
    const failing = await withClosedReader(["check"], dir);
    assert.doesNotMatch(failing.stderr, /EPIPE|Unhandled/);
    assert.equal(failing.code, 1, failing.stderr);
  });
});
