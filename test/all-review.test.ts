/**
 * `all` on an existing tree says what it kept and what is wrong with it (issue 15 §2): the
 * strict-peer policy's problems and the SANs the config now asks for, each with its fix; the
 * flags that did not apply to kept certs; a key wider than the key-mode rule, narrowed back; a
 * plugin reached over http://. The tree is complete, so the exit code stays 0.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, statSync } from "node:fs";
import { join } from "node:path";
import { widestKeyMode } from "../src/store/key-mode.js";
import type { IssueReport } from "../src/store/issue-types.js";
import { cli, pluginConfig, tempDir, writeFile } from "./helpers.js";
import { makeMakefileTree } from "./makefile-tree.js";

describe("all on a tree made before", () => {
  it("on the Makefile's tree: exit 0, each kept cert's problems and drift with its fix, the key narrowed, one next command", () => {
    const dir = tempDir();
    // RSA 2048 instead of the Makefile's 4096 to keep it quick; the recipes are otherwise its own.
    const out = makeMakefileTree(dir, { plugins: ["DenyListPlugin", "OPAPluginFilter"], bits: 2048 });
    const key = join(out, "plugins/DenyListPlugin/server.key");
    chmodSync(key, 0o644);
    writeFile(
      join(dir, "config.yaml"),
      pluginConfig([
        { name: "DenyListPlugin", url: "https://denylist:8443/mcp" },
        { name: "OPAPluginFilter", url: "http://opa-plugin:8000/mcp" },
      ]),
    );
    const r = cli(["all", "--config", "config.yaml", "--days", "90", "--key-type", "ecdsa-p256"], dir);
    assert.equal(r.code, 0, r.stderr);
    const block = (name: string) => r.stdout.split(/\n(?=kept|created)/).find((b) => b.includes(` ${name} `)) ?? "";
    assert.match(block("ca"), /key usage extension.*`mtls-certs renew --ca`/);
    assert.match(block("gateway"), /X\.509 v1 .*`mtls-certs renew --force gateway`/);
    assert.match(
      block("gateway"),
      /--days 90 did not apply to this kept cert \(825 days\): it applies to new certs; `mtls-certs renew --force gateway` re-issues/,
    );
    assert.match(block("gateway"), /--key-type ecdsa-p256 did not apply to this kept cert \(rsa2048\)/);
    assert.match(
      block("DenyListPlugin"),
      /missing SAN DNS:denylist that the plugin config asks for; run `mtls-certs renew DenyListPlugin`/,
    );
    assert.match(block("OPAPluginFilter"), /mcp\.url in the config is http:\/\/: the gateway will not use TLS/);
    assert.doesNotMatch(block("DenyListPlugin"), /http:\/\//);
    // Narrowed as the Makefile's chmod does, to what the key-mode rule allows this file.
    const after = statSync(key);
    assert.equal(after.mode & 0o777, widestKeyMode(after) & 0o644);
    assert.match(
      block("DenyListPlugin"),
      /server\.key: mode 644 was wider than the key-mode rule allows; narrowed to 6[04]0/,
    );
    // An http:// URL asks for no SAN (issue 25 §6): OPAPluginFilter's note is information, not attention.
    assert.doesNotMatch(block("OPAPluginFilter"), /missing SAN/);
    assert.match(r.stdout, /^4 kept; 3 need attention; next: `mtls-certs renew --ca`$/m);

    const json = JSON.parse(cli(["all", "--config", "config.yaml", "--json"], dir).stdout) as IssueReport;
    assert.equal(json.attention, 3);
    assert.equal(json.next, "mtls-certs renew --ca");
    const gateway = json.certificates.find((c) => c.role === "gateway")!;
    assert.ok(gateway.notes?.some((n) => n.includes("X.509 v1")));
    // Without --days/--key-type nothing is said about them.
    assert.ok(!gateway.notes?.some((n) => n.includes("did not apply")));
  });

  it("on its own complete tree: nothing needs attention, and nothing is said per cert", () => {
    const dir = tempDir();
    assert.equal(cli(["all", "--key-type", "ecdsa-p256"], dir).code, 0);
    const again = cli(["all", "--key-type", "ecdsa-p256"], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^4 kept; nothing needs attention$/m);
    assert.doesNotMatch(again.stdout, /^\s+- /m);
  });

  it("all --days 30: says what the next check says (issue 28 §8), each such cert noted", () => {
    const dir = tempDir();
    const r = cli(["all", "--key-type", "ecdsa-p256", "--days", "30"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^4 created; 3 expiring within 30 days \(`mtls-certs renew` re-issues them\)$/m);
    assert.match(r.stdout, /within check's and renew's 30-day window/);
    const again = cli(["all", "--key-type", "ecdsa-p256"], dir);
    assert.match(again.stdout, /^4 kept; 3 expiring within 30 days \(`mtls-certs renew` re-issues them\)$/m);
    const check = cli(["check"], dir);
    assert.equal(check.code, 0, check.stdout);
    assert.match(check.stdout, /; 3 expiring within 30 days \(`mtls-certs renew` re-issues them\)$/m);
  });
});
