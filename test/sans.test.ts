/**
 * SANs that match how plugins are reached (issue 7): the host of each plugin's `mcp.url` becomes
 * an IP or DNS SAN, `plugin --san/--ip/--namespace` add more, and `check` names a SAN the config
 * asks for that a cert lacks. Proved with openssl and Python's strict hostname check.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  cli,
  leafEnd,
  openssl,
  pluginConfig,
  pythonStrictClient,
  tempDir,
  verifyStrict,
  writeFile,
  type Run,
} from "./helpers.js";

const FAST = ["--key-type", "rsa2048", "-q"];

function sansOf(certPath: string): string {
  const r = openssl(["x509", "-in", certPath, "-noout", "-ext", "subjectAltName"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n")[1]!.trim();
}

/** Python's ssl (VERIFY_X509_STRICT, check_hostname) connecting as the gateway to `host`. */
function pythonAsGateway(tree: string, plugin: string, host: string): Promise<Run> {
  const dir = join(tree, "plugins", plugin);
  return pythonStrictClient(
    leafEnd(dir, "server"),
    {
      certfile: join(tree, "gateway/client.crt"),
      keyfile: join(tree, "gateway/client.key"),
      cafile: join(tree, "gateway/ca.crt"),
    },
    host,
  );
}

describe("all adds each plugin's mcp.url host as a SAN", () => {
  let dir: string;
  let tree: string;
  let run: Run;

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    writeFile(
      join(dir, "plugins/external/config.yaml"),
      pluginConfig([
        { name: "LocalPlugin", url: "https://127.0.0.1:3000/mcp" },
        { name: "V6Plugin", url: "https://[::1]:3000/mcp" },
        { name: "NamedPlugin", url: "https://opa.tools.internal:8443/mcp" },
        { name: "NoUrlPlugin" },
        { name: "InternalThing", kind: "native", url: "https://10.9.9.9/mcp" },
      ]),
    );
    run = cli(["all", ...FAST], dir);
  });

  it("IPv4 host → IP SAN, on top of the Makefile's three", () => {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      sansOf(join(tree, "plugins/LocalPlugin/server.crt")),
      "DNS:LocalPlugin, DNS:mcp-plugin-LocalPlugin, DNS:localhost, IP Address:127.0.0.1",
    );
  });

  it("IPv6 host https://[::1]:3000/mcp → IP SAN ::1", () => {
    assert.equal(
      sansOf(join(tree, "plugins/V6Plugin/server.crt")),
      "DNS:V6Plugin, DNS:mcp-plugin-V6Plugin, DNS:localhost, IP Address:0:0:0:0:0:0:0:1",
    );
  });

  it("a host name → DNS SAN; no URL → the Makefile's three only; non-external plugins get nothing", () => {
    assert.equal(
      sansOf(join(tree, "plugins/NamedPlugin/server.crt")),
      "DNS:NamedPlugin, DNS:mcp-plugin-NamedPlugin, DNS:localhost, DNS:opa.tools.internal",
    );
    assert.equal(
      sansOf(join(tree, "plugins/NoUrlPlugin/server.crt")),
      "DNS:NoUrlPlugin, DNS:mcp-plugin-NoUrlPlugin, DNS:localhost",
    );
    assert.equal(existsSync(join(tree, "plugins/InternalThing")), false);
  });

  it("each passes openssl verify -x509_strict -purpose sslserver", () => {
    for (const name of ["LocalPlugin", "V6Plugin", "NamedPlugin"]) {
      const r = verifyStrict(join(tree, "ca/ca.crt"), join(tree, "plugins", name, "server.crt"), [
        "-purpose",
        "sslserver",
      ]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    }
  });

  it("Python's strict hostname check accepts the URL's host and the plugin's name", async () => {
    for (const [plugin, host] of [
      ["LocalPlugin", "127.0.0.1"],
      ["LocalPlugin", "LocalPlugin"],
      ["LocalPlugin", "localhost"],
      ["V6Plugin", "::1"],
      ["NamedPlugin", "opa.tools.internal"],
    ] as const) {
      const r = await pythonAsGateway(tree, plugin, host);
      assert.equal(r.code, 0, `${plugin} as ${host}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), "hello");
    }
  });

  it("and refuses a host the cert does not name (so the check is real)", async () => {
    const r = await pythonAsGateway(tree, "NoUrlPlugin", "127.0.0.1");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /IP address mismatch|doesn't match|[Hh]ostname mismatch/);
  });

  it("plugin <name> reads the same config: a single plugin gets its URL host too", () => {
    const other = tempDir();
    writeFile(
      join(other, "plugins/external/config.yaml"),
      pluginConfig([{ name: "LocalPlugin", url: "https://127.0.0.2:3000/mcp" }]),
    );
    const r = cli(["plugin", "LocalPlugin", ...FAST], other);
    assert.equal(r.code, 0, r.stderr);
    assert.match(sansOf(join(other, "certs/mcp/plugins/LocalPlugin/server.crt")), /IP Address:127\.0\.0\.2$/);
  });
});

describe("plugin --san, --ip and --namespace", () => {
  let dir: string;
  let tree: string;

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    assert.equal(cli(["gateway", ...FAST], dir).code, 0);
    const r = cli(
      [
        "plugin",
        "opa",
        "--san",
        "opa.example.com",
        "*.opa.example.net",
        "--ip",
        "10.0.0.5",
        "fd00::5",
        "--namespace",
        "mcp-tools",
        ...FAST,
      ],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
  });

  it("adds the DNS names, the addresses and the cert-manager namespace names", () => {
    assert.equal(
      sansOf(join(tree, "plugins/opa/server.crt")),
      "DNS:opa, DNS:mcp-plugin-opa, DNS:localhost, DNS:opa.example.com, DNS:*.opa.example.net, IP Address:10.0.0.5, IP Address:FD00:0:0:0:0:0:0:5, DNS:mcp-plugin-opa.mcp-tools, DNS:mcp-plugin-opa.mcp-tools.svc, DNS:mcp-plugin-opa.mcp-tools.svc.cluster.local",
    );
  });

  it("Python's strict hostname check accepts the namespace name, a wildcard match and an --ip", async () => {
    for (const host of ["mcp-plugin-opa.mcp-tools.svc.cluster.local", "api.opa.example.net", "10.0.0.5"]) {
      const r = await pythonAsGateway(tree, "opa", host);
      assert.equal(r.code, 0, `${host}: ${r.stderr}`);
    }
  });

  it("bad values are exit 2, name the flag and the value, and write nothing", () => {
    const fresh = tempDir();
    const cases: Array<[string[], RegExp]> = [
      [["--ip", "10.0.0.256"], /--ip: "10\.0\.0\.256" is not an IP address/],
      [["--ip", "example.com"], /--ip: "example\.com" is not an IP address/],
      [["--san", "bad name.example"], /--san: "bad name\.example" is not a valid DNS name/],
      [["--san", "*.*.example.com"], /--san: "\*\.\*\.example\.com" is not a valid DNS name/],
      [["--san", "-lead.example"], /--san: "-lead\.example" is not a valid DNS name/],
      [["--namespace", "Has Space"], /--namespace: "Has Space" is not a valid DNS name/],
    ];
    for (const [flags, message] of cases) {
      const r = cli(["plugin", "p1", ...flags, ...FAST], fresh);
      assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(existsSync(join(fresh, "certs/mcp/ca")), false);
    assert.equal(existsSync(join(fresh, "certs/mcp/plugins")), false);
  });
});

describe("a URL in the config that does not parse", () => {
  it("is exit 2 naming the plugin and the file:line, and nothing is written", () => {
    const dir = tempDir();
    writeFile(
      join(dir, "plugins/external/config.yaml"),
      pluginConfig([
        { name: "GoodPlugin", url: "https://127.0.0.1:3000/mcp" },
        { name: "BrokenPlugin", url: "http://[::1:3000/mcp" },
      ]),
    );
    const r = cli(["all", ...FAST], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /plugins\/external\/config\.yaml:11:12: plugin BrokenPlugin: plugins\[1\]\.mcp\.url: "http:\/\/\[::1:3000\/mcp" is not a URL/,
    );
    assert.equal(existsSync(join(dir, "certs/mcp/ca")), false);
    const single = cli(["plugin", "GoodPlugin", ...FAST], dir);
    assert.equal(single.code, 2, "the config is read whole, also for one plugin");
  });
});

describe("check names a SAN the config now asks for that the cert lacks", () => {
  let dir: string;
  let config: string;

  before(() => {
    dir = tempDir();
    config = writeFile(
      join(dir, "plugins/external/config.yaml"),
      pluginConfig([{ name: "MovedPlugin" }, { name: "StayPlugin", url: "https://127.0.0.1:9000/mcp" }]),
    );
    assert.equal(cli(["all", ...FAST], dir).code, 0);
  });

  it("all ok while the certs match the config", () => {
    const r = cli(["check"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("after the plugin's URL changes, check exits 1 with the plugin invalid and the missing SAN named", () => {
    writeFile(
      config,
      pluginConfig([
        { name: "MovedPlugin", url: "https://[fd00::7]:3000/mcp" },
        { name: "StayPlugin", url: "https://127.0.0.1:9000/mcp" },
      ]),
    );
    const r = cli(["check", "--json"], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as {
      certificates: Array<{ name: string; status: string; problems: string[] }>;
    };
    const moved = report.certificates.find((c) => c.name === "MovedPlugin")!;
    const stay = report.certificates.find((c) => c.name === "StayPlugin")!;
    assert.equal(moved.status, "invalid");
    assert.ok(
      moved.problems.some((p) => /missing SAN IP:fd00::7/.test(p)),
      moved.problems.join("; "),
    );
    assert.equal(stay.status, "ok", stay.problems.join("; "));
    const table = cli(["check"], dir);
    assert.equal(table.code, 1);
    assert.match(table.stdout + table.stderr, /MovedPlugin[\s\S]*invalid/);
  });

  it("renew <name> re-issues it with the SAN, and check is ok again", () => {
    const r = cli(["renew", "MovedPlugin", "-q"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(sansOf(join(dir, "certs/mcp/plugins/MovedPlugin/server.crt")), /IP Address:FD00:0:0:0:0:0:0:7$/);
    const check = cli(["check"], dir);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it("a DNS host is named the same way, and --config points check at another file", () => {
    const other = writeFile(
      join(dir, "other.yaml"),
      pluginConfig([{ name: "StayPlugin", url: "https://stay.example.com/mcp" }]),
    );
    const r = cli(["check", "--json", "--config", other], dir);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { certificates: Array<{ name: string; problems: string[] }> };
    assert.ok(
      report.certificates
        .find((c) => c.name === "StayPlugin")!
        .problems.some((p) => /missing SAN DNS:stay\.example\.com/.test(p)),
    );
  });
});
