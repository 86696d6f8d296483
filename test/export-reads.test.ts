/**
 * An export of many leaves reads the tree's shared files once (issue 24: one read of the tree).
 * Every leaf it takes is held to the ledger and the CAs' keys (export/sources.ts requireLeaf);
 * those were read once per leaf before: ca/ledger.json and ca/ca.crt 501 times for 500 plugins,
 * the ledger parsed each time. Counted with strace; that the Secrets are right is the export
 * tests' to show: here, that every plugin's Secret is in the output.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, pluginConfig, tempDir, writeFile } from "./helpers.js";
import { HAS_STRACE, openedTwice, opensDuring } from "./open-count.js";

const PLUGINS = ["alpha", "beta", "gamma", "delta"];

describe("export k8s opens each file of the tree at most once (strace)", {
  skip: HAS_STRACE ? false : "strace not installed",
}, () => {
  it(`the gateway and ${PLUGINS.length} plugins: the ledger and ca/ca.crt once, every leaf's cert and key once`, () => {
    const cwd = tempDir();
    writeFile(
      join(cwd, "config.yaml"),
      pluginConfig(PLUGINS.map((name) => ({ name, url: `https://${name}.example.com:8000/mcp` }))),
    );
    const made = cli(["all", "--config", "config.yaml", "--key-type", "ecdsa-p256", "-q"], cwd);
    assert.equal(made.code, 0, made.stderr);
    const tree = join(cwd, "certs", "mcp");
    const { code, stdout, stderr, opens } = opensDuring(["export", "k8s", "--config", "config.yaml"], cwd, tree);
    assert.equal(code, 0, stderr);
    for (const name of PLUGINS)
      assert.match(stdout, new RegExp(`name: "?mcp-mcp-plugin-${name}-server-cert"?`), `${name}'s Secret`);
    assert.deepEqual(openedTwice(opens), []);
    for (const file of [
      "ca/ledger.json",
      "ca/ca.crt",
      "gateway/client.crt",
      "gateway/client.key",
      ...PLUGINS.flatMap((p) => [`plugins/${p}/server.crt`, `plugins/${p}/server.key`]),
    ])
      assert.equal(opens.get(join(tree, file)), 1, `${file} opened once`);
  });
});
