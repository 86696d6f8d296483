/**
 * Issue 28 §3: a SAN added to an existing cert. `verify --host` names the command that adds it,
 * `renew NAME --san … --ip …` re-issues NAME now with the names (no --force), the ledger records
 * them and every later renew keeps them; an issuing command that keeps a cert says which flag did
 * not apply and how to apply it. Checked with openssl and Python's strict hostname check.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, leafEnd, pythonStrictClient, read, tempDir, verifyStrict, x509Text, type Run } from "./helpers.js";

const EC = ["--key-type", "ecdsa-p256"];

function must(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  return r;
}

describe("renew NAME --san adds a name to an existing cert, for good", () => {
  let dir: string;
  let tree: string;
  const cert = () => join(tree, "plugins/DenyListPlugin/server.crt");

  before(() => {
    dir = tempDir("mtls-renew-san-");
    tree = join(dir, "certs/mcp");
    must(cli(["all", ...EC, "-q"], dir), "all");
    must(cli(["plugin", "DenyListPlugin", ...EC, "-q"], dir), "plugin");
  });

  it("plugin X --san on a kept cert: still kept, but a note names the flag and `renew X --san`", () => {
    const before = read(cert());
    const r = must(cli(["plugin", "DenyListPlugin", "--san", "opa-plugin", "--days", "90"], dir), "plugin again");
    assert.match(r.stdout, /^kept\s+plugin\s+DenyListPlugin/m);
    assert.match(
      r.stdout,
      /- DNS:opa-plugin did not apply: the cert is kept as it is; `mtls-certs renew DenyListPlugin --san 'opa-plugin'` re-issues it now/,
    );
    assert.match(r.stdout, /- --days 90 did not apply to this kept cert \(825 days\)/);
    assert.equal(read(cert()), before);
  });

  it("verify --host names the command; running it re-issues now (no --force), and Python's strict check accepts the host", async () => {
    const v = cli(["verify", "DenyListPlugin", "--host", "opa-plugin"], dir);
    assert.equal(v.code, 1);
    const command = v.stdout.match(/`(mtls-certs renew DenyListPlugin --san opa-plugin)`/)?.[1];
    assert.ok(command, v.stdout);
    const r = must(cli([...command.split(" ").slice(1), "--ip", "10.20.30.40"], dir), command);
    assert.match(r.stdout, /renewed\s+plugin\s+DenyListPlugin .*--san\/--ip ask for DNS:opa-plugin, IP:10\.20\.30\.40/);
    assert.match(
      r.stdout,
      /SANs DNS:DenyListPlugin, DNS:mcp-plugin-DenyListPlugin, DNS:localhost, DNS:opa-plugin, IP:10\.20\.30\.40/,
    );
    assert.match(x509Text(cert()), /DNS:opa-plugin, IP Address:10\.20\.30\.40/);
    assert.equal(verifyStrict(join(tree, "ca/ca.crt"), cert(), ["-verify_hostname", "opa-plugin"]).code, 0);
    must(cli(["verify", "DenyListPlugin", "--host", "opa-plugin"], dir), "verify after");
    const py = await pythonStrictClient(
      leafEnd(join(tree, "plugins/DenyListPlugin"), "server"),
      {
        certfile: join(tree, "gateway/client.crt"),
        keyfile: join(tree, "gateway/client.key"),
        cafile: join(tree, "gateway/ca.crt"),
      },
      "opa-plugin",
    );
    assert.equal(py.code, 0, py.stdout + py.stderr);
  });

  it("the ledger records the names, and a later renew (here --force) keeps them", () => {
    const ledger = JSON.parse(read(join(tree, "ca/ledger.json"))) as {
      entries: Array<{ name: string; status: string; askedSans?: string[] }>;
    };
    const valid = ledger.entries.find((e) => e.name === "DenyListPlugin" && e.status === "valid");
    assert.deepEqual(valid?.askedSans, ["DNS:opa-plugin", "IP:10.20.30.40"]);
    must(cli(["renew", "--force", "DenyListPlugin"], dir), "renew --force");
    assert.match(x509Text(cert()), /DNS:opa-plugin, IP Address:10\.20\.30\.40/);
  });

  it("--san without exactly one name is exit 2; a name another leaf holds is refused (exit 2), the cert unchanged", () => {
    const none = cli(["renew", "--san", "x.internal"], dir);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--san\/--ip add names to one leaf; no leaf was named/);
    const before = read(cert());
    const taken = cli(["renew", "DenyListPlugin", "--san", "Example-Plugin-A"], dir);
    assert.equal(taken.code, 2, taken.stdout + taken.stderr);
    assert.match(
      taken.stdout,
      /failed\s+plugin\s+DenyListPlugin\s+plugin DenyListPlugin: DNS:Example-Plugin-A .*is plugin example-plugin-a's name/,
    );
    assert.equal(read(cert()), before);
  });
});
