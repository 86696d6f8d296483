/**
 * Issue 25 §1: a CA rotation without an outage where the gateway's deploy tooling reads trust.
 * cforge mounts certs/mcp/ca/ca.crt as the only trust file (Compose: the gateway; Kubernetes: both
 * sides, through mcp-ca-secret rendered from it). During `renew --ca` that file must hold every CA
 * still trusted, so old and new leaves, mixed, keep completing mutual TLS until
 * `ca --finish-rotation`. Proven with Python 3.13's strict default context (hostname checked) as
 * the gateway and node:tls as the plugin, both trusting ca/ca.crt as mounted; and on a Makefile
 * tree, whose old CA has the new CA's name and whose v1 gateway cert has no authority key id.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { nextGenerationName } from "../src/commands/renew/rotation.js";
import * as x509 from "../src/pki/x509.js";
import { cli, mtlsHandshake, openssl, pythonStrictClient, read, tempDir, writeFile } from "./helpers.js";
import { stackYaml } from "./gateway-root.js";
import { makeMakefileTree } from "./makefile-tree.js";

interface Leaf {
  cert: string;
  key: string;
}
interface Generation {
  plugin: Leaf;
  gateway: Leaf;
}

function leaves(tree: string, plugin: string): Generation {
  return {
    plugin: {
      cert: read(join(tree, "plugins", plugin, "server.crt")),
      key: read(join(tree, "plugins", plugin, "server.key")),
    },
    gateway: { cert: read(join(tree, "gateway/client.crt")), key: read(join(tree, "gateway/client.key")) },
  };
}

/** The gateway (Python 3.13 strict, hostname checked) dials the plugin; both trust `trustFile` as mounted. */
async function strictDial(dir: string, tag: string, plugin: Leaf, gateway: Leaf, trustFile: string, host: string) {
  const certfile = writeFile(join(dir, `${tag}-client.crt`), gateway.cert);
  const keyfile = writeFile(join(dir, `${tag}-client.key`), gateway.key);
  return pythonStrictClient({ ...plugin, ca: read(trustFile) }, { certfile, keyfile, cafile: trustFile }, host);
}

describe("renew --ca: ca/ca.crt, as the tooling mounts it, trusts old and new leaves until finish", () => {
  const dir = tempDir("mtls-certs-rotation-mounted-");
  const tree = join(dir, "certs/mcp");
  const trust = join(tree, "ca/ca.crt");
  let old: Generation;
  let fresh: Generation;

  before(() => {
    writeFile(join(dir, "mcp-stack.yaml"), stackYaml({ type: "compose" }));
    assert.equal(cli(["all", "--config", "mcp-stack.yaml", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    old = leaves(tree, "DenyListPlugin");
    const r = cli(["renew", "--ca", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    fresh = leaves(tree, "DenyListPlugin");
    assert.notEqual(fresh.plugin.cert, old.plugin.cert, "the leaves were re-issued under the new CA");
  });

  it("ca/ca.crt holds the signing CA first, then the previous one; the loader still signs with the new CA", () => {
    const certs = read(trust).match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    assert.equal(certs.length, 2);
    const subjects = openssl(["crl2pkcs7", "-nocrl", "-certfile", trust]).stdout;
    const printed = openssl(["pkcs7", "-print_certs", "-noout"], subjects).stdout;
    assert.match(printed, /subject=CN ?= ?ContextForge-CA G2[\s\S]*subject=CN ?= ?ContextForge-CA,/);
    // A leaf issued now is signed by the first cert (openssl verify against it alone).
    assert.equal(cli(["plugin", "LateComer", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    const first = writeFile(
      join(dir, "first.crt"),
      `${read(trust).split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`,
    );
    const v = openssl(["verify", "-x509_strict", "-CAfile", first, join(tree, "plugins/LateComer/server.crt")]);
    assert.equal(v.code, 0, v.stderr);
    const check = cli(["check"], dir);
    assert.equal(check.code, 0, check.stdout);
  });

  it("Python 3.13 strict, hostname checked: every mix of old and new plugin and gateway certs completes mutual TLS", async () => {
    const mixes: Array<[string, Leaf, Leaf]> = [
      ["old plugin, new gateway", old.plugin, fresh.gateway],
      ["new plugin, old gateway", fresh.plugin, old.gateway],
      ["old plugin, old gateway", old.plugin, old.gateway],
      ["new plugin, new gateway", fresh.plugin, fresh.gateway],
    ];
    for (const [what, plugin, gateway] of mixes) {
      const r = await strictDial(dir, what.replace(/\W+/g, "-"), plugin, gateway, trust, "denylistplugin");
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), "hello");
    }
  });

  it("after ca --finish-rotation ca/ca.crt is the new CA alone: new leaves pass, old ones are refused", async () => {
    const finish = cli(["ca", "--finish-rotation"], dir);
    assert.equal(finish.code, 0, finish.stderr);
    assert.equal((read(trust).match(/-----BEGIN CERTIFICATE-----/g) ?? []).length, 1);
    const ok = await strictDial(dir, "after-new", fresh.plugin, fresh.gateway, trust, "denylistplugin");
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await strictDial(dir, "after-old", old.plugin, fresh.gateway, trust, "denylistplugin");
    assert.notEqual(refused.code, 0, "the old plugin cert is no longer trusted");
    assert.match(refused.stderr, /certificate verify failed/);
    assert.equal(cli(["check"], dir).code, 0);
  });
});

describe("renew --ca on a Makefile tree: one CA name per generation, so leaves without a key id find their CA", () => {
  const dir = tempDir("mtls-certs-rotation-makefile-");
  let tree: string;
  let old: Generation;

  before(() => {
    tree = makeMakefileTree(dir, { plugins: ["DenyListPlugin"], bits: 2048 });
    old = leaves(tree, "DenyListPlugin");
    const r = cli(["renew", "--ca", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("the Makefile's v1 gateway cert (no authority key id) verifies through ca/ca.crt, new CA first under its own name", () => {
    const gatewayV1 = writeFile(join(dir, "old-gateway.crt"), old.gateway.cert);
    assert.doesNotMatch(openssl(["x509", "-in", gatewayV1, "-noout", "-text"]).stdout, /Authority Key Identifier/);
    assert.match(openssl(["x509", "-in", join(tree, "ca/ca.crt"), "-noout", "-subject"]).stdout, /ContextForge-CA G2/);
    // Through ca/ca.crt as renew --ca wrote it (new CA first, under its own name): it verifies.
    const v = openssl(["verify", "-CAfile", join(tree, "ca/ca.crt"), gatewayV1]);
    assert.equal(v.code, 0, v.stderr);
  });

  it("node:tls, both sides trusting ca/ca.crt: old Makefile leaves and new leaves, mixed, complete mutual TLS", async () => {
    const fresh = leaves(tree, "DenyListPlugin");
    const ca = read(join(tree, "ca/ca.crt"));
    for (const [what, plugin, gateway] of [
      ["old plugin, new gateway", old.plugin, fresh.gateway],
      ["new plugin, old gateway", fresh.plugin, old.gateway],
      ["old plugin, old gateway", old.plugin, old.gateway],
    ] as const) {
      const h = await mtlsHandshake({ ...plugin, ca }, { ...gateway, ca }, { servername: "localhost" });
      assert.ok(h.ok, `${what}: ${h.error}`);
    }
    // New leaves pass Python 3.13's strict checks through the same file (the old CA in it lacks
    // keyUsage, which strict refuses only on a chain that uses it).
    const r = await strictDial(dir, "makefile-new", fresh.plugin, fresh.gateway, join(tree, "ca/ca.crt"), "localhost");
    assert.equal(r.code, 0, r.stderr);
  });

  it("nextGenerationName counts generations and keeps the rest of the name", () => {
    const g2 = nextGenerationName(new x509.Name("CN=ContextForge-CA, O=ContextForge, OU=Plugins"));
    assert.equal(g2.toString(), "CN=ContextForge-CA G2, O=ContextForge, OU=Plugins");
    assert.equal(nextGenerationName(g2).toString(), "CN=ContextForge-CA G3, O=ContextForge, OU=Plugins");
    assert.equal(nextGenerationName(new x509.Name("O=Acme")).toString(), "O=Acme, CN=G2");
  });
});
