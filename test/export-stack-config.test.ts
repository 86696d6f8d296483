/**
 * `all --config mcp-stack.yaml`: the gateway's deploy config, detected by its shape. Its
 * `plugins:` list names the plugins, its `certificates:` section the tree and the validity,
 * unless a flag says otherwise; a file of neither shape is exit 2 naming the file.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parsePluginConfig } from "../src/config/plugin-config.js";
import { cli, openssl, tempDir, writeFile } from "./helpers.js";

const STACK = `deployment:
  type: kubernetes
  namespace: mcp-gateway-prod
gateway:
  image: mcpgateway/mcpgateway:latest
  mtls_enabled: true
plugins:
  - name: OPAPluginFilter
    image: mcpgateway-opapluginfilter:latest
    mtls_enabled: true
  - name: LLMGuardPlugin
    repo: https://github.com/org/repo.git
  - name: PlainPlugin
    mtls_enabled: false
certificates:
  validity_days: 30
  auto_generate: true
  ca_path: ./deploy/certs/ca
  gateway_path: ./deploy/certs/gateway
  plugins_path: ./deploy/certs/plugins
`;

function lifetimeDays(certFile: string): number {
  const dates = openssl(["x509", "-in", certFile, "-noout", "-startdate", "-enddate"]).stdout;
  const date = (field: string) => Date.parse(new RegExp(`${field}=(.+)`).exec(dates)?.[1] ?? "");
  return Math.round((date("notAfter") - date("notBefore")) / 86_400_000);
}

describe("all --config mcp-stack.yaml: the gateway's deploy config", () => {
  it("is detected by shape: every mTLS plugin gets a cert, in the tree and for the days its certificates section names", () => {
    const dir = tempDir();
    writeFile(join(dir, "mcp-stack.yaml"), STACK);
    const r = cli(["all", "--config", "mcp-stack.yaml", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(r.code, 0, r.stderr);
    const tree = join(dir, "deploy/certs");
    for (const file of [
      "ca/ca.crt",
      "gateway/client.crt",
      "plugins/OPAPluginFilter/server.crt",
      "plugins/LLMGuardPlugin/server.crt",
    ])
      assert.ok(existsSync(join(tree, file)), file);
    assert.equal(existsSync(join(tree, "plugins/PlainPlugin")), false, "mtls_enabled: false gets no cert");
    assert.equal(existsSync(join(dir, "certs/mcp")), false, "the default tree is not used");
    assert.equal(lifetimeDays(join(tree, "plugins/OPAPluginFilter/server.crt")), 30);
  });

  it("a flag beats the certificates section", () => {
    const dir = tempDir();
    writeFile(join(dir, "mcp-stack.yaml"), STACK);
    const r = cli(
      ["all", "--config", "mcp-stack.yaml", "--out", "elsewhere", "--days", "10", "--key-type", "ecdsa-p256", "-q"],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lifetimeDays(join(dir, "elsewhere/gateway/client.crt")), 10);
    assert.equal(existsSync(join(dir, "deploy")), false);
  });

  it("an unknown shape, or paths that split the tree, are exit 2 naming the file", () => {
    const dir = tempDir();
    const cases: Array<[string, RegExp]> = [
      [
        "gateway:\n  image: x\n",
        /odd\.yaml:1:1: no top-level `plugins:` key: not a plugin config .* or the gateway's mcp-stack\.yaml/,
      ],
      [
        STACK.replace("./deploy/certs/gateway", "./other/gateway"),
        /odd\.yaml:\d+:\d+: certificates\.gateway_path "\.\/other\/gateway" is not under \.\/deploy\/certs/,
      ],
      [
        STACK.replace("./deploy/certs/plugins", "./deploy/certs/plugin-certs"),
        /odd\.yaml:\d+:\d+: certificates\.plugins_path .* must end in \/plugins/,
      ],
      [
        STACK.replace("validity_days: 30", "validity_days: 0"),
        /odd\.yaml:\d+:\d+: certificates\.validity_days: "0" is not a whole number of days/,
      ],
    ];
    for (const [text, message] of cases) {
      writeFile(join(dir, "odd.yaml"), text);
      const r = cli(["all", "--config", "odd.yaml", "--key-type", "ecdsa-p256", "-q"], dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(existsSync(join(dir, "certs")) || existsSync(join(dir, "deploy")), false, "nothing written");
    }
  });

  it("a plain plugin config has no certificates section and keeps its kind: external rule", () => {
    const plain = parsePluginConfig(
      'plugins:\n  - name: "A"\n    kind: "external"\n  - name: "B"\n    kind: "native"\n',
      "config.yaml",
    );
    assert.equal(plain.stack, undefined);
    assert.deepEqual(
      plain.plugins.map((p) => p.name),
      ["A"],
    );
    const stack = parsePluginConfig(STACK, "mcp-stack.yaml");
    assert.deepEqual(stack.stack, { days: 30, out: "./deploy/certs", useCertManager: false });
    assert.deepEqual(
      stack.plugins.map((p) => p.name),
      ["OPAPluginFilter", "LLMGuardPlugin"],
    );
    assert.deepEqual(stack.skipped, ["PlainPlugin"]);
  });
});
