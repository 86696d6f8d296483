/**
 * Issue 14: the tree works inside the gateway's own deploy tooling (cforge, mcp-stack.yaml) with
 * hostname checks on. Each name a plugin is dialed at is proven by Python 3.13's ssl
 * (VERIFY_X509_STRICT, check_hostname on) connecting to 127.0.0.1 with that name as SNI.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  cli,
  leafEnd,
  mtlsHandshake,
  openssl,
  pythonStrictClient,
  read,
  tempDir,
  writeFile,
  type Run,
} from "./helpers.js";

const FAST = ["--key-type", "ecdsa-p256", "-q"];

function stack(type: "compose" | "kubernetes", namespace?: string): string {
  return `deployment:
  type: ${type}
${namespace ? `  namespace: ${namespace}\n` : ""}plugins:
  - name: DenyListPlugin
    port: 8000
    mtls_enabled: true
  - name: OPAPluginFilter
    kind: native
certificates:
  validity_days: 825
  ca_path: ./certs/mcp/ca
  gateway_path: ./certs/mcp/gateway
  plugins_path: ./certs/mcp/plugins
`;
}

function sansOf(cert: string): string {
  return openssl(["x509", "-in", cert, "-noout", "-ext", "subjectAltName"]).stdout.split("\n")[1]?.trim() ?? "";
}

/** The gateway (client cert of gateway/, trusting only ca/ca.crt, as the tooling) dials `host`. */
function gatewayDials(tree: string, plugin: string, host: string): Promise<Run> {
  return pythonStrictClient(
    leafEnd(join(tree, "plugins", plugin), "server"),
    {
      certfile: join(tree, "gateway/client.crt"),
      keyfile: join(tree, "gateway/client.key"),
      cafile: join(tree, "ca/ca.crt"),
    },
    host,
  );
}

describe("all --config mcp-stack.yaml, deployment.type kubernetes", () => {
  let dir: string;
  let tree: string;
  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    writeFile(join(dir, "mcp-stack.yaml"), stack("kubernetes"));
    const r = cli(["all", "--config", "mcp-stack.yaml", ...FAST], dir);
    assert.equal(r.code, 0, r.stderr);
  });

  it("every plugin gets a cert, kind: external or not, with the Service names in namespace mcp-gateway", () => {
    assert.ok(existsSync(join(tree, "plugins/OPAPluginFilter/server.crt")), "kind: native still gets a cert");
    assert.equal(
      sansOf(join(tree, "plugins/DenyListPlugin/server.crt")),
      "DNS:DenyListPlugin, DNS:mcp-plugin-DenyListPlugin, DNS:localhost, DNS:mcp-plugin-denylistplugin.mcp-gateway, " +
        "DNS:mcp-plugin-denylistplugin.mcp-gateway.svc, DNS:mcp-plugin-denylistplugin.mcp-gateway.svc.cluster.local",
    );
  });

  it("Python 3.13 strict, hostname checked, accepts each name the tooling and cert-manager use", async () => {
    for (const host of [
      "mcp-plugin-denylistplugin",
      "mcp-plugin-denylistplugin.mcp-gateway",
      "mcp-plugin-denylistplugin.mcp-gateway.svc",
      "mcp-plugin-denylistplugin.mcp-gateway.svc.cluster.local",
    ]) {
      const r = await gatewayDials(tree, "DenyListPlugin", host);
      assert.equal(r.code, 0, `${host}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), "hello");
    }
  });

  it("and refuses the name in another namespace (the check is real)", async () => {
    const r = await gatewayDials(tree, "DenyListPlugin", "mcp-plugin-denylistplugin.other.svc");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /[Hh]ostname mismatch|doesn't match/);
  });

  it("deployment.namespace is used; check names the Service names a tree made without them lacks", () => {
    const other = tempDir();
    assert.equal(cli(["plugin", "DenyListPlugin", ...FAST], other).code, 0);
    writeFile(join(other, "mcp-stack.yaml"), stack("kubernetes", "mcp-prod"));
    const check = cli(["check", "--config", "mcp-stack.yaml", "--json"], other);
    assert.equal(check.code, 1);
    assert.match(
      check.stdout,
      /missing SAN DNS:mcp-plugin-denylistplugin\.mcp-prod\.svc that the plugin config asks for/,
    );
  });
});

describe("all --config mcp-stack.yaml, deployment.type compose", () => {
  it("the container host <name lowercased> is matched by the <Name> SAN; no Kubernetes names", async () => {
    const dir = tempDir();
    const tree = join(dir, "certs/mcp");
    writeFile(join(dir, "mcp-stack.yaml"), stack("compose"));
    const r = cli(["all", "--config", "mcp-stack.yaml", ...FAST], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      sansOf(join(tree, "plugins/DenyListPlugin/server.crt")),
      "DNS:DenyListPlugin, DNS:mcp-plugin-DenyListPlugin, DNS:localhost",
    );
    // The tooling's Compose URL: https://denylistplugin:8000/mcp.
    const dialed = await gatewayDials(tree, "DenyListPlugin", "denylistplugin");
    assert.equal(dialed.code, 0, dialed.stderr);
    const wrong = await gatewayDials(tree, "DenyListPlugin", "opapluginfilter");
    assert.notEqual(wrong.code, 0, "another plugin's host is refused");
  });
});

describe("ca --intermediate: every file a peer presents carries leaf + intermediate (§5)", () => {
  let tree: string;
  const root = () => read(join(tree, "ca/ca.crt"));
  const firstCert = (pem: string) => `${pem.split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`;
  before(() => {
    const dir = tempDir();
    tree = join(dir, "certs/mcp");
    writeFile(join(dir, "plugins/external/config.yaml"), "plugins:\n  - name: DenyListPlugin\n    kind: external\n");
    for (const args of [["ca", "--intermediate"], ["all"], ["client", "alice"]]) {
      const r = cli([...args, ...FAST], dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
  });

  it("server.crt, client.crt and client.pem hold the leaf first, then the intermediate", () => {
    const intermediate = read(join(tree, "ca/intermediate.crt"));
    for (const file of ["plugins/DenyListPlugin/server.crt", "gateway/client.crt", "clients/alice/client.pem"]) {
      const text = read(join(tree, file));
      assert.equal(text.match(/BEGIN CERTIFICATE/g)?.length, 2, file);
      assert.ok(text.includes(intermediate), `${file} carries the intermediate`);
      assert.match(openssl(["x509", "-in", join(tree, file), "-noout", "-issuer"]).stdout, /Intermediate/);
    }
  });

  it("node:tls: server and client each trust only the root, and the handshake succeeds both ways", async () => {
    const server = leafEnd(join(tree, "plugins/DenyListPlugin"), "server");
    const client = leafEnd(join(tree, "gateway"), "client");
    const ok = await mtlsHandshake(
      { ...server, ca: root() },
      { ...client, ca: root() },
      { servername: "mcp-plugin-DenyListPlugin" },
    );
    assert.ok(ok.ok, ok.error);
    assert.equal(ok.peerCn, "mcp-gateway-client");
    // The same with leaf-only files fails: the intermediate in the file is what makes it work.
    const bare = await mtlsHandshake(
      { ...server, cert: firstCert(server.cert), ca: root() },
      { ...client, ca: root() },
      { servername: "mcp-plugin-DenyListPlugin" },
    );
    assert.equal(bare.ok, false);
  });

  it("Python 3.13 strict client (root only, hostname checked) against a server that trusts only the root", async () => {
    const server = leafEnd(join(tree, "plugins/DenyListPlugin"), "server");
    const r = await pythonStrictClient(
      { ...server, ca: root() },
      {
        certfile: join(tree, "gateway/client.crt"),
        keyfile: join(tree, "gateway/client.key"),
        cafile: join(tree, "ca/ca.crt"),
      },
      "denylistplugin",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello");
  });

  it("check, renew, inspect and export k8s still read these files (the first cert is the leaf)", () => {
    const dir = join(tree, "..", "..");
    const check = cli(["check", "--out", tree, "--json"], dir);
    assert.equal(check.code, 0, check.stdout);
    const renewed = cli(["renew", "gateway", "--force", "--out", tree, "-q"], dir);
    assert.equal(renewed.code, 0, renewed.stderr + renewed.stdout);
    assert.equal(
      read(join(tree, "gateway/client.crt")).match(/BEGIN CERTIFICATE/g)?.length,
      2,
      "renewed: still a chain",
    );
    const inspect = cli(["inspect", join(tree, "gateway/client.crt")], dir);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(inspect.stdout, /CN=mcp-gateway-client/);
    const k8s = cli(["export", "k8s", "--tree", tree, "--out", join(dir, "k8s.yaml")], dir);
    assert.equal(k8s.code, 0, k8s.stderr);
  });
});
