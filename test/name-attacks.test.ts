/**
 * Issue 23 §4, run as an attacker would: someone who can edit one plugin's entry in the config,
 * add an entry, or send a CSR. Each name the policy refuses fails that leaf alone (exit 2 naming
 * the entry and the name), the others are signed, and `openssl x509 -text` shows the refused name
 * on no certificate. Every SAN signed is printed. Each of these passed (exit 0) before the policy.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cli, pluginConfig, read, tempDir, verifyStrict, writeFile, x509Text, opensslEcRequest } from "./helpers.js";

const EC = ["--key-type", "ecdsa-p256"];

function csr(dir: string, name: string, sans: string): string {
  const path = join(dir, `${name}.csr`);
  const r = opensslEcRequest(join(dir, `${name}.key`), path, [
    "-subj",
    `/CN=${name}`,
    "-addext",
    `subjectAltName=${sans}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return path;
}

describe("names from URLs, config entries and CSRs go through the name policy", () => {
  let dir: string;
  let tree: string;
  const config = () => join(dir, "plugins/external/config.yaml");

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    writeFile(
      config(),
      pluginConfig([
        { name: "PluginA", url: "https://plugin-a.internal:8000/mcp" },
        { name: "evil", url: "https://evil.internal:8000/mcp" },
      ]),
    );
    const r = cli(["all", ...EC], dir);
    assert.equal(r.code, 0, r.stderr);
  });

  it("all lists every SAN it signed, on the plugin's lines", () => {
    const r = cli(
      ["plugin", "Listed", ...EC, "--san", "listed.internal", "--ip", "10.1.2.3", "--config", config()],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /SANs DNS:Listed, DNS:mcp-plugin-Listed, DNS:localhost, DNS:listed\.internal, IP:10\.1\.2\.3/,
    );
    assert.match(x509Text(join(tree, "plugins/Listed/server.crt")), /DNS:listed\.internal, IP Address:10\.1\.2\.3/);
  });

  it("a wildcard mcp.url host: renew refuses evil's new name (exit 2, entry and name), PluginA is still renewed", () => {
    const before = read(join(tree, "plugins/evil/server.crt"));
    writeFile(
      config(),
      pluginConfig([
        { name: "PluginA", url: "https://plugin-a.internal:8000/mcp" },
        { name: "evil", url: "https://*.svc.cluster.local:8000/mcp" },
      ]),
    );
    const r = cli(["renew", "--force", "--config", config()], dir);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /failed\s+plugin\s+evil\s+plugin evil: DNS:\*\.svc\.cluster\.local \(from .*config\.yaml: plugins\[1\]\.mcp\.url\) is a wildcard/,
    );
    assert.match(r.stdout, /renewed\s+plugin\s+PluginA/);
    assert.equal(read(join(tree, "plugins/evil/server.crt")), before, "evil's cert was replaced");
    assert.doesNotMatch(x509Text(join(tree, "plugins/evil/server.crt")), /\*\.svc/);
    // all on a fresh plugin with that URL: the same refusal, and the wildcard is on no cert.
    writeFile(config(), pluginConfig([{ name: "wild", url: "https://*.svc.cluster.local:8000/mcp" }]));
    const all = cli(["all", ...EC, "--config", config()], dir);
    assert.equal(all.code, 2, all.stdout + all.stderr);
    assert.match(all.stderr, /plugin wild: DNS:\*\.svc\.cluster\.local .*is a wildcard/);
    assert.equal(existsSync(join(tree, "plugins/wild/server.crt")), false);
    assert.match(all.stdout, /kept\s+gateway/, "the other leaves of the run are still done");
  });

  it("passed on the command line, the same wildcard is the user's to ask for", () => {
    const r = cli(["server", "wild.example", ...EC, "--san", "*.svc.cluster.local"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(x509Text(join(tree, "servers/wild.example/server.crt")), /DNS:\*\.svc\.cluster\.local/);
  });

  it("an entry reusing PluginA's URL host, or named pluginA: refused, PluginA's names stay PluginA's", () => {
    writeFile(
      config(),
      pluginConfig([
        { name: "PluginA", url: "https://plugin-a.internal:8000/mcp" },
        { name: "copycat", url: "https://PLUGIN-A.internal:8000/mcp" },
        { name: "honest", url: "https://honest.internal:8000/mcp" },
      ]),
    );
    const all = cli(["all", ...EC, "--config", config()], dir);
    assert.equal(all.code, 2, all.stdout + all.stderr);
    assert.match(all.stderr, /plugin copycat: DNS:plugin-a\.internal .*is plugin PluginA's name/);
    assert.equal(existsSync(join(tree, "plugins/copycat/server.crt")), false);
    assert.match(all.stdout, /created\s+plugin\s+honest/);
    assert.equal(verifyStrict(join(tree, "ca/ca.crt"), join(tree, "plugins/honest/server.crt")).code, 0);

    const twin = cli(["plugin", "pluginA", ...EC, "--config", config()], dir);
    assert.equal(twin.code, 2, twin.stdout + twin.stderr);
    assert.match(twin.stderr, /plugin pluginA: DNS:pluginA \(from the role's own names\) is plugin PluginA's name/);
    assert.equal(existsSync(join(tree, "plugins/pluginA/server.crt")), false);
    const check = JSON.parse(cli(["check", "--json"], dir).stdout) as { certificates: Array<{ name: string }> };
    assert.deepEqual(
      check.certificates.filter((c) => c.name === "pluginA" || c.name === "copycat"),
      [],
    );
  });

  it("a gRPC entry whose grpc.target is a wildcard, or PluginA's URL host: refused (the gRPC route takes the same policy)", () => {
    const grpc = (name: string, target: string) =>
      `  - name: ${name}\n    kind: external\n    grpc:\n      target: "${target}"\n`;
    writeFile(
      config(),
      `plugins:\n  - name: PluginA\n    kind: external\n    mcp:\n      url: https://plugin-a.internal:8000/mcp\n${grpc("grpcwild", "*.grpc.internal:50051")}${grpc("grpctwin", "plugin-a.internal:50051")}`,
    );
    const all = cli(["all", ...EC, "--config", config()], dir);
    assert.equal(all.code, 2, all.stdout + all.stderr);
    assert.match(
      all.stderr,
      /plugin grpcwild: DNS:\*\.grpc\.internal \(from .*plugins\[1\]\.grpc\.target\) is a wildcard/,
    );
    assert.match(
      all.stderr,
      /plugin grpctwin: DNS:plugin-a\.internal \(from .*plugins\[2\]\.grpc\.target\) is plugin PluginA's name/,
    );
    assert.equal(existsSync(join(tree, "plugins/grpcwild/server.crt")), false);
    assert.equal(existsSync(join(tree, "plugins/grpctwin/server.crt")), false);
  });

  it("sign --csr-sans refuses *.com, another leaf's name, 0.0.0.0, ::, 3000 SANs and someone else's e-mail", () => {
    const cases: Array<[string, string, string[], RegExp]> = [
      ["wild", "DNS:*.com", ["server", "wild-csr"], /DNS:\*\.com \(from .*wild\.csr: SAN\) is a wildcard/],
      ["twin", "DNS:mcp-plugin-PluginA", ["server", "twin-csr"], /DNS:mcp-plugin-PluginA .*is plugin PluginA's name/],
      ["any4", "IP:0.0.0.0", ["server", "any4-csr"], /IP:0\.0\.0\.0 .*unspecified address/],
      ["any6", "IP:::", ["server", "any6-csr"], /IP::: .*unspecified address/],
      [
        "many",
        Array.from({ length: 3000 }, (_, i) => `DNS:h${i}.example`).join(","),
        ["server", "many-csr"],
        /3001 SANs asked for; a certificate carries at most 100/,
      ],
      [
        "mail",
        "email:admin@example.com",
        ["client", "mallory"],
        /email:admin@example\.com .*e-mail identity the user did not name/,
      ],
    ];
    for (const [name, sans, target, why] of cases) {
      const r = cli(["sign", csr(dir, name, sans), ...target, "--csr-sans"], dir);
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, why, name);
      assert.equal(existsSync(join(tree, target[0] === "client" ? "clients" : "servers", target[1]!)), false, name);
    }
    // The address the user names with --cn is the client's to have; the output lists it.
    const ok = cli(
      [
        "sign",
        csr(dir, "carol", "email:carol@example.com"),
        "client",
        "carol",
        "--cn",
        "carol@example.com",
        "--csr-sans",
      ],
      dir,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /SANs email:carol@example\.com/);
    assert.match(x509Text(join(tree, "clients/carol/client.crt")), /email:carol@example\.com/);
  });
});
