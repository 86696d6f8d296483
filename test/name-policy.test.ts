/**
 * The name policy (issue 23 §4) as a table: which SANs a leaf may be signed with, by where each
 * came from. The commands that apply it are tested with real certs in sans.test.ts and
 * security.test.ts; this pins the rules and their stable codes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { judgeLeafNames, judgeNames, MAX_SANS, requested, type HeldName } from "../src/pki/name-policy.js";
import { dns, ip, pluginSans } from "../src/pki/profiles.js";

const held: HeldName[] = [
  { san: "DNS:PluginA", role: "plugin", name: "PluginA" },
  { san: "DNS:mcp-plugin-PluginA", role: "plugin", name: "PluginA" },
  { san: "DNS:localhost", role: "plugin", name: "PluginA" },
  { san: "DNS:plugin-a.internal", role: "plugin", name: "PluginA" },
  { san: "email:admin@example.com", role: "client", name: "admin" },
];

const codes = (r: ReturnType<typeof judgeLeafNames>) => r.map((x) => `${x.code} ${x.san}`);

describe("the name policy", () => {
  it("lets a plugin have its own names, localhost (shared by every plugin) and a URL host nobody holds", () => {
    const sans = pluginSans("evil", [requested(dns("evil.internal"), "url")]);
    assert.deepEqual(judgeLeafNames({ role: "plugin", name: "evil", sans }, held), []);
  });

  it("refuses a wildcard from a URL, a gRPC target, a CSR or mcp-stack.yaml, and takes one from the command line", () => {
    for (const source of ["url", "grpc-target", "csr", "stack"] as const) {
      const r = judgeLeafNames(
        { role: "plugin", name: "evil", sans: [requested(dns("*.svc.cluster.local"), source)] },
        held,
      );
      assert.deepEqual(codes(r), ["wildcard-not-asked DNS:*.svc.cluster.local"], source);
      assert.match(r[0]!.message, /^plugin evil: DNS:\*\.svc\.cluster\.local/);
    }
    assert.deepEqual(
      judgeLeafNames({ role: "server", name: "api", sans: [requested(dns("*.api.internal"), "flag")] }, held),
      [],
    );
  });

  it("refuses a name another leaf holds, compared case-insensitively: pluginA's own names, PluginA's URL host", () => {
    const r = judgeLeafNames({ role: "plugin", name: "pluginA", sans: pluginSans("pluginA") }, held);
    assert.deepEqual(codes(r), ["held-by-other-leaf DNS:pluginA", "held-by-other-leaf DNS:mcp-plugin-pluginA"]);
    assert.match(r[0]!.message, /plugin PluginA's name/);
    const url = judgeLeafNames(
      { role: "plugin", name: "evil", sans: [requested(dns("PLUGIN-A.internal"), "url", "config.yaml:3:5")] },
      held,
    );
    assert.deepEqual(codes(url), ["held-by-other-leaf DNS:PLUGIN-A.internal"]);
    assert.match(url[0]!.message, /from config\.yaml:3:5/);
    // The leaf's own record is not "another leaf".
    assert.deepEqual(judgeLeafNames({ role: "plugin", name: "PluginA", sans: pluginSans("PluginA") }, held), []);
  });

  it("refuses 0.0.0.0 and :: in any spelling, from any source", () => {
    const r = judgeLeafNames(
      {
        role: "server",
        name: "api",
        sans: [requested(ip("0.0.0.0"), "flag"), requested(ip("0:0:0:0:0:0:0:0"), "csr"), ip("10.0.0.1")],
      },
      held,
    );
    assert.deepEqual(codes(r), ["unspecified-address IP:0.0.0.0", "unspecified-address IP:0:0:0:0:0:0:0:0"]);
  });

  it("takes at most 100 SANs", () => {
    const sans = Array.from({ length: MAX_SANS + 1 }, (_, i) => requested(dns(`h${i}.example`), "csr"));
    assert.deepEqual(codes(judgeLeafNames({ role: "server", name: "api", sans }, [])), ["too-many-sans "]);
    assert.deepEqual(judgeLeafNames({ role: "server", name: "api", sans: sans.slice(1) }, []), []);
  });

  it("an e-mail SAN only on a client, only as the name the user asked for, and only when nobody holds it", () => {
    const mine = { type: "email", value: "bob@example.com" } as const;
    assert.deepEqual(judgeLeafNames({ role: "client", name: "bob", sans: [requested(mine, "cn")] }, held), []);
    assert.deepEqual(codes(judgeLeafNames({ role: "client", name: "bob", sans: [requested(mine, "csr")] }, held)), [
      "email-not-asked email:bob@example.com",
    ]);
    assert.deepEqual(codes(judgeLeafNames({ role: "server", name: "api", sans: [requested(mine, "flag")] }, held)), [
      "email-not-asked email:bob@example.com",
    ]);
    const admin = { type: "email", value: "Admin@Example.com" } as const;
    assert.deepEqual(codes(judgeLeafNames({ role: "client", name: "bob", sans: [requested(admin, "cn")] }, held)), [
      "held-by-other-leaf email:Admin@Example.com",
    ]);
  });

  it("names the ledger recorded for this leaf before pass as they were (renew keeps them)", () => {
    const sans = [requested(dns("*.old.internal"), "ledger"), requested(dns("plugin-a.internal"), "ledger")];
    assert.deepEqual(judgeLeafNames({ role: "plugin", name: "evil", sans }, held), []);
  });

  it("in one run, a name two leaves claim goes to the leaf whose own name it is; else to neither", () => {
    const [a, b, c] = judgeNames(
      [
        { role: "plugin", name: "a", sans: [...pluginSans("a"), requested(dns("shared.internal"), "url")] },
        { role: "plugin", name: "b", sans: [...pluginSans("b"), requested(dns("a"), "url")] },
        { role: "plugin", name: "c", sans: [...pluginSans("c"), requested(dns("shared.internal"), "url")] },
      ],
      [],
    );
    assert.deepEqual(codes(a!), ["held-by-other-leaf DNS:shared.internal"]);
    assert.deepEqual(codes(b!), ["held-by-other-leaf DNS:a"]);
    assert.deepEqual(codes(c!), ["held-by-other-leaf DNS:shared.internal"]);
  });
});
