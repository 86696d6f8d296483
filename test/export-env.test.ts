/**
 * export env and export plugin-tls: sourced by bash (or parsed as YAML/JSON), the settings point
 * at files that exist, and Python's ssl (VERIFY_X509_STRICT, as Python 3.13's default context)
 * loads them into a working mutual-TLS connection between the gateway and the plugin.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { cli, pythonStrictClient, read, tempDir, writeFile } from "./helpers.js";

const PLUGIN = "MyPlugin";

/** The variables a file defines, as bash sees them after sourcing it. */
function sourced(file: string, allExport: boolean): Record<string, string> {
  const script = `${allExport ? "set -a; " : ""}. "$1"; ${allExport ? "set +a; " : ""}env -0`;
  const r = spawnSync("bash", ["-c", script, "bash", file], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  assert.equal(r.status, 0, r.stderr);
  const vars = Object.fromEntries(
    r.stdout
      .split("\0")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  return Object.fromEntries(Object.entries(vars).filter(([k]) => /^(PLUGINS_|CA_CERT_PATH)/.test(k)));
}

/** The mutual-TLS handshake the files are for: the plugin serves, the gateway connects. */
async function handshake(
  server: { cert: string; key: string; ca: string },
  client: { cert: string; key: string; ca: string },
) {
  return pythonStrictClient(
    { cert: read(server.cert), key: read(server.key), ca: read(server.ca) },
    { certfile: client.cert, keyfile: client.key, cafile: client.ca },
    "localhost",
    true,
  );
}

describe("export env and plugin-tls: settings the gateway and a plugin server load", () => {
  // A space in the path: the quoting of every format is exercised.
  const dir = tempDir("mtls-certs env test-");
  const tree = join(dir, "my certs/mcp");
  let dotenv: Record<string, string>;

  before(() => {
    for (const args of [["gateway"], ["plugin", PLUGIN]]) {
      const r = cli([...args, "--out", tree, "--key-type", "ecdsa-p256", "-q"], dir);
      assert.equal(r.code, 0, r.stderr);
    }
    const r = cli(["export", "env", "--out", tree, "--plugin", PLUGIN, "--gateway", "-o", join(dir, "mtls.env")], dir);
    assert.equal(r.code, 0, r.stderr);
    dotenv = sourced(join(dir, "mtls.env"), true);
  });

  it("dotenv, sourced by bash, points at files that exist, and Python's strict ssl makes a mutual-TLS connection with them", async () => {
    assert.equal(dotenv.PLUGINS_SERVER_SSL_ENABLED, "true");
    assert.equal(dotenv.PLUGINS_SERVER_SSL_CERT_REQS, "2");
    assert.equal(dotenv.PLUGINS_CLIENT_MTLS_VERIFY, "true");
    assert.equal(dotenv.PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME, "true");
    assert.equal(dotenv.PLUGINS_SERVER_SSL_CERTFILE, join(tree, "plugins", PLUGIN, "server.crt"));
    assert.equal(dotenv.PLUGINS_CLIENT_MTLS_KEYFILE, join(tree, "gateway/client.key"));
    assert.equal(dotenv.CA_CERT_PATH, join(tree, "plugins", PLUGIN, "ca.crt"));
    for (const [name, value] of Object.entries(dotenv)) {
      if (/FILE|CERTS|BUNDLE|PATH/.test(name)) assert.ok(existsSync(value), `${name}=${value} exists`);
    }
    const r = await handshake(
      {
        cert: dotenv.PLUGINS_SERVER_SSL_CERTFILE!,
        key: dotenv.PLUGINS_SERVER_SSL_KEYFILE!,
        ca: dotenv.PLUGINS_SERVER_SSL_CA_CERTS!,
      },
      {
        cert: dotenv.PLUGINS_CLIENT_MTLS_CERTFILE!,
        key: dotenv.PLUGINS_CLIENT_MTLS_KEYFILE!,
        ca: dotenv.PLUGINS_CLIENT_MTLS_CA_BUNDLE!,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello");
  });

  it("shell, compose and json say the same as dotenv", () => {
    const shell = cli(["export", "env", "--out", tree, "--plugin", PLUGIN, "--gateway", "--format", "shell"], dir);
    assert.equal(shell.code, 0, shell.stderr);
    assert.match(shell.stdout, /^export PLUGINS_SERVER_SSL_ENABLED='true'$/m);
    assert.deepEqual(sourced(writeFile(join(dir, "mtls.sh"), shell.stdout), false), dotenv);

    const compose = cli(["export", "env", "--out", tree, "--plugin", PLUGIN, "--gateway", "--format", "compose"], dir);
    assert.equal(compose.code, 0, compose.stderr);
    assert.deepEqual((parse(compose.stdout) as { environment: Record<string, string> }).environment, dotenv);

    const json = cli(["export", "env", "--out", tree, "--plugin", PLUGIN, "--gateway", "--format", "json"], dir);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), dotenv);
  });

  it("a comment right above CA_CERT_PATH says it is Sushi Gateway's, in dotenv, shell and compose; bash, python-dotenv and PyYAML still read every value", () => {
    const above = /^\s*# CA_CERT_PATH is for Sushi Gateway's mTLS plugin; the MCP gateway ignores it$/;
    const texts: Record<string, string> = {};
    for (const format of ["dotenv", "shell", "compose"]) {
      const r = cli(["export", "env", "--out", tree, "--plugin", PLUGIN, "--gateway", "--format", format], dir);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split("\n");
      const at = lines.findIndex((line) => /^\s*(export )?CA_CERT_PATH[=:]/.test(line));
      assert.ok(at > 0, `${format}: no CA_CERT_PATH line in\n${r.stdout}`);
      assert.match(lines[at - 1]!, above, `${format}: the line above CA_CERT_PATH`);
      assert.equal(lines.filter((line) => line.includes("Sushi")).length, 1, `${format}: one comment, once`);
      texts[format] = r.stdout;
    }
    assert.deepEqual(sourced(writeFile(join(dir, "noted.env"), texts.dotenv!), true), dotenv);
    assert.deepEqual(sourced(writeFile(join(dir, "noted.sh"), texts.shell!), false), dotenv);
    // Readers we did not write: Debian's python3-dotenv and PyYAML (what docker compose's YAML 1.1 reading resembles).
    const python = (code: string, file: string) => {
      const r = spawnSync("/usr/bin/python3", ["-c", code, file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as unknown;
    };
    const readDotenv = "import sys, json, dotenv; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))";
    assert.deepEqual(python(readDotenv, join(dir, "noted.env")), dotenv);
    const readYaml = "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))['environment']))";
    assert.deepEqual(python(readYaml, writeFile(join(dir, "noted.yaml"), texts.compose!)), dotenv);
    // JSON has no comments: it stays the bare object.
    const json = cli(["export", "env", "--out", tree, "--gateway", "--format", "json"], dir);
    assert.doesNotMatch(json.stdout, /Sushi/);
  });

  it("--prefix gives the paths inside a container; --gateway alone gives the gateway's variables", () => {
    const r = cli(["export", "env", "--out", tree, "--gateway", "--prefix", "/app/certs/mcp", "--format", "json"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      PLUGINS_CLIENT_MTLS_CERTFILE: "/app/certs/mcp/gateway/client.crt",
      PLUGINS_CLIENT_MTLS_KEYFILE: "/app/certs/mcp/gateway/client.key",
      PLUGINS_CLIENT_MTLS_CA_BUNDLE: "/app/certs/mcp/gateway/ca.crt",
      PLUGINS_CLIENT_MTLS_VERIFY: "true",
      PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME: "true",
      CA_CERT_PATH: "/app/certs/mcp/gateway/ca.crt",
    });
  });

  it("an encrypted key gets a KEYFILE_PASSWORD hint, never a password", () => {
    const locked = cli(
      ["plugin", "Locked", "--out", tree, "--key-type", "ecdsa-p256", "--key-passphrase-env", "PW", "-q"],
      dir,
      { PW: "s3cret-passphrase" },
    );
    assert.equal(locked.code, 0, locked.stderr);
    const r = cli(["export", "env", "--out", tree, "--plugin", "Locked"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# PLUGINS_SERVER_SSL_KEYFILE_PASSWORD=.*encrypted/m);
    assert.match(r.stderr, /PLUGINS_SERVER_SSL_KEYFILE_PASSWORD/);
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret/);
  });

  it("refuses bad input with exit 2, naming the option", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /give --plugin NAME[\s\S]*--gateway/],
      [["--plugin", "Nope"], /--plugin Nope: no certificate yet[\s\S]*mtls-certs plugin Nope/],
      [["--gateway", "--format", "yaml"], /--format: unknown format "yaml"/],
      [["--gateway", "--prefix", "relative/dir"], /--prefix: "relative\/dir" is not an absolute path/],
    ];
    for (const [args, message] of cases) {
      const r = cli(["export", "env", "--out", tree, ...args], dir);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    }
  });

  it("plugin-tls: the mcp.tls and server_settings.tls blocks parse, point at the tree, and make a strict mutual-TLS connection", async () => {
    const r = cli(["export", "plugin-tls", "--out", tree, "--plugin", PLUGIN], dir);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout);
    assert.ok(Array.isArray(docs));
    const [gatewaySide, pluginSide] = docs.map((d) => d.toJS()) as [
      {
        mcp: {
          tls: { certfile: string; keyfile: string; ca_bundle: string; verify: boolean; check_hostname: boolean };
        };
      },
      { server_settings: { tls: { certfile: string; keyfile: string; ca_bundle: string; ssl_cert_reqs: number } } },
    ];
    const client = gatewaySide.mcp.tls;
    const server = pluginSide.server_settings.tls;
    assert.deepEqual(client, {
      certfile: join(tree, "gateway/client.crt"),
      keyfile: join(tree, "gateway/client.key"),
      ca_bundle: join(tree, "gateway/ca.crt"),
      verify: true,
      check_hostname: true,
    });
    assert.equal(server.ssl_cert_reqs, 2);
    assert.equal(server.certfile, join(tree, "plugins", PLUGIN, "server.crt"));
    const hs = await handshake(
      { cert: server.certfile, key: server.keyfile, ca: server.ca_bundle },
      { cert: client.certfile, key: client.keyfile, ca: client.ca_bundle },
    );
    assert.equal(hs.code, 0, hs.stderr);
    assert.equal(hs.stdout.trim(), "hello");
  });
});

describe("export env --plugin: everything the plugin runtime needs (issue 14 §6)", () => {
  it("PLUGINS_TRANSPORT=http, and PLUGINS_SERVER_HOST/PORT from the plugin's mcp.url", () => {
    const dir = tempDir();
    const tree = join(dir, "certs/mcp");
    assert.equal(cli(["plugin", "Remote", "--out", tree, "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    assert.equal(cli(["plugin", "Local", "--out", tree, "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    writeFile(
      join(dir, "plugins/external/config.yaml"),
      "plugins:\n  - name: Remote\n    kind: external\n    mcp:\n      url: https://remote:8443/mcp\n" +
        "  - name: Local\n    kind: external\n    mcp:\n      url: https://localhost:9001/mcp\n",
    );
    const vars = (plugin: string) =>
      JSON.parse(cli(["export", "env", "--out", tree, "--plugin", plugin, "--format", "json"], dir).stdout) as Record<
        string,
        string
      >;
    const remote = vars("Remote");
    assert.equal(remote.PLUGINS_TRANSPORT, "http");
    assert.equal(remote.PLUGINS_SERVER_HOST, "0.0.0.0", "the gateway dials remote; the plugin listens everywhere");
    assert.equal(remote.PLUGINS_SERVER_PORT, "8443");
    const local = vars("Local");
    assert.equal(local.PLUGINS_SERVER_HOST, "localhost");
    assert.equal(local.PLUGINS_SERVER_PORT, "9001");
    // Without a URL in the config: the transport, and the runtime's own host/port defaults.
    writeFileSync(join(dir, "no-urls.yaml"), "plugins:\n  - name: Remote\n    kind: external\n");
    const bare = JSON.parse(
      cli(["export", "env", "--out", tree, "--plugin", "Remote", "--format", "json", "--config", "no-urls.yaml"], dir)
        .stdout,
    ) as Record<string, string>;
    assert.equal(bare.PLUGINS_TRANSPORT, "http");
    assert.equal(bare.PLUGINS_SERVER_PORT, undefined);
  });
});
