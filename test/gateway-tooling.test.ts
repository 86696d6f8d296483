/**
 * Issue 14: the tree works inside the gateway's own deploy tooling (cforge, mcp-stack.yaml) with
 * hostname checks on. Each name a plugin is dialed at is proven by Python 3.13's ssl
 * (VERIFY_X509_STRICT, check_hostname on) connecting to 127.0.0.1 with that name as SNI.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { CheckReport } from "../src/commands/check.js";
import { issueGateway } from "../src/commands/gateway.js";
import {
  BIN,
  cli,
  leafEnd,
  mtlsHandshake,
  openssl,
  pathWithoutNode,
  pythonStrictClient,
  read,
  tempDir,
  writeFile,
} from "./helpers.js";
import { gatewayDials } from "./gateway-root.js";

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
      /missing SANs DNS:mcp-plugin-denylistplugin\.mcp-prod, DNS:mcp-plugin-denylistplugin\.mcp-prod\.svc, DNS:mcp-plugin-denylistplugin\.mcp-prod\.svc\.cluster\.local that the plugin config asks for/,
    );
    // Issue 28 §8: that drift is one problem line for the plugin, not one per name.
    const entry = (JSON.parse(check.stdout) as CheckReport).certificates.find((c) => c.name === "DenyListPlugin")!;
    assert.equal(entry.problems.filter((p) => p.startsWith("missing SAN")).length, 1, entry.problems.join("\n"));
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

describe("export makefile: make certs-mcp-* runs mtls-certs (§1)", () => {
  const hasMake = spawnSync("make", ["--version"]).status === 0;
  let dir: string;
  /** This repo's bin, adding EC keys for the issuing commands (RSA 4096 would cost the shared CPU). */
  let wrapper: string;
  const make = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync("make", ["--no-print-directory", ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "", NO_COLOR: "1", MTLS_CERTS: wrapper, ...env },
    });
  const days = (file: string) => {
    const out = openssl(["x509", "-in", file, "-noout", "-startdate", "-enddate"]).stdout;
    const at = (f: string) => Date.parse(new RegExp(`${f}=(.+)`).exec(out)?.[1] ?? "");
    return Math.round((at("notAfter") - at("notBefore")) / 86_400_000);
  };

  before(() => {
    if (!hasMake) return;
    dir = tempDir();
    wrapper = writeFile(
      join(dir, "bin/mtls-certs-ec"),
      `#!/bin/sh\ncmd=$1; shift\ncase $cmd in ca|gateway|plugin|all) exec "${process.execPath}" "${BIN}" "$cmd" "$@" --key-type ecdsa-p256 -q ;;\n*) exec "${process.execPath}" "${BIN}" "$cmd" "$@" ;;\nesac\n`,
    );
    chmodSync(wrapper, 0o755);
    const r = cli(["export", "makefile", "-o", "mcp-certs.mk"], dir);
    assert.equal(r.code, 0, r.stderr);
    writeFile(join(dir, "Makefile"), "# the gateway's Makefile\ninclude mcp-certs.mk\n");
    writeFile(
      join(dir, "plugins/external/config.yaml"),
      "plugins:\n  - name: DenyListPlugin\n    kind: external\n  - name: OPAPluginFilter\n    kind: external\n",
    );
  });

  it("the tooling's exact command lines make a tree that openssl verify -x509_strict accepts", {
    skip: !hasMake,
  }, () => {
    for (const line of [
      "certs-mcp-ca MCP_CERT_DAYS=825",
      "certs-mcp-gateway MCP_CERT_DAYS=825",
      "certs-mcp-plugin PLUGIN_NAME=DenyListPlugin MCP_CERT_DAYS=825",
      "certs-mcp-all",
      "certs-mcp-check",
    ]) {
      const r = make(line.split(" "));
      assert.equal(r.status, 0, `make ${line}: ${r.stdout}${r.stderr}`);
    }
    const tree = join(dir, "certs/mcp");
    for (const [file, purpose] of [
      ["gateway/client.crt", "sslclient"],
      ["plugins/DenyListPlugin/server.crt", "sslserver"],
      ["plugins/OPAPluginFilter/server.crt", "sslserver"],
    ] as const) {
      const v = openssl([
        "verify",
        "-x509_strict",
        "-purpose",
        purpose,
        "-CAfile",
        join(tree, "ca/ca.crt"),
        join(tree, file),
      ]);
      assert.equal(v.code, 0, `${file}: ${v.stderr}`);
      assert.equal(days(join(tree, file)), 825, file);
    }
  });

  it("MCP_CERT_DAYS is for leaves only; certs-mcp-check fails on an expired tree; PLUGIN_NAME is required", {
    skip: !hasMake,
  }, async () => {
    const other = join(dir, "short");
    const ca = make(["certs-mcp-ca", "MCP_CERT_DAYS=10", `MCP_CERTS_DIR=${other}`]);
    assert.equal(ca.status, 0, ca.stderr);
    assert.notEqual(days(join(other, "ca/ca.crt")), 10, "the CA does not take the leaves' days");
    assert.equal(make(["certs-mcp-gateway", "MCP_CERT_DAYS=10", `MCP_CERTS_DIR=${other}`]).status, 0);
    assert.equal(days(join(other, "gateway/client.crt")), 10);
    const healthy = make(["certs-mcp-check", `MCP_CERTS_DIR=${other}`]);
    assert.equal(healthy.status, 0, healthy.stdout + healthy.stderr);
    // An expired tree: the library API issues with explicit past dates (no waiting).
    const expired = join(dir, "expired");
    const day = 86_400_000;
    await issueGateway({
      out: expired,
      keyType: "ecdsa-p256",
      now: new Date(Date.now() - 400 * day),
      notBefore: new Date(Date.now() - 300 * day),
      notAfter: new Date(Date.now() - 2 * day),
    });
    const failed = make(["certs-mcp-check", `MCP_CERTS_DIR=${expired}`]);
    assert.equal(failed.status, 2, "make reports the recipe's exit 1 as 2");
    assert.match(failed.stdout + failed.stderr, /expired/);
    const noName = make(["certs-mcp-plugin"]);
    assert.notEqual(noName.status, 0);
    assert.match(noName.stderr, /PLUGIN_NAME is required/);
  });

  it("MTLS_CERTS: node_modules/.bin/mtls-certs when node is on PATH, else one on PATH, else the vendored executable, never npx", {
    skip: !hasMake,
  }, () => {
    const printed = (env: NodeJS.ProcessEnv) =>
      spawnSync("make", ["-n", "--no-print-directory", "certs-mcp-check"], { cwd: dir, encoding: "utf8", env }).stdout;
    // PATHs with and without node: a dir holding only a link to this node.
    const nodeDir = join(dir, "nodebin");
    mkdirSync(nodeDir, { recursive: true });
    if (!existsSync(join(nodeDir, "node"))) symlinkSync(process.execPath, join(nodeDir, "node"));
    const system = pathWithoutNode();
    const base = { PATH: system, MCP_PLUGIN_CONFIG: "" };
    const withNode = { ...base, PATH: `${nodeDir}:${join(dir, "onpath")}:${system}` };
    const noNode = { ...base, PATH: `${join(dir, "onpath")}:${system}` };
    assert.match(
      printed(base),
      /^sh -c 'echo "mtls-certs \S+ is not installed: .*tools\/mtls-certs\/mtls-certs-linux-/m,
    );
    const exe = writeFile(join(dir, "tools/mtls-certs/mtls-certs-linux-x64"), "#!/bin/sh\n");
    chmodSync(exe, 0o755);
    if (process.arch === "x64") assert.match(printed(noNode), /^tools\/mtls-certs\/mtls-certs-linux-x64 check/m);
    writeFile(join(dir, "onpath/mtls-certs"), "#!/bin/sh\n");
    chmodSync(join(dir, "onpath/mtls-certs"), 0o755);
    assert.match(printed(noNode), /onpath\/mtls-certs check/);
    writeFile(join(dir, "node_modules/.bin/mtls-certs"), "#!/bin/sh\n");
    assert.match(printed(withNode), /^node_modules\/\.bin\/mtls-certs check/m);
    // The devDependency's bin is `#!/usr/bin/env node`: without node it is passed over.
    assert.match(printed(noNode), /onpath\/mtls-certs check/);
  });
});
