/**
 * The core CLI (issue 2): `all`, `ca`, `gateway`, `plugin`, `check` make the Makefile's tree,
 * and what they make is checked by openssl, node:tls and Python's ssl, never by our own code.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, statSync, readFileSync, existsSync, rmSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import {
  BIN,
  cli,
  mtlsHandshake,
  openssl,
  pluginConfig,
  pythonStrictClient,
  read,
  tempDir,
  verifyStrict,
  writeFile,
  x509Text,
} from "./helpers.js";

/** Every file below `dir`, relative, with its sha256: what a rerun must not change. */
function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return out;
}

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** openssl's dates of a cert, as Dates. */
function certDates(path: string): { notBefore: Date; notAfter: Date } {
  const r = openssl(["x509", "-in", path, "-noout", "-startdate", "-enddate"]);
  const get = (k: string) => new Date(r.stdout.match(new RegExp(`${k}=(.*)`))![1]!);
  return { notBefore: get("notBefore"), notAfter: get("notAfter") };
}

/** The SubjectPublicKeyInfo of a cert and of a key, as openssl prints them. */
function publicKeyOf(args: string[]): string {
  return openssl(args).stdout;
}

const DAY_MS = 86_400_000;

describe("all with the default profile (RSA 4096, SHA-256, 825 days)", () => {
  let dir: string;
  let tree: string;
  let first: ReturnType<typeof cli>;
  const started = Date.now();

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    // umask 000: the keys must still be 600 and never wider, the certs 644.
    const r = spawnSync("sh", ["-c", `umask 000 && exec "${process.execPath}" "${BIN}" all`], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", CI: "1", MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "" },
    });
    first = { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  });

  it("exits 0 and, without a config file, makes the Makefile's two example plugins and says so", () => {
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /plugins\/external\/config\.yaml not found.*example-plugin-a and example-plugin-b/);
    assert.match(first.stdout, /4 created/);
  });

  it("writes exactly the Makefile's tree, plus the issuance ledger", () => {
    assert.deepEqual([...hashTree(tree).keys()].sort(), [
      "ca/ca.crt",
      "ca/ca.key",
      "ca/ledger.json",
      "gateway/ca.crt",
      "gateway/client.crt",
      "gateway/client.key",
      "plugins/example-plugin-a/ca.crt",
      "plugins/example-plugin-a/server.crt",
      "plugins/example-plugin-a/server.key",
      "plugins/example-plugin-b/ca.crt",
      "plugins/example-plugin-b/server.crt",
      "plugins/example-plugin-b/server.key",
    ]);
  });

  it("makes keys 600 and certs 644 under umask 000", () => {
    for (const [file] of hashTree(tree))
      assert.equal(mode(join(tree, file)), file.endsWith(".key") ? "600" : "644", file);
  });

  it("gives every ca.crt copy the bytes of ca/ca.crt", () => {
    const ca = read(join(tree, "ca/ca.crt"));
    for (const copy of ["gateway/ca.crt", "plugins/example-plugin-a/ca.crt", "plugins/example-plugin-b/ca.crt"])
      assert.equal(read(join(tree, copy)), ca, copy);
  });

  it("makes a CA that openssl sees as a v3 CA with critical basicConstraints and keyUsage", () => {
    const text = x509Text(join(tree, "ca/ca.crt"));
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Public-Key: \(4096 bit\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Subject: CN = ContextForge-CA, O = ContextForge, OU = Plugins/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.equal(verifyStrict(join(tree, "ca/ca.crt"), join(tree, "ca/ca.crt")).code, 0);
  });

  it("makes a gateway client cert that passes openssl verify -x509_strict -purpose sslclient", () => {
    const cert = join(tree, "gateway/client.crt");
    const r = verifyStrict(join(tree, "ca/ca.crt"), cert, ["-purpose", "sslclient"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const text = x509Text(cert);
    assert.match(text, /Subject: CN = mcp-gateway-client, O = MCPGateway, OU = Gateway/);
    assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.match(text, /Public-Key: \(4096 bit\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.equal(
      verifyStrict(join(tree, "ca/ca.crt"), cert, ["-purpose", "sslserver"]).code === 0,
      false,
      "a client cert must not pass as a server",
    );
  });

  it("makes plugin server certs with the Makefile's SANs that pass -purpose sslserver and a hostname check", () => {
    for (const name of ["example-plugin-a", "example-plugin-b"]) {
      const cert = join(tree, `plugins/${name}/server.crt`);
      const text = x509Text(cert);
      assert.match(text, new RegExp(`Subject: CN = mcp-plugin-${name}, O = MCPGateway, OU = Plugins`));
      assert.match(text, new RegExp(`DNS:${name}, DNS:mcp-plugin-${name}, DNS:localhost`));
      assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
      assert.match(text, /Public-Key: \(4096 bit\)/);
      for (const host of ["localhost", `mcp-plugin-${name}`, name]) {
        const r = verifyStrict(join(tree, "ca/ca.crt"), cert, ["-purpose", "sslserver", "-verify_hostname", host]);
        assert.equal(r.code, 0, `${host}: ${r.stderr}${r.stdout}`);
      }
      assert.notEqual(verifyStrict(join(tree, "ca/ca.crt"), cert, ["-verify_hostname", "elsewhere.example"]).code, 0);
    }
  });

  it("gives each cert a random positive serial of at least 64 bits, 825 days (the CA 3650) from a few minutes ago", () => {
    const serials = new Set<string>();
    for (const file of ["ca/ca.crt", "gateway/client.crt", "plugins/example-plugin-a/server.crt"]) {
      const serial = openssl(["x509", "-in", join(tree, file), "-noout", "-serial"])
        .stdout.trim()
        .replace("serial=", "");
      assert.ok(BigInt(`0x${serial}`) >= 2n ** 63n, `${file}: serial ${serial} has fewer than 64 bits`);
      serials.add(serial);
      const { notBefore, notAfter } = certDates(join(tree, file));
      assert.ok(notBefore.getTime() < started, `${file}: notBefore ${notBefore.toISOString()} is not in the past`);
      assert.ok(started - notBefore.getTime() < 15 * 60_000, `${file}: notBefore more than 15 minutes back`);
      const days = (notAfter.getTime() - Date.now()) / DAY_MS;
      // The CA outlives its leaves (issue 15): ten years, leaves the Makefile's 825 days.
      const expected = file.startsWith("ca/") ? 3650 : 825;
      assert.ok(days > expected - 1 && days <= expected, `${file}: ${days} days left`);
    }
    assert.equal(serials.size, 3);
  });

  it("writes each key to match its cert (openssl's public keys are equal)", () => {
    for (const [cert, key] of [
      ["ca/ca.crt", "ca/ca.key"],
      ["gateway/client.crt", "gateway/client.key"],
      ["plugins/example-plugin-b/server.crt", "plugins/example-plugin-b/server.key"],
    ] as const) {
      const fromCert = publicKeyOf(["x509", "-in", join(tree, cert), "-noout", "-pubkey"]);
      const fromKey = publicKeyOf(["pkey", "-in", join(tree, key), "-pubout"]);
      assert.ok(fromCert.includes("BEGIN PUBLIC KEY"));
      assert.equal(fromCert, fromKey, cert);
    }
  });

  it("never prints key material", () => {
    assert.doesNotMatch(first.stdout + first.stderr, /PRIVATE KEY|MII[A-Za-z0-9+/]{20}/);
  });

  it("changes no byte on a rerun and reports every file as kept", () => {
    const before = hashTree(tree);
    const again = cli(["all"], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /4 kept/);
    assert.doesNotMatch(again.stdout, /created/);
    assert.deepEqual(hashTree(tree), before);
  });

  it("check reports the CA, the gateway and each plugin as ok, and exits 0", () => {
    const r = cli(["check"], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rows = r.stdout.split("\n").filter((l) => /^(ca|gateway|plugin) .* ok$/.test(l));
    assert.equal(rows.length, 4, r.stdout);
    assert.match(r.stdout, /^ca\s+ca\s+ContextForge-CA\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+\d+\s+ok$/m);
    assert.match(r.stdout, /^plugin\s+example-plugin-a\s+mcp-plugin-example-plugin-a\s+.*\s(824|825)\s+ok$/m);
  });
});

describe("all with a plugin config (RSA 2048 to keep the suite fast)", () => {
  let dir: string;
  let tree: string;
  let run: ReturnType<typeof cli>;

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    writeFile(
      join(dir, "plugins/external/config.yaml"),
      pluginConfig([
        { name: "DenyListPlugin", url: "https://127.0.0.1:8000/mcp" },
        { name: "OPAPluginFilter", url: "https://opa-plugin:8001/mcp" },
        { name: "ReplaceBadWordsPlugin", kind: "plugins.regex_filter.search_replace.SearchReplacePlugin" },
      ]) + "unknown_top_level_key: tolerated\n",
    );
    run = cli(["all", "--key-type", "rsa2048"], dir);
  });

  it("makes a server cert for each external plugin only, keeping the names' case", () => {
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readdirSync(join(tree, "plugins")).sort(), ["DenyListPlugin", "OPAPluginFilter"]);
    assert.doesNotMatch(run.stderr, /not found/);
  });

  it("adds the host of each plugin's mcp.url as an IP or DNS SAN", () => {
    assert.match(
      x509Text(join(tree, "plugins/DenyListPlugin/server.crt")),
      /DNS:DenyListPlugin, DNS:mcp-plugin-DenyListPlugin, DNS:localhost, IP Address:127\.0\.0\.1/,
    );
    assert.match(x509Text(join(tree, "plugins/OPAPluginFilter/server.crt")), /DNS:localhost, DNS:opa-plugin\n/);
    const r = verifyStrict(join(tree, "ca/ca.crt"), join(tree, "plugins/DenyListPlugin/server.crt"), [
      "-purpose",
      "sslserver",
      "-verify_ip",
      "127.0.0.1",
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("lets the gateway and a plugin complete a mutual-TLS handshake with node:tls", async () => {
    const plugin = join(tree, "plugins/DenyListPlugin");
    const server = {
      cert: read(join(plugin, "server.crt")),
      key: read(join(plugin, "server.key")),
      ca: read(join(plugin, "ca.crt")),
    };
    const gateway = {
      cert: read(join(tree, "gateway/client.crt")),
      key: read(join(tree, "gateway/client.key")),
      ca: read(join(tree, "gateway/ca.crt")),
    };
    const ok = await mtlsHandshake(server, gateway, { servername: "mcp-plugin-DenyListPlugin" });
    assert.deepEqual(ok, { ok: true, peerCn: "mcp-gateway-client" });
  });

  it("refuses a client without a certificate", async () => {
    const plugin = join(tree, "plugins/DenyListPlugin");
    const server = {
      cert: read(join(plugin, "server.crt")),
      key: read(join(plugin, "server.key")),
      ca: read(join(plugin, "ca.crt")),
    };
    const r = await mtlsHandshake(server, { ca: read(join(tree, "gateway/ca.crt")) }, { servername: "localhost" });
    assert.equal(r.ok, false);
  });

  it("refuses a client whose certificate comes from a second CA", async () => {
    const other = tempDir();
    assert.equal(cli(["gateway", "--key-type", "rsa2048"], other).code, 0);
    const plugin = join(tree, "plugins/DenyListPlugin");
    const server = {
      cert: read(join(plugin, "server.crt")),
      key: read(join(plugin, "server.key")),
      ca: read(join(plugin, "ca.crt")),
    };
    const foreign = {
      cert: read(join(other, "certs/mcp/gateway/client.crt")),
      key: read(join(other, "certs/mcp/gateway/client.key")),
      ca: read(join(tree, "ca/ca.crt")),
    };
    const r = await mtlsHandshake(server, foreign, { servername: "localhost" });
    assert.equal(r.ok, false);
  });

  it("passes Python's strict client checks (VERIFY_X509_STRICT, hostname 127.0.0.1) with the gateway's files", async () => {
    const plugin = join(tree, "plugins/DenyListPlugin");
    const server = {
      cert: read(join(plugin, "server.crt")),
      key: read(join(plugin, "server.key")),
      ca: read(join(plugin, "ca.crt")),
    };
    const g = join(tree, "gateway");
    const r = await pythonStrictClient(
      server,
      { certfile: join(g, "client.crt"), keyfile: join(g, "client.key"), cafile: join(g, "ca.crt") },
      "127.0.0.1",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello");
  });
});

describe("the single commands", () => {
  it("ca keeps an existing CA byte for byte and says so", () => {
    const dir = tempDir();
    assert.equal(cli(["ca", "--key-type", "rsa2048", "--ca-cn", "Test-CA"], dir).code, 0);
    const ca = read(join(dir, "certs/mcp/ca/ca.crt"));
    assert.match(x509Text(join(dir, "certs/mcp/ca/ca.crt")), /Subject: CN = Test-CA, O = ContextForge, OU = Plugins/);
    const again = cli(["ca", "--key-type", "rsa2048"], dir);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^kept\s+ca/m);
    assert.equal(read(join(dir, "certs/mcp/ca/ca.crt")), ca);
  });

  it("gateway and plugin create the CA first when it is missing, under --out", () => {
    const dir = tempDir();
    const g = cli(["gateway", "--key-type", "ecdsa-p256", "--out", "elsewhere"], dir);
    assert.equal(g.code, 0, g.stderr);
    assert.ok(existsSync(join(dir, "elsewhere/ca/ca.crt")));
    const p = cli(["plugin", "MyPlugin", "--key-type", "ecdsa-p256", "--out", "elsewhere"], dir);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^kept\s+ca/m);
    assert.match(p.stdout, /^created\s+plugin\s+MyPlugin/m);
    // The CA outlives its leaves (issue 15): 3650 days against the leaves' 825, so nothing is capped.
    assert.doesNotMatch(p.stderr, /capped/);
    const daysLeft = (file: string) =>
      (certDates(join(dir, "elsewhere", file)).notAfter.getTime() - Date.now()) / DAY_MS;
    assert.ok(Math.abs(daysLeft("plugins/MyPlugin/server.crt") - 825) < 0.1);
    assert.ok(Math.abs(daysLeft("ca/ca.crt") - 3650) < 0.1);
    const r = verifyStrict(join(dir, "elsewhere/ca/ca.crt"), join(dir, "elsewhere/plugins/MyPlugin/server.crt"), [
      "-purpose",
      "sslserver",
      "-verify_hostname",
      "mcp-plugin-MyPlugin",
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("takes --days over MCP_CERT_DAYS, and MCP_CERT_DAYS over the default; the CA's are ca --days, --ca-days, MCP_CA_DAYS", () => {
    const dir = tempDir();
    const caDays = (sub: string) =>
      (certDates(join(dir, sub, "certs/mcp/ca/ca.crt")).notAfter.getTime() - Date.now()) / DAY_MS;
    // MCP_CERT_DAYS is the leaves' only, as the Makefile fragment's certs-mcp-ca passes it.
    for (const [sub, args, env, expected] of [
      ["a", [], { MCP_CERT_DAYS: "30" }, 3650],
      ["b", [], { MCP_CA_DAYS: "40" }, 40],
      ["c", ["--days", "20"], { MCP_CA_DAYS: "40" }, 20],
    ] as const) {
      mkdirSync(join(dir, sub));
      const r = cli(["ca", "--key-type", "ecdsa-p256", ...args], join(dir, sub), env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Math.abs(caDays(sub) - expected) < 0.1, `${sub}: ${caDays(sub)}`);
    }
    assert.equal(cli(["gateway", "--key-type", "ecdsa-p256", "--ca-days", "50", "--out", "d/certs/mcp"], dir).code, 0);
    assert.ok(Math.abs(caDays("d") - 50) < 0.1);
    assert.equal(cli(["ca", "--days", "10", "--ca-days", "20"], dir).code, 2);
    assert.equal(
      cli(["plugin", "p", "--key-type", "ecdsa-p256", "--days", "10"], dir, { MCP_CERT_DAYS: "30" }).code,
      0,
    );
    const leaf = certDates(join(dir, "certs/mcp/plugins/p/server.crt"));
    assert.ok(Math.abs((leaf.notAfter.getTime() - Date.now()) / DAY_MS - 10) < 0.1);
  });

  it("reads the config named by MCP_PLUGIN_CONFIG, and --config over it", () => {
    const dir = tempDir();
    writeFile(join(dir, "a.yaml"), pluginConfig([{ name: "FromEnv" }]));
    writeFile(join(dir, "b.yaml"), pluginConfig([{ name: "FromFlag" }]));
    assert.equal(cli(["all", "--key-type", "ecdsa-p256"], dir, { MCP_PLUGIN_CONFIG: "a.yaml" }).code, 0);
    assert.ok(existsSync(join(dir, "certs/mcp/plugins/FromEnv/server.crt")));
    assert.equal(
      cli(["all", "--key-type", "ecdsa-p256", "--config", "b.yaml"], dir, { MCP_PLUGIN_CONFIG: "a.yaml" }).code,
      0,
    );
    assert.ok(existsSync(join(dir, "certs/mcp/plugins/FromFlag/server.crt")));
  });

  it("check exits 1 when a key does not match its cert, naming the file", () => {
    const dir = tempDir();
    assert.equal(cli(["all", "--key-type", "ecdsa-p256"], dir).code, 0);
    const tree = join(dir, "certs/mcp");
    const other = tempDir();
    assert.equal(cli(["gateway", "--key-type", "ecdsa-p256"], other).code, 0);
    rmSync(join(tree, "gateway/client.key"));
    writeFile(join(tree, "gateway/client.key"), read(join(other, "certs/mcp/gateway/client.key")));
    const r = cli(["check"], dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /gateway\/client\.key: does not match the certificate/);
  });
});

describe("bad input is exit 2 and writes nothing", () => {
  it("refuses a plugin name that would leave the tree", () => {
    const dir = tempDir();
    const r = cli(["plugin", "../../x"], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"\.\.\/\.\.\/x" is not a safe name/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("refuses malformed YAML with the file, line and column", () => {
    const dir = tempDir();
    writeFile(join(dir, "plugins/external/config.yaml"), "plugins:\n  - name: [unclosed\n");
    const r = cli(["all"], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /plugins\/external\/config\.yaml:\d+:\d+: YAML syntax error/);
    assert.ok(!existsSync(join(dir, "certs")));
  });

  it("refuses a bad --days and an unknown option", () => {
    const dir = tempDir();
    assert.equal(cli(["all", "--days", "1.5"], dir).code, 2);
    assert.equal(cli(["all", "--no-such-flag"], dir).code, 2);
    assert.ok(!existsSync(join(dir, "certs")));
  });
});

describe("the command line itself", () => {
  it("prints help with every core command and exits 0", () => {
    const r = cli(["--help"], tempDir());
    assert.equal(r.code, 0);
    for (const c of ["ca", "gateway", "plugin", "all", "check"]) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, "m"));
  });

  it("prints the package version", () => {
    const r = cli(["--version"], tempDir());
    assert.equal(r.stdout.trim(), JSON.parse(read(new URL("../../package.json", import.meta.url).pathname)).version);
  });

  it("prints no colour codes under NO_COLOR", () => {
    const dir = tempDir();
    const r = cli(["ca", "--key-type", "ecdsa-p256"], dir, { FORCE_COLOR: "1", NO_COLOR: "1" });
    assert.doesNotMatch(r.stdout + r.stderr, /\u001b\[/);
  });

  it("prints one parseable JSON document with --json", () => {
    const dir = tempDir();
    const r = cli(["all", "--key-type", "ecdsa-p256", "--json"], dir);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.certificates.length, 4);
    assert.deepEqual(
      doc.certificates.map((c: { role: string }) => c.role),
      ["ca", "gateway", "plugin", "plugin"],
    );
    const fp = openssl(["x509", "-in", join(dir, "certs/mcp/ca/ca.crt"), "-noout", "-fingerprint", "-sha256"])
      .stdout.trim()
      .split("=")[1];
    assert.equal(doc.certificates[0].fingerprint, fp);
  });
});
