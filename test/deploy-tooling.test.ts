/**
 * Issue 25 §3, §5, §6: the gateway's deploy tooling (cforge) driven the way it drives us. Its
 * Python deploy path runs `make certs-mcp-ca|gateway|plugin` with PLUGIN_NAME and MCP_CERT_DAYS
 * only; the names those calls put in the certs are proven by Python 3.13's strict ssl dialing
 * them with hostname checks on, through ca/ca.crt (the only trust file the tooling mounts).
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { cli, openssl, tempDir, writeFile } from "./helpers.js";
import {
  HAS_MAKE,
  STOCK_PLUGIN_CONFIG,
  gatewayDials,
  gatewayRoot,
  stackYaml,
  type GatewayRoot,
} from "./gateway-root.js";

const FAST = ["--key-type", "ecdsa-p256", "-q"];

function sansOf(cert: string): string {
  return openssl(["x509", "-in", cert, "-noout", "-ext", "subjectAltName"]).stdout.split("\n")[1]?.trim() ?? "";
}

describe("§3 cforge's own make calls give each plugin the names its deployment dials", { skip: !HAS_MAKE }, () => {
  let root: GatewayRoot;
  before(() => {
    root = gatewayRoot({ type: "kubernetes", namespace: "mcp-prod" });
    const fragment = root.exportFragment(["--stack", "mcp-stack.yaml"]);
    assert.equal(fragment.code, 0, fragment.stderr);
    root.cforgeMakeCalls(["DenyListPlugin", "OPAPluginFilter"]);
  });

  it("make certs-mcp-plugin PLUGIN_NAME=X MCP_CERT_DAYS=825, nothing else: the Service names are in the cert", () => {
    assert.equal(
      sansOf(join(root.tree, "plugins/DenyListPlugin/server.crt")),
      "DNS:DenyListPlugin, DNS:mcp-plugin-DenyListPlugin, DNS:localhost, DNS:mcp-plugin-denylistplugin.mcp-prod, " +
        "DNS:mcp-plugin-denylistplugin.mcp-prod.svc, DNS:mcp-plugin-denylistplugin.mcp-prod.svc.cluster.local",
    );
  });

  it("Python 3.13 strict, hostname checked, through ca/ca.crt: the Kubernetes URL's host is accepted", async () => {
    // The tooling's URL: https://mcp-plugin-<name lowercased>.<namespace>.svc:<port>/mcp.
    for (const [plugin, host] of [
      ["DenyListPlugin", "mcp-plugin-denylistplugin.mcp-prod.svc"],
      ["OPAPluginFilter", "mcp-plugin-opapluginfilter.mcp-prod.svc"],
    ] as const) {
      const r = await gatewayDials(root.tree, plugin, host);
      assert.equal(r.code, 0, `${host}: ${r.stderr}`);
    }
    const wrong = await gatewayDials(root.tree, "DenyListPlugin", "mcp-plugin-denylistplugin.mcp-gateway.svc");
    assert.notEqual(wrong.code, 0, "another namespace's name is refused: the check is real");
  });

  it("make certs-mcp-check passes on it, and fails (exit 2) on certs a fragment without --stack made", () => {
    const ok = root.make(["certs-mcp-check"]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);

    // The same make calls through a fragment that reads plugins/external/config.yaml: no Service names.
    const old = gatewayRoot({ type: "kubernetes", namespace: "mcp-prod" });
    assert.equal(old.exportFragment().code, 0);
    old.cforgeMakeCalls(["DenyListPlugin"]);
    assert.doesNotMatch(sansOf(join(old.tree, "plugins/DenyListPlugin/server.crt")), /svc/);
    assert.equal(old.make(["certs-mcp-check"]).status, 0, "without the stack nothing asks for those names");
    assert.equal(old.exportFragment(["--stack", "mcp-stack.yaml"]).code, 0);
    const failed = old.make(["certs-mcp-check"]);
    assert.equal(failed.status, 2, failed.stdout + failed.stderr);
    // One line for the Service's names (issue 28 §8), each named in it.
    assert.match(failed.stdout, /missing SANs [^\n]*DNS:mcp-plugin-denylistplugin\.mcp-prod\.svc[,\s]/);
  });

  it("export makefile --stack refuses a file that is not a stack, and names a missing one", () => {
    const notStack = root.exportFragment(["--stack", "plugins/external/config.yaml"]);
    assert.equal(notStack.code, 2);
    assert.match(notStack.stderr, /not the gateway's mcp-stack\.yaml/);
    const missing = root.exportFragment(["--stack", "nope.yaml"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--stack nope\.yaml: no such file/);
  });
});

describe("§5 defaults and paths the tooling uses", () => {
  it("export k8s --config mcp-stack.yaml: deployment.namespace, only the stack's plugins", () => {
    const dir = tempDir();
    writeFile(
      join(dir, "mcp-stack.yaml"),
      stackYaml({ type: "kubernetes", namespace: "mcp-prod", plugins: ["DenyListPlugin"] }),
    );
    assert.equal(cli(["all", "--config", "mcp-stack.yaml", ...FAST], dir).code, 0);
    assert.equal(cli(["plugin", "Leftover", ...FAST], dir).code, 0);
    const r = cli(["export", "k8s", "--config", "mcp-stack.yaml"], dir);
    assert.equal(r.code, 0, r.stderr);
    const objects = parseAllDocuments(r.stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string } },
    );
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}/${o.metadata.namespace}`),
      [
        "Secret/mcp-ca-secret/mcp-prod",
        "Secret/mcp-mcpgateway-server-cert/mcp-prod",
        "Secret/mcp-mcp-plugin-denylistplugin-server-cert/mcp-prod",
      ],
    );
    assert.match(r.stderr, /plugin Leftover: not deployed by mcp-stack\.yaml; its Secret is left out/);
    // --namespace still wins over the stack.
    const flag = cli(["export", "k8s", "--config", "mcp-stack.yaml", "--namespace", "other"], dir);
    assert.equal(flag.code, 0, flag.stderr);
    const namespaces = parseAllDocuments(flag.stdout).map(
      (d) => (d.toJS() as { metadata: { namespace: string } }).metadata.namespace,
    );
    assert.deepEqual([...new Set(namespaces)], ["other"]);
  });

  it("a stack that moves the tree: all, check and export k8s warn that cforge reads certs/mcp, and check reads where all wrote", () => {
    const dir = tempDir();
    writeFile(join(dir, "mcp-stack.yaml"), stackYaml({ type: "compose", root: "./deploy/certs" }));
    const all = cli(["all", "--config", "mcp-stack.yaml", ...FAST.slice(0, 2)], dir);
    assert.equal(all.code, 0, all.stderr);
    const warning =
      /certificates\.\*_path put the tree in (\.\/)?deploy\/certs, but the gateway's deploy tooling \(cforge\) reads and mounts certs\/mcp/;
    assert.match(all.stdout + all.stderr, warning);
    const check = cli(["check", "--config", "mcp-stack.yaml"], dir);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout + check.stderr, /DenyListPlugin/);
    assert.match(check.stdout + check.stderr, warning);
    const k8s = cli(["export", "k8s", "--config", "mcp-stack.yaml"], dir);
    assert.equal(k8s.code, 0, k8s.stderr);
    assert.match(k8s.stderr, warning);
    const fragment = cli(["export", "makefile", "--stack", "mcp-stack.yaml"], dir);
    assert.equal(fragment.code, 0, fragment.stderr);
    assert.match(fragment.stderr, warning);
    // The stock stack layout (./certs/mcp) draws no warning.
    const stock = tempDir();
    writeFile(join(stock, "mcp-stack.yaml"), stackYaml({ type: "compose" }));
    const quiet = cli(["all", "--config", "mcp-stack.yaml", ...FAST.slice(0, 2)], stock);
    assert.doesNotMatch(quiet.stdout + quiet.stderr, /cforge\) reads and mounts/);
  });
});

describe("§6 an http:// plugin URL asks for no SAN", () => {
  it("at the gateway root (stock config.yaml, http://127.0.0.1 URLs): all --config mcp-stack.yaml, then check exits 0", () => {
    const dir = tempDir();
    writeFile(join(dir, "plugins/external/config.yaml"), STOCK_PLUGIN_CONFIG);
    writeFile(join(dir, "mcp-stack.yaml"), stackYaml({ type: "compose" }));
    const all = cli(["all", "--config", "mcp-stack.yaml", ...FAST], dir);
    assert.equal(all.code, 0, all.stderr);
    const check = cli(["check"], dir);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.doesNotMatch(check.stdout, /missing SAN/);
    // all with the stock config itself: certs made, no IP SAN, exit 0; the TLS-off remark is a note.
    const again = cli(["all", ...FAST.slice(0, 2)], dir);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(sansOf(join(dir, "certs/mcp/plugins/LLMGuardPlugin/server.crt")), /IP Address/);
    assert.equal(cli(["check"], dir).code, 0);
  });

  it("an https:// URL with an IP still asks for the IP SAN (the check is real)", () => {
    const dir = tempDir();
    assert.equal(cli(["plugin", "DenyListPlugin", ...FAST], dir).code, 0);
    writeFile(
      join(dir, "plugins/external/config.yaml"),
      STOCK_PLUGIN_CONFIG.replace("http://127.0.0.1:3000", "https://127.0.0.1:3000"),
    );
    const check = cli(["check"], dir);
    assert.equal(check.code, 1, check.stdout);
    assert.match(check.stdout, /missing SAN IP:127\.0\.0\.1/);
  });

  it("make certs-mcp-check at that root exits 0", { skip: !HAS_MAKE }, () => {
    const root = gatewayRoot({ type: "compose" });
    assert.equal(root.exportFragment().code, 0);
    const all = root.make(["certs-mcp-all"]);
    assert.equal(all.status, 0, all.stdout + all.stderr);
    const check = root.make(["certs-mcp-check"]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
});
