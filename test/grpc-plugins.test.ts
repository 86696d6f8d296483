/**
 * gRPC external plugins: the config's `grpc:` entries (target or Unix socket), the certs `all`
 * makes for them, and what the exports tell each end.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parsePluginConfig } from "../src/config.js";
import { MtlsError } from "../src/errors.js";
import { cli, tempDir, writeFile, x509Text } from "./helpers.js";

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
    assert.deepEqual(grpc?.sans, [{ type: "dns", value: "grpc-plugin.internal" }]);
    assert.deepEqual(socket?.transport, { kind: "socket", path: "/var/run/mcp/socket-plugin.sock", field: "grpc.uds" });
    assert.deepEqual(socket?.sans, []);
    assert.deepEqual(http?.transport, { kind: "mcp" });
  });

  it("an IPv6 or dns:/// target gives its host", () => {
    const v6 = parsePluginConfig(entry('      target: "[::1]:50051"\n'), "c.yaml").plugins[0];
    assert.deepEqual(v6?.sans, [{ type: "ip", value: "::1" }]);
    const dns = parsePluginConfig(entry('      target: "dns:///plugins.example:443"\n'), "c.yaml").plugins[0];
    assert.deepEqual(dns?.sans, [{ type: "dns", value: "plugins.example" }]);
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
