/**
 * One look for output: dates as `2029-03-04 02:57 UTC` for people (ISO 8601 in JSON), correct
 * plurals, a "next" block after issuing (not with --json or -q), `renew --dry-run` says "would
 * keep", and a new key in an ECDSA tree says which type it got and why.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { BIN, cli, tempDir } from "./helpers.js";

const EC = ["--key-type", "ecdsa-p256"];
const HUMAN_DATE = /\d{4}-\d\d-\d\d \d\d:\d\d UTC/;

describe("one look for output", () => {
  it("all: dates for people, then a next block naming the files, export env and check", () => {
    const dir = tempDir("mtls-look-");
    const r = cli(["all", ...EC], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`created ca .*until ${HUMAN_DATE.source}`));
    assert.doesNotMatch(r.stdout, /T\d\d:\d\d/, "no ISO timestamps for people");
    const next = r.stdout.split("next:\n")[1] ?? "";
    assert.match(next, /files +certs\/mcp\//);
    assert.match(next, /mtls-certs export env --gateway\n/);
    assert.match(next, /mtls-certs export env --plugin example-plugin-a\n/);
    assert.match(next, /mtls-certs check --within 30\n/);
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
      /mcp\.url \(or grpc\.target\) of plugin example-plugin-a .*`mtls-certs renew --force example-plugin-a`/,
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
