/**
 * `renew NAME` costs one leaf: it reads the leaf it renews (and the CAs, the ledger), not every
 * leaf of the tree (issue 24). strace shows which files the process opens.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, cli, pluginConfig, tempDir, verifyStrict, writeFile } from "./helpers.js";

const strace = spawnSync("strace", ["-V"]).status === 0;

describe("renew NAME reads one leaf", { skip: strace ? false : "strace not installed" }, () => {
  let base: string;
  before(() => {
    const cwd = tempDir();
    writeFile(join(cwd, "config.yaml"), pluginConfig([{ name: "one" }, { name: "two" }, { name: "three" }]));
    base = join(cwd, "t");
    const r = cli(["all", "--key-type", "ecdsa-p256", "--config", "config.yaml", "--out", base, "-q"], cwd);
    assert.equal(r.code, 0, r.stderr);
  });

  it("renew two --force opens plugins/two's files and no other leaf's (before: check read all of them)", () => {
    const cwd = tempDir();
    const tree = join(cwd, "t");
    cpSync(base, tree, { recursive: true });
    const before = new X509Certificate(readFileSync(join(tree, "plugins/two/server.crt"))).serialNumber;
    const trace = join(cwd, "trace");
    const r = spawnSync(
      "strace",
      [
        "-f",
        "-qq",
        "-e",
        "trace=openat,open",
        "-o",
        trace,
        process.execPath,
        BIN,
        "renew",
        "two",
        "--force",
        "--out",
        tree,
      ],
      {
        cwd,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", CI: "1", MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "" },
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /plugin +two /);
    const after = new X509Certificate(readFileSync(join(tree, "plugins/two/server.crt"))).serialNumber;
    assert.notEqual(after, before, "two was renewed");
    assert.equal(verifyStrict(join(tree, "ca/ca.crt"), join(tree, "plugins/two/server.crt")).code, 0);
    const opened = readFileSync(trace, "utf8")
      .split("\n")
      .map((l) => /open(?:at)?\([^"]*"([^"]+)"/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined);
    assert.ok(
      opened.some((p) => p.endsWith("plugins/two/server.crt")),
      "the trace sees the renewed leaf's files",
    );
    const others = opened.filter((p) => /(plugins\/(one|three)|gateway)\/[^/]+$/.test(p));
    assert.deepEqual(others, [], "no file of another leaf is opened");
  });
});
