/**
 * Migrating a tree the Makefile made, in place (issue 15 §3), as docs/migrating-from-make.md
 * walks it: `check` names the CA and `renew --ca`; `renew --ca` puts old and new CA side by side
 * in every ca.crt copy; peers still running the Makefile's certs keep working during the overlap;
 * `ca --finish-rotation` ends it, and then only the new certs are accepted. Each step is proved
 * with real handshakes: node:tls for mutual TLS, and Python's ssl with VERIFY_X509_STRICT (the
 * gateway's own stack on 3.13) for what a strict peer accepts.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { CheckReport } from "../src/commands/check.js";
import { cli, mtlsHandshake, pythonStrictClient, read, tempDir, writeFile, type TlsEnd } from "./helpers.js";
import { makeMakefileTree } from "./makefile-tree.js";

/** What a running peer holds: the files as they were deployed. */
interface Deployed {
  plugin: TlsEnd & { cert: string; key: string };
  gateway: TlsEnd & { cert: string; key: string };
}

function deployed(out: string): Deployed {
  const p = join(out, "plugins/DenyListPlugin");
  const g = join(out, "gateway");
  return {
    plugin: { cert: read(join(p, "server.crt")), key: read(join(p, "server.key")), ca: read(join(p, "ca.crt")) },
    gateway: { cert: read(join(g, "client.crt")), key: read(join(g, "client.key")), ca: read(join(g, "ca.crt")) },
  };
}

/** Python's strict client with the gateway's deployed files, against the plugin's. */
async function strictPython(dir: string, name: string, d: Deployed): Promise<boolean> {
  const files = {
    certfile: writeFile(join(dir, `${name}-client.crt`), d.gateway.cert),
    keyfile: writeFile(join(dir, `${name}-client.key`), d.gateway.key),
    cafile: writeFile(join(dir, `${name}-ca.crt`), d.gateway.ca),
  };
  const r = await pythonStrictClient(d.plugin, files, "localhost");
  if (r.code !== 0) assert.match(r.stderr, /certificate verify failed/, r.stderr);
  return r.code === 0;
}

describe("migrating a Makefile tree in place: check, renew --ca, redeploy, ca --finish-rotation", () => {
  let dir: string;
  let out: string;
  before(() => {
    dir = tempDir();
    // RSA 2048 instead of the Makefile's 4096 keeps this walk-through fast; the recipes are otherwise its own.
    out = makeMakefileTree(dir, { plugins: ["DenyListPlugin"], bits: 2048 });
  });

  it("goes from a tree strict peers refuse to one they accept, without a moment where deployed certs stop working", async () => {
    const makefile = deployed(out);
    // Before: node:tls (not strict) accepts the Makefile's certs; Python's strict client refuses the CA.
    assert.equal((await mtlsHandshake(makefile.plugin, makefile.gateway, { servername: "localhost" })).ok, true);
    assert.equal(await strictPython(dir, "before", makefile), false);

    // 1. check names the CA and the fix.
    const check = cli(["check", "--json"], dir);
    assert.equal(check.code, 1);
    const before = JSON.parse(check.stdout) as CheckReport;
    assert.equal(before.next, "mtls-certs renew --ca");
    assert.deepEqual(
      before.certificates.find((c) => c.role === "ca")!.policy.map((p) => p.code),
      ["ca-missing-key-usage"],
    );

    // 2. renew --ca: a new CA (keyUsage), every leaf re-issued under it, every ca.crt copy = new + old CA.
    const renew = cli(["renew", "--ca", "--json"], dir);
    assert.equal(renew.code, 0, renew.stdout + renew.stderr);
    const rotated = deployed(out);
    assert.equal((rotated.plugin.ca.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, "the copies hold both CAs");
    assert.ok(rotated.plugin.ca.includes(makefile.plugin.ca.trim()), "the Makefile's CA is still trusted");

    // The overlap: any mix of old and new certs works once the bundle is deployed, in either direction.
    const mixes: Array<[string, Deployed]> = [
      ["old plugin, new gateway", { plugin: { ...makefile.plugin, ca: rotated.plugin.ca }, gateway: rotated.gateway }],
      ["new plugin, old gateway", { plugin: rotated.plugin, gateway: { ...makefile.gateway, ca: rotated.gateway.ca } }],
      [
        "both old, new bundle",
        {
          plugin: { ...makefile.plugin, ca: rotated.plugin.ca },
          gateway: { ...makefile.gateway, ca: rotated.gateway.ca },
        },
      ],
      // A peer not yet given the bundle still talks to one that was (its cert is from the old CA).
      [
        "old plugin not redeployed yet, new gateway's bundle",
        { plugin: makefile.plugin, gateway: { ...makefile.gateway, ca: rotated.gateway.ca } },
      ],
      ["both new", rotated],
    ];
    for (const [what, d] of mixes) {
      const r = await mtlsHandshake(d.plugin, d.gateway, { servername: "localhost" });
      assert.equal(r.ok, true, `${what}: ${r.error}`);
    }
    // The new certs pass the strict checks, through the bundle.
    assert.equal(await strictPython(dir, "rotated", rotated), true);

    // check: nothing wrong but the rotation to finish.
    const during = JSON.parse(cli(["check", "--json"], dir).stdout) as CheckReport;
    assert.deepEqual(
      during.certificates.filter((c) => c.status !== "ok").map((c) => `${c.role}/${c.name}`),
      [],
    );
    assert.equal(during.next, null);
    assert.match(during.warnings.join("\n"), /CA rotation in progress: every certificate is signed by the new CA/);

    // 3. Redeployed everywhere, then finish: the copies hold the new CA only.
    const finish = cli(["ca", "--finish-rotation"], dir);
    assert.equal(finish.code, 0, finish.stderr);
    const final = deployed(out);
    assert.equal((final.plugin.ca.match(/BEGIN CERTIFICATE/g) ?? []).length, 1);
    assert.equal((await mtlsHandshake(final.plugin, final.gateway, { servername: "localhost" })).ok, true);
    assert.equal(await strictPython(dir, "final", final), true);
    // Only new certs now: the Makefile's gateway cert is refused by the plugin, its plugin cert by the gateway.
    const oldClient = await mtlsHandshake(
      final.plugin,
      { ...makefile.gateway, ca: final.gateway.ca },
      { servername: "localhost" },
    );
    assert.equal(oldClient.ok, false);
    const oldServer = await mtlsHandshake({ ...makefile.plugin, ca: final.plugin.ca }, final.gateway, {
      servername: "localhost",
    });
    assert.equal(oldServer.ok, false);
    assert.match(oldServer.error ?? "", /unable to (get local issuer|verify)/);

    const after = cli(["check"], dir);
    assert.equal(after.code, 0, after.stdout);
    assert.match(after.stdout, /all ok/);
  });
});
