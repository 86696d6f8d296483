/**
 * gRPC external plugins: the config's `grpc:` entries (target or Unix socket), the certs `all`
 * makes for them, and what the exports tell each end.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { parsePluginConfig } from "../src/config/plugin-config.js";
import { MtlsError } from "../src/errors.js";
import { cli, tempDir, writeFile, x509Text } from "./helpers.js";

/**
 * A real gRPC stack on both ends: Debian's python3-grpcio (BoringSSL) for /usr/bin/python3. The
 * server is built as cpex's gRPC runtime builds it from PLUGINS_GRPC_SERVER_SSL_* (CLIENT_AUTH
 * require → require_client_auth); each client as the gateway builds its channel from the cert,
 * key and CA bundle it is given, dialling 127.0.0.1 under the config's target name (gRPC checks
 * that name against the server's cert). Prints {client id: "ok:<reply>" | "refused:<code>"}.
 */
const GRPC_PEERS = `
import json, sys
from concurrent import futures
import grpc
spec = json.loads(sys.argv[1])
def read(path): 
    with open(path, "rb") as f: return f.read()
s = spec["server"]
creds = grpc.ssl_server_credentials([(read(s["keyfile"]), read(s["certfile"]))],
    root_certificates=read(s["ca"]), require_client_auth=s["client_auth"] == "require")
say = grpc.unary_unary_rpc_method_handler(lambda request, context: b"pong:" + request)
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("mtls.Echo", {"Say": say}),))
port = server.add_secure_port("127.0.0.1:0", creds)
server.start()
out = {}
for c in spec["clients"]:
    cc = grpc.ssl_channel_credentials(root_certificates=read(c["ca"]),
        private_key=read(c["keyfile"]) if c.get("keyfile") else None,
        certificate_chain=read(c["certfile"]) if c.get("certfile") else None)
    channel = grpc.secure_channel("ipv4:127.0.0.1:%d" % port, cc, options=[("grpc.ssl_target_name_override", c["name"])])
    try:
        out[c["id"]] = "ok:" + channel.unary_unary("/mtls.Echo/Say")(b"ping", timeout=10).decode()
    except grpc.RpcError as e:
        out[c["id"]] = "refused:" + e.code().name
    channel.close()
server.stop(0)
print(json.dumps(out))
`;

interface GrpcEnd {
  certfile?: string;
  keyfile?: string;
  ca: string;
}

function grpcCalls(
  server: GrpcEnd & { client_auth: string },
  clients: Array<GrpcEnd & { id: string; name: string }>,
): Record<string, string> {
  const r = spawnSync("/usr/bin/python3", ["-c", GRPC_PEERS, JSON.stringify({ server, clients })], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

const CONFIG = `plugins:
  - name: GrpcPlugin
    kind: external
    grpc:
      target: "grpc-plugin.internal:50051"
      tls:
        verify: true
  - name: SocketPlugin
    kind: external
    grpc:
      uds: /var/run/mcp/socket-plugin.sock
  - name: HttpPlugin
    kind: external
    mcp:
      proto: STREAMABLEHTTP
      url: https://http-plugin:8000/mcp
`;

function refusal(text: string): string {
  try {
    parsePluginConfig(text, "config.yaml");
  } catch (e) {
    assert.ok(e instanceof MtlsError, String(e));
    return e.message;
  }
  assert.fail("the config was accepted");
}

const entry = (grpc: string) => `plugins:\n  - name: P\n    kind: external\n    grpc:\n${grpc}`;

describe("a plugin config with grpc: entries", () => {
  it("reads the target's host as a SAN, a uds: entry as a socket", () => {
    const config = parsePluginConfig(CONFIG, "config.yaml");
    const [grpc, socket, http] = config.plugins;
    assert.deepEqual(grpc?.transport, {
      kind: "grpc",
      target: "grpc-plugin.internal:50051",
      host: "grpc-plugin.internal",
      port: "50051",
    });
    // Each SAN says where it came from, for the name policy (pki/name-policy.ts).
    assert.deepEqual(grpc?.sans, [
      {
        type: "dns",
        value: "grpc-plugin.internal",
        source: "grpc-target",
        where: "config.yaml: plugins[0].grpc.target",
      },
    ]);
    assert.deepEqual(socket?.transport, { kind: "socket", path: "/var/run/mcp/socket-plugin.sock", field: "grpc.uds" });
    assert.deepEqual(socket?.sans, []);
    assert.deepEqual(http?.transport, { kind: "mcp" });
  });

  it("an IPv6 or dns:/// target gives its host", () => {
    const v6 = parsePluginConfig(entry('      target: "[::1]:50051"\n'), "c.yaml").plugins[0];
    assert.deepEqual(v6?.sans, [
      { type: "ip", value: "::1", source: "grpc-target", where: "c.yaml: plugins[0].grpc.target" },
    ]);
    const dns = parsePluginConfig(entry('      target: "dns:///plugins.example:443"\n'), "c.yaml").plugins[0];
    assert.deepEqual(dns?.sans, [
      { type: "dns", value: "plugins.example", source: "grpc-target", where: "c.yaml: plugins[0].grpc.target" },
    ]);
  });

  it("refuses what the gateway refuses, naming file:line and the field", () => {
    assert.match(
      refusal(entry("      target: grpc-plugin\n")),
      /^config\.yaml:5:15: .*grpc\.target "grpc-plugin": expected host:port/,
    );
    assert.match(refusal(entry("      target: h:99999\n")), /port 99999 is outside/);
    assert.match(refusal(entry("      target: unix:/tmp/p.sock\n")), /for a Unix socket use grpc\.uds/);
    assert.match(
      refusal(entry("      target: h:1\n      uds: /tmp/p.sock\n")),
      /^config\.yaml:6:12: .*both `target` and `uds`/,
    );
    assert.match(
      refusal(entry("      uds: /tmp/p.sock\n      tls:\n        verify: true\n")),
      /^config\.yaml:7:9: .*grpc\.tls with grpc\.uds: there is no TLS on a Unix socket/,
    );
    assert.match(refusal(entry("      tls: {}\n")), /^config\.yaml:5:7: .*needs `target: host:port` or `uds/);
    assert.match(
      refusal(
        "plugins:\n  - name: P\n    kind: external\n    mcp:\n      url: https://p:1/mcp\n    grpc:\n      target: p:1\n",
      ),
      /^config\.yaml:7:7: .*both `mcp:` and `grpc:`/,
    );
    assert.match(
      refusal(entry("      target: 'bad_host!:1'\n")),
      /^config\.yaml:5:7: plugin P: plugins\[0\]\.grpc\.target/,
    );
    // A hostile target never reaches a SAN, a template or a message unescaped.
    for (const target of ['"a\\nb:1"', `'x"; rm -rf /:1'`, "'[evil]:1'", "'{{plugin}}:1'"])
      assert.match(refusal(entry(`      target: ${target}\n`)), /^config\.yaml:\d+:\d+: .*grpc\.target/, target);
  });
});

describe("all, with gRPC plugins", () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    writeFile(join(dir, "plugins/external/config.yaml"), CONFIG);
  });

  it("gives the gRPC plugin its target's name, and the socket plugin no cert and a line saying why", () => {
    const r = cli(["all", "--key-type", "ecdsa-p256"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(x509Text(join(dir, "certs/mcp/plugins/GrpcPlugin/server.crt")), /DNS:grpc-plugin\.internal/);
    assert.equal(existsSync(join(dir, "certs/mcp/plugins/SocketPlugin")), false);
    assert.match(
      r.stderr,
      /plugin SocketPlugin: no certificate, .*Unix socket grpc\.uds "\/var\/run\/mcp\/socket-plugin\.sock", which has no TLS/,
    );
    // Asked for by name, it gets one.
    const named = cli(["plugin", "SocketPlugin", "--key-type", "ecdsa-p256"], dir);
    assert.equal(named.code, 0, named.stderr);
    assert.ok(existsSync(join(dir, "certs/mcp/plugins/SocketPlugin/server.crt")));
  });
});

describe("export env and plugin-tls for a gRPC plugin, with a real gRPC server and client", () => {
  let dir: string;
  let other: string;
  const exported = (args: string[], cwd = dir) => {
    const r = cli(["export", ...args], cwd);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const env = (args: string[], cwd = dir) =>
    JSON.parse(exported(["env", ...args, "--format", "json"], cwd)) as Record<string, string>;
  before(() => {
    dir = tempDir();
    writeFile(join(dir, "plugins/external/config.yaml"), CONFIG);
    assert.equal(cli(["all", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    // Another CA's tree, whose gateway cert the plugin must refuse.
    other = tempDir();
    assert.equal(cli(["all", "--key-type", "ecdsa-p256", "-q"], other).code, 0);
  });

  it("export env --plugin speaks gRPC: PLUGINS_TRANSPORT=grpc, PLUGINS_GRPC_SERVER_SSL_*, client auth required", () => {
    const vars = env(["--plugin", "GrpcPlugin"]);
    assert.equal(vars.PLUGINS_TRANSPORT, "grpc");
    assert.equal(vars.PLUGINS_GRPC_SERVER_SSL_ENABLED, "true");
    assert.equal(vars.PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH, "require");
    assert.equal(vars.PLUGINS_GRPC_SERVER_PORT, "50051");
    assert.equal(vars.PLUGINS_GRPC_SERVER_HOST, "0.0.0.0");
    assert.equal(vars.PLUGINS_SERVER_SSL_CERTFILE, undefined, "no HTTP variables for a gRPC plugin");
    for (const key of ["CERTFILE", "KEYFILE", "CA_CERTS"])
      assert.ok(existsSync(vars[`PLUGINS_GRPC_SERVER_SSL_${key}`] ?? ""), key);
    // The MCP plugin in the same config keeps its HTTP variables.
    assert.equal(env(["--plugin", "HttpPlugin"]).PLUGINS_TRANSPORT, "http");
  });

  it("export env --plugin refuses a Unix-socket plugin: there is no TLS to configure", () => {
    cli(["plugin", "SocketPlugin", "--key-type", "ecdsa-p256", "-q"], dir);
    const r = cli(["export", "env", "--plugin", "SocketPlugin"], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unix socket grpc\.uds "\/var\/run\/mcp\/socket-plugin\.sock", which has no TLS/);
  });

  it("export env --gateway gives the MCP and the gRPC client variables when the config has both", () => {
    const vars = env(["--gateway"]);
    assert.equal(vars.PLUGINS_CLIENT_MTLS_VERIFY, "true");
    assert.equal(vars.PLUGINS_GRPC_CLIENT_MTLS_VERIFY, "true");
    assert.equal(vars.PLUGINS_GRPC_CLIENT_MTLS_CERTFILE, vars.PLUGINS_CLIENT_MTLS_CERTFILE);
    assert.equal(vars.PLUGINS_GRPC_CLIENT_MTLS_CHECK_HOSTNAME, undefined, "gRPC has no such setting: it always checks");
    // Without a gRPC plugin in the config: the MCP variables only, as before.
    writeFile(join(dir, "no-plugins.yaml"), "plugins: []\n");
    const plain = env(["--gateway", "--config", "no-plugins.yaml"]);
    assert.equal(plain.PLUGINS_GRPC_CLIENT_MTLS_CERTFILE, undefined);
    assert.ok(plain.PLUGINS_CLIENT_MTLS_CERTFILE);
  });

  it("the gateway's export dials the target's name and is served; no client cert, another CA's, another name: refused", () => {
    const plugin = env(["--plugin", "GrpcPlugin"]);
    const gateway = env(["--gateway"]);
    const otherGateway = env(["--gateway"], other);
    const server = {
      certfile: plugin.PLUGINS_GRPC_SERVER_SSL_CERTFILE ?? "",
      keyfile: plugin.PLUGINS_GRPC_SERVER_SSL_KEYFILE ?? "",
      ca: plugin.PLUGINS_GRPC_SERVER_SSL_CA_CERTS ?? "",
      client_auth: plugin.PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH ?? "",
    };
    const ca = gateway.PLUGINS_GRPC_CLIENT_MTLS_CA_BUNDLE ?? "";
    const gatewayEnd = {
      certfile: gateway.PLUGINS_GRPC_CLIENT_MTLS_CERTFILE ?? "",
      keyfile: gateway.PLUGINS_GRPC_CLIENT_MTLS_KEYFILE ?? "",
      ca,
    };
    // The gateway's grpc.tls block from export plugin-tls, as the config entry would hold it.
    const [gatewaySide, pluginSide] = parseAllDocuments(exported(["plugin-tls", "--plugin", "GrpcPlugin"])).map(
      (d) => d.toJS() as Record<string, { target?: string; tls: Record<string, string> }>,
    );
    const block = gatewaySide?.grpc;
    assert.equal(block?.target, "grpc-plugin.internal:50051");
    assert.equal(pluginSide?.grpc_server_settings?.tls.client_auth, "require");
    assert.equal(pluginSide?.grpc_server_settings?.tls.certfile, server.certfile);
    const results = grpcCalls(server, [
      { id: "env", name: "grpc-plugin.internal", ...gatewayEnd },
      {
        id: "block",
        name: "grpc-plugin.internal",
        certfile: block?.tls.certfile,
        keyfile: block?.tls.keyfile,
        ca: block?.tls.ca_bundle ?? "",
      },
      { id: "no-client-cert", name: "grpc-plugin.internal", ca },
      {
        id: "other-ca",
        name: "grpc-plugin.internal",
        certfile: otherGateway.PLUGINS_GRPC_CLIENT_MTLS_CERTFILE ?? otherGateway.PLUGINS_CLIENT_MTLS_CERTFILE,
        keyfile: otherGateway.PLUGINS_GRPC_CLIENT_MTLS_KEYFILE ?? otherGateway.PLUGINS_CLIENT_MTLS_KEYFILE,
        ca,
      },
      { id: "other-name", name: "not-the-plugin.internal", ...gatewayEnd },
    ]);
    assert.deepEqual(results, {
      env: "ok:pong:ping",
      block: "ok:pong:ping",
      "no-client-cert": "refused:UNAVAILABLE",
      "other-ca": "refused:UNAVAILABLE",
      "other-name": "refused:UNAVAILABLE",
    });
  });
});

describe("check and renew, with a gRPC plugin", () => {
  it("check --config and verify --host find a plugin cert without its target's name; renew --force adds it", () => {
    const dir = tempDir();
    // Made before the config named its gRPC target: no grpc-plugin.internal SAN.
    assert.equal(cli(["all", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    assert.equal(cli(["plugin", "GrpcPlugin", "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    writeFile(join(dir, "plugins/external/config.yaml"), CONFIG);
    const before = cli(["check", "--config", "plugins/external/config.yaml"], dir);
    assert.equal(before.code, 1, before.stdout);
    assert.match(before.stdout, /GrpcPlugin.*DNS:grpc-plugin\.internal/s);
    const mismatch = cli(["verify", "GrpcPlugin", "--host", "grpc-plugin.internal"], dir);
    assert.equal(mismatch.code, 1, mismatch.stdout);
    assert.match(`${mismatch.stdout}${mismatch.stderr}`, /no SAN matches grpc-plugin\.internal.*grpc\.target/s);
    const renewed = cli(["renew", "--force", "GrpcPlugin", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(x509Text(join(dir, "certs/mcp/plugins/GrpcPlugin/server.crt")), /DNS:grpc-plugin\.internal/);
    const after = cli(["check", "--config", "plugins/external/config.yaml"], dir);
    assert.equal(after.code, 0, after.stdout);
    const verified = cli(["verify", "GrpcPlugin", "--host", "grpc-plugin.internal"], dir);
    assert.equal(verified.code, 0, verified.stdout);
  });
});

describe("a gRPC target written as a long IPv6 address ([0:0:0:0:0:0:0:2]:50051)", () => {
  // The config keeps the address as written; the cert holds it as 16 bytes, which Node prints as
  // ::2. check and renew must compare the two as one name (pki/name-policy.ts nameKey): check used
  // to say "missing SAN IP:0:0:0:0:0:0:0:2, run renew" while renew kept the cert, for ever.
  it("all makes the cert for it, openssl finds the address in it, check says ok and renew keeps it", () => {
    const cwd = tempDir();
    writeFile(
      join(cwd, "config.yaml"),
      'plugins:\n  - name: six\n    kind: external\n    grpc:\n      target: "[0:0:0:0:0:0:0:2]:50051"\n',
    );
    const made = cli(["all", "--config", "config.yaml", "--key-type", "ecdsa-p256", "-q"], cwd);
    assert.equal(made.code, 0, made.stderr);
    const cert = join(cwd, "certs/mcp/plugins/six/server.crt");
    const match = spawnSync("openssl", ["x509", "-in", cert, "-noout", "-checkip", "0:0:0:0:0:0:0:2"], {
      encoding: "utf8",
    });
    assert.match(match.stdout, /does match certificate/, match.stdout + match.stderr);
    const check = cli(["check", "--config", "config.yaml", "--json"], cwd);
    assert.equal(check.code, 0, check.stdout);
    const report = JSON.parse(check.stdout) as { certificates: Array<{ name: string; status: string }> };
    assert.equal(report.certificates.find((c) => c.name === "six")?.status, "ok");
    const renew = cli(["renew", "--config", "config.yaml", "--json"], cwd);
    assert.equal(renew.code, 0, renew.stdout + renew.stderr);
    assert.deepEqual((JSON.parse(renew.stdout) as { renewed: unknown[] }).renewed, []);
  });
});
