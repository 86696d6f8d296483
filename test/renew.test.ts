/**
 * `renew` (issue 4, issue 10): re-issues only what expires, keeps the CA byte for byte, keeps
 * subjects, SANs, extensions and key types, keeps pins with --reuse-key, rotates the CA with a
 * bundle; a dead CA signs nothing. Every claim is checked by openssl, curl or a real mutual-TLS
 * handshake; fixtures get their dates from explicit notBefore/notAfter or a past `now`.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { all } from "../src/commands/all.js";
import { createCa } from "../src/commands/ca.js";
import { issueClient } from "../src/commands/client.js";
import { issueGateway } from "../src/commands/gateway.js";
import { issueHttps } from "../src/commands/https.js";
import { issuePlugin } from "../src/commands/plugin.js";
import { issueServer } from "../src/commands/server.js";
import type { RenewReport } from "../src/commands/renew/index.js";
import {
  cli,
  mtlsHandshake,
  openssl,
  pluginConfig,
  read,
  runAsync,
  tempDir,
  verifyStrict,
  writeFile,
} from "./helpers.js";

const DAY = 86_400_000;
const daysFromNow = (n: number): Date => new Date(Date.now() + n * DAY);
const fast = { keyType: "ecdsa-p256" as const };

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** The SPKI pin exactly as curl's documentation computes it, with openssl only. */
function opensslPin(certPath: string): string {
  const r = spawnSync(
    "bash",
    [
      "-c",
      `openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
      "pin",
      certPath,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  return `sha256//${r.stdout.trim()}`;
}

/** `openssl x509 -text` without what renewal must change: serial, dates, key ids, key, signature. */
function stableText(certPath: string): string {
  const text = openssl([
    "x509",
    "-in",
    certPath,
    "-noout",
    "-text",
    "-certopt",
    "no_serial,no_validity,no_pubkey,no_sigdump",
  ]).stdout;
  return text.replace(/X509v3 (Subject|Authority) Key Identifier:[^\n]*\n[^\n]*\n/g, "");
}

describe("renew: only what expires, under the same CA", () => {
  let dir: string;
  let out: string;
  const before0 = new Map<string, string>();
  let report: RenewReport;
  let dry: RenewReport;
  let dryCode: number | null;

  before(async () => {
    dir = tempDir();
    out = join(dir, "certs/mcp");
    const none = join(dir, "none.yaml");
    await issueGateway({ ...fast, out });
    await issuePlugin("steady", { ...fast, out, config: none });
    await issuePlugin("soon", {
      ...fast,
      out,
      config: none,
      san: ["soon.internal"],
      ip: ["10.9.8.7"],
      notBefore: daysFromNow(-800),
      notAfter: daysFromNow(12),
    });
    await issuePlugin("gone", {
      keyType: "rsa2048",
      out,
      config: none,
      notBefore: daysFromNow(-800),
      notAfter: daysFromNow(-3),
    });
    await issueServer("gateway.local", { ...fast, out, notBefore: daysFromNow(-800), notAfter: daysFromNow(20) });
    await issueClient("admin", {
      ...fast,
      out,
      cn: "admin@example.com",
      notBefore: daysFromNow(-800),
      notAfter: daysFromNow(-1),
    });
    for (const f of [
      "ca/ca.crt",
      "ca/ca.key",
      "gateway/client.crt",
      "gateway/client.key",
      "plugins/steady/server.crt",
      "plugins/steady/server.key",
      "plugins/soon/server.crt",
      "plugins/soon/server.key",
      "plugins/gone/server.crt",
      "servers/gateway.local/server.crt",
      "clients/admin/client.crt",
    ]) {
      before0.set(f, sha256(join(out, f)));
    }
    before0.set("soon.text", stableText(join(out, "plugins/soon/server.crt")));
    before0.set("admin.text", stableText(join(out, "clients/admin/client.crt")));
    before0.set("soon.pin", opensslPin(join(out, "plugins/soon/server.crt")));

    const d = cli(["renew", "--out", out, "--dry-run", "--json"], dir);
    dryCode = d.code;
    dry = JSON.parse(d.stdout) as RenewReport;
    const r = cli(["renew", "--out", out, "--json"], dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    report = JSON.parse(r.stdout) as RenewReport;
  });

  it("--dry-run lists what would be renewed, writes nothing, and exits 1 (something needs attention)", () => {
    assert.equal(dryCode, 1);
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.renewed.map((r) => `${r.role}/${r.name}:${r.action}`).sort(), [
      "client/admin:would-renew",
      "plugin/gone:would-renew",
      "plugin/soon:would-renew",
      "server/gateway.local:would-renew",
    ]);
    assert.ok(dry.attention.some((a) => a.name === "gone" && a.status === "expired"));
  });

  it("re-issues exactly the expired and expiring leaves, and keeps the rest and the CA byte for byte", () => {
    assert.deepEqual(report.renewed.map((r) => `${r.role}/${r.name}`).sort(), [
      "client/admin",
      "plugin/gone",
      "plugin/soon",
      "server/gateway.local",
    ]);
    assert.deepEqual(report.kept.map((k) => k.name).sort(), ["gateway", "steady"]);
    assert.deepEqual(report.failed, []);
    assert.deepEqual(report.attention, []);
    for (const f of [
      "ca/ca.crt",
      "ca/ca.key",
      "gateway/client.crt",
      "gateway/client.key",
      "plugins/steady/server.crt",
      "plugins/steady/server.key",
    ]) {
      assert.equal(sha256(join(out, f)), before0.get(f), `${f} changed`);
    }
    for (const f of [
      "plugins/soon/server.crt",
      "plugins/soon/server.key",
      "plugins/gone/server.crt",
      "servers/gateway.local/server.crt",
      "clients/admin/client.crt",
    ]) {
      assert.notEqual(sha256(join(out, f)), before0.get(f), `${f} was not renewed`);
    }
    assert.match(report.renewed.find((r) => r.name === "gone")!.reasons[0]!, /^expired on /);
    assert.match(
      report.renewed.find((r) => r.name === "soon")!.reasons[0]!,
      /^expires on .*\(11 days left, within 30\)/,
    );
  });

  it("renewed certs pass openssl verify -x509_strict with their purpose, and are valid for the default 825 days", () => {
    const ca = join(out, "ca/ca.crt");
    for (const [f, purpose] of [
      ["plugins/soon/server.crt", "sslserver"],
      ["plugins/gone/server.crt", "sslserver"],
      ["servers/gateway.local/server.crt", "sslserver"],
      ["clients/admin/client.crt", "sslclient"],
    ] as const) {
      const r = verifyStrict(ca, join(out, f), ["-purpose", purpose]);
      assert.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`);
      assert.equal(
        openssl(["x509", "-in", join(out, f), "-noout", "-checkend", String(824 * 86400)]).code,
        0,
        `${f} is not valid for 824 more days`,
      );
    }
  });

  it("keeps subject, SANs, extensions and key type; makes a new key by default", () => {
    const soon = join(out, "plugins/soon/server.crt");
    assert.equal(stableText(soon), before0.get("soon.text"), "subject, SANs or extensions changed");
    assert.match(
      stableText(soon),
      /DNS:soon, DNS:mcp-plugin-soon, DNS:localhost, DNS:soon.internal, IP Address:10.9.8.7/,
    );
    assert.equal(stableText(join(out, "clients/admin/client.crt")), before0.get("admin.text"));
    assert.notEqual(opensslPin(soon), before0.get("soon.pin"), "the key should be new");
    const r = report.renewed.find((x) => x.name === "soon")!;
    assert.equal(r.keyReused, false);
    assert.equal(r.after.spkiPin, opensslPin(soon));
    // Key types stay: the RSA 2048 plugin is still RSA 2048, the others EC P-256.
    assert.match(
      openssl(["pkey", "-in", join(out, "plugins/gone/server.key"), "-noout", "-text"]).stdout,
      /Private-Key: \(2048 bit/,
    );
    assert.match(
      openssl(["pkey", "-in", join(out, "plugins/soon/server.key"), "-noout", "-text"]).stdout,
      /ASN1 OID: prime256v1/,
    );
    // client.pem is the new cert and the new key.
    const pem = read(join(out, "clients/admin/client.pem"));
    assert.ok(pem.startsWith(read(join(out, "clients/admin/client.crt"))));
    assert.ok(pem.endsWith(read(join(out, "clients/admin/client.key"))));
  });

  it("keys stay 0600, and the previous cert and key are in a dated backup folder, 0600", () => {
    for (const f of [
      "plugins/soon/server.key",
      "plugins/gone/server.key",
      "clients/admin/client.key",
      "clients/admin/client.pem",
    ])
      assert.equal(mode(join(out, f)), "600", f);
    assert.ok(report.backup);
    assert.match(report.backup, /\/\.backup\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    assert.equal(mode(report.backup), "700");
    assert.equal(sha256(join(report.backup, "plugins/soon/server.crt")), before0.get("plugins/soon/server.crt"));
    assert.equal(sha256(join(report.backup, "plugins/soon/server.key")), before0.get("plugins/soon/server.key"));
    for (const f of readdirSync(join(report.backup, "plugins/soon")))
      assert.equal(mode(join(report.backup, "plugins/soon", f)), "600");
    // check does not mistake the backup for a plugin.
    const check = cli(["check", "--out", out, "--within", "30"], dir);
    assert.equal(check.code, 0, check.stdout);
    assert.doesNotMatch(check.stdout, /\.backup/);
  });

  it("a second run renews nothing and exits 0", () => {
    const again = cli(["renew", "--out", out, "--json"], dir);
    assert.equal(again.code, 0);
    const r = JSON.parse(again.stdout) as RenewReport;
    assert.equal(r.renewed.length, 0);
    assert.equal(r.backup, null);
    assert.equal(r.kept.length, 6);
  });
});

describe("renew: names, --force, --diff, config SANs and exit codes", () => {
  let dir: string;
  let out: string;
  let config: string;
  before(async () => {
    dir = tempDir();
    out = join(dir, "certs/mcp");
    config = join(dir, "config.yaml");
    writeFile(config, pluginConfig([{ name: "alpha" }, { name: "beta" }]));
    await all({ ...fast, out, config });
  });

  it("exits 2 for an unknown name or a bad flag, and writes nothing", () => {
    const ca = sha256(join(out, "ca/ca.crt"));
    for (const args of [
      ["nosuch"],
      ["--within", "soon"],
      ["--reuse-key", "--key-type", "rsa2048"],
      ["--keep-leaves"],
      ["../etc"],
    ]) {
      const r = cli(["renew", "--out", out, "--force", ...args], dir);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
    assert.ok(!existsSync(join(out, ".backup")));
    assert.equal(sha256(join(out, "ca/ca.crt")), ca);
  });

  it("--force renews only the named leaf; --diff shows what changed", () => {
    const beta = sha256(join(out, "plugins/beta/server.crt"));
    const r = cli(["renew", "--out", out, "--config", config, "--force", "--diff", "plugin/alpha"], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^renewed\s+plugin\s+alpha\s+/m);
    assert.match(r.stdout, /- serial [0-9A-F]+ → [0-9A-F]+/);
    assert.match(r.stdout, /- new key: SPKI pin sha256\/\/\S+ → sha256\/\/\S+/);
    assert.doesNotMatch(r.stdout, /beta|gateway/);
    assert.equal(sha256(join(out, "plugins/beta/server.crt")), beta);
  });

  it("a plugin whose config now asks for a SAN is invalid for check, and renew adds the SAN", () => {
    writeFile(config, pluginConfig([{ name: "alpha", url: "https://10.1.2.3:8443/mcp" }, { name: "beta" }]));
    const check = cli(["check", "--out", out, "--config", config], dir);
    assert.equal(check.code, 1);
    assert.match(
      check.stdout,
      /missing SAN IP:10\.1\.2\.3 that the plugin config asks for; run `mtls-certs renew alpha`/,
    );
    const dry = JSON.parse(
      cli(["renew", "--out", out, "--config", config, "--dry-run", "--json"], dir).stdout,
    ) as RenewReport;
    assert.deepEqual(
      dry.renewed.map((x) => x.name),
      ["alpha"],
    );
    assert.ok(dry.renewed[0]!.changes.includes("SAN added IP:10.1.2.3"));
    const r = cli(["renew", "--out", out, "--config", config], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const text = openssl([
      "x509",
      "-in",
      join(out, "plugins/alpha/server.crt"),
      "-noout",
      "-ext",
      "subjectAltName",
    ]).stdout;
    assert.match(text, /DNS:alpha, DNS:mcp-plugin-alpha, DNS:localhost, IP Address:10\.1\.2\.3/);
    assert.equal(
      openssl([
        "verify",
        "-x509_strict",
        "-CAfile",
        join(out, "ca/ca.crt"),
        "-verify_ip",
        "10.1.2.3",
        join(out, "plugins/alpha/server.crt"),
      ]).code,
      0,
    );
    const after = cli(["check", "--out", out, "--config", config], dir);
    assert.equal(after.code, 0, after.stdout + after.stderr);
  });

  it("exits 1 with the leaf under failed when it cannot be renewed, and 1 when a problem renew does not fix remains", () => {
    const gone = join(out, "plugins/beta/server.key");
    const key = read(gone);
    spawnSync("rm", [gone]);
    const r = cli(["renew", "--out", out, "--force", "--json", "beta"], dir);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as RenewReport;
    assert.equal(report.failed[0]?.name, "beta");
    assert.equal(report.failed[0]?.error.code, "E_CERT_WITHOUT_KEY");
    writeFileSync(gone, key, { mode: 0o644 });
    // Renewing does not fix a key others can read: still needs attention.
    const loose = cli(["renew", "--out", out, "--json"], dir);
    assert.equal(loose.code, 1);
    assert.match(JSON.parse(loose.stdout).attention[0].problems[0], /open to others/);
  });
});

describe("renew --reuse-key keeps the SPKI pin (issue 10)", () => {
  it("keeps the pin openssl computes, and curl --pinnedpubkey still connects to the renewed cert", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    await issuePlugin("pinned", {
      ...fast,
      out,
      config: join(dir, "none.yaml"),
      notBefore: daysFromNow(-800),
      notAfter: daysFromNow(5),
    });
    const cert = join(out, "plugins/pinned/server.crt");
    const pin = opensslPin(cert);
    const oldSerial = openssl(["x509", "-in", cert, "-noout", "-serial"]).stdout;

    const r = cli(["renew", "--out", out, "--reuse-key", "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RenewReport;
    assert.equal(report.renewed[0]?.keyReused, true);
    assert.ok(report.renewed[0]?.changes.some((c) => c.startsWith("key kept: SPKI pin")));
    assert.notEqual(openssl(["x509", "-in", cert, "-noout", "-serial"]).stdout, oldSerial, "a new certificate");
    assert.equal(opensslPin(cert), pin, "the same key");
    assert.equal(report.renewed[0]?.after.spkiPin, pin);
    assert.equal(mode(join(out, "plugins/pinned/server.key")), "600");

    const server = createServer({ cert: read(cert), key: read(join(out, "plugins/pinned/server.key")) }, (_req, res) =>
      res.end("pinned ok\n"),
    );
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    const { port } = server.address() as AddressInfo;
    try {
      const curl = (p: string) =>
        runAsync("curl", [
          "-sS",
          "--cacert",
          join(out, "ca/ca.crt"),
          "--resolve",
          `localhost:${port}:127.0.0.1`,
          "--pinnedpubkey",
          p,
          `https://localhost:${port}/`,
        ]);
      const ok = await curl(pin);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, "pinned ok\n");
      const wrong = await curl(`sha256//${Buffer.alloc(32, 7).toString("base64")}`);
      assert.notEqual(wrong.code, 0, "curl must refuse another pin");
    } finally {
      server.close();
    }
  });
});

describe("no issuing from a dead CA; no leaf outlives its CA (issue 10)", () => {
  it("an expired CA refuses to sign: exit 1 with its dates and the renew --ca hint", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    // A tree made 900 days ago with an 825-day CA: everything in it is now expired.
    await all({ ...fast, out, config: join(dir, "none.yaml"), now: daysFromNow(-900), days: 825, caDays: 825 });
    const dead = verifyStrict(join(out, "ca/ca.crt"), join(out, "gateway/client.crt"));
    assert.match(dead.stdout + dead.stderr, /certificate has expired/);
    const ca = sha256(join(out, "ca/ca.crt"));
    for (const args of [["plugin", "newcomer"], ["renew"], ["renew", "--force"]]) {
      const r = cli([...args, "--out", out], dir);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /the CA has expired \(valid \d{4}-\d\d-\d\d \d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d UTC\); it cannot sign/,
      );
      assert.match(r.stderr, /hint: rotate it with `mtls-certs renew --ca`/);
    }
    assert.ok(!existsSync(join(out, "plugins/newcomer/server.crt")));
    assert.equal(sha256(join(out, "ca/ca.crt")), ca);
    // The fix the hint names: a new CA, and every leaf under it.
    const fix = cli(["renew", "--ca", "--out", out, "--json"], dir);
    const report = JSON.parse(fix.stdout) as RenewReport;
    assert.equal(report.ca?.action, "rotated");
    assert.equal(report.renewed.length, 3);
    for (const f of ["gateway/client.crt", "plugins/example-plugin-a/server.crt"])
      assert.equal(verifyStrict(join(out, "ca/ca.crt"), join(out, f)).code, 0);
    // Still 1 until the expired previous CA leaves the bundle; then 0.
    assert.equal(fix.code, 1);
    assert.equal(cli(["ca", "--finish-rotation", "--out", out], dir).code, 0);
    const check = cli(["check", "--out", out, "--within", "30"], dir);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it("a CA that is not yet valid refuses to sign too", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    await createCa({ ...fast, out, now: daysFromNow(3) });
    const r = cli(["gateway", "--out", out], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the CA is not yet valid \(valid \d{4}-.* to \d{4}-.*\)/);
  });

  it("caps a leaf at the CA's notAfter with a warning that names both dates", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    await createCa({ ...fast, out, days: 10 });
    const r = cli(["gateway", "--out", out, "--days", "825"], dir);
    assert.equal(r.code, 0, r.stderr);
    const caEnd = openssl(["x509", "-in", join(out, "ca/ca.crt"), "-noout", "-enddate"]).stdout;
    assert.equal(openssl(["x509", "-in", join(out, "gateway/client.crt"), "-noout", "-enddate"]).stdout, caEnd);
    // Dates for people: 2029-03-04 02:57 UTC, to the minute.
    const when = "(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC)";
    const m = r.stderr.match(
      new RegExp(`warning: .*client\\.crt: notAfter capped at the CA's notAfter ${when} \\(asked for ${when}\\)`),
    );
    assert.ok(m, r.stderr);
    const caEndMs = Date.parse(caEnd.trim().slice("notAfter=".length));
    assert.equal(Date.parse(m[1]!), caEndMs - (caEndMs % 60_000));
    assert.ok(Date.parse(m[2]!) - Date.parse(m[1]!) > 800 * DAY);
  });

  it("the API's explicit dates make an expired cert that openssl rejects as expired", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    await issueGateway({
      ...fast,
      out,
      notBefore: new Date("2024-01-01T00:00:00Z"),
      notAfter: new Date("2024-02-01T00:00:00Z"),
    });
    const r = verifyStrict(join(out, "ca/ca.crt"), join(out, "gateway/client.crt"));
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /certificate has expired/);
    assert.match(
      openssl(["x509", "-in", join(out, "gateway/client.crt"), "-noout", "-enddate"]).stdout,
      /notAfter=Feb {2}1 00:00:00 2024 GMT/,
    );
  });
});

describe("renew --ca: CA rotation with a bundle, then ca --finish-rotation", () => {
  let dir: string;
  let out: string;
  const oldFiles: Record<string, string> = {};
  before(async () => {
    dir = tempDir();
    out = join(dir, "certs/mcp");
    await all({ ...fast, out, config: join(dir, "none.yaml") });
    for (const f of [
      "ca/ca.crt",
      "ca/ca.key",
      "gateway/client.crt",
      "gateway/client.key",
      "plugins/example-plugin-a/server.crt",
      "plugins/example-plugin-a/server.key",
    ])
      oldFiles[f] = read(join(out, f));
  });

  const handshake = (server: { cert: string; key: string }, client: { cert: string; key: string }, ca: string) =>
    mtlsHandshake({ ...server, ca }, { ...client, ca }, { servername: "localhost" });

  it("step 1, renew --ca --keep-leaves: a new CA, its CN one generation on; ca/ca.crt and every ca.crt copy are new + old; leaves untouched", async () => {
    const r = cli(["renew", "--ca", "--keep-leaves", "--out", out, "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RenewReport;
    assert.equal(report.ca?.action, "rotated");
    assert.equal(report.renewed.length, 0);
    const subject = (pem: string) => openssl(["x509", "-noout", "-subject"], pem).stdout;
    assert.notEqual(read(join(out, "ca/ca.crt")), oldFiles["ca/ca.crt"]);
    // Two CAs of one name in one trust file: OpenSSL would take the first for a leaf without an
    // authority key id. The new generation is told apart by its CN.
    assert.equal(
      subject(read(join(out, "ca/ca.crt"))),
      subject(oldFiles["ca/ca.crt"]!).replace("CN = ContextForge-CA,", "CN = ContextForge-CA G2,"),
    );
    const newCaAlone = `${read(join(out, "ca/ca.crt")).split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`;
    assert.equal(read(join(out, "ca/previous/ca.crt")), oldFiles["ca/ca.crt"]);
    assert.equal(read(join(out, "ca/previous/ca.key")), oldFiles["ca/ca.key"]);
    assert.equal(mode(join(out, "ca/previous/ca.key")), "600");
    assert.equal(mode(join(out, "ca/ca.key")), "600");
    const bundle = read(join(out, "ca/bundle.crt"));
    // The signing CA first (what readers of the first cert take), then the previous one; ca/ca.crt,
    // the one trust file the gateway's tooling mounts, holds both until ca --finish-rotation.
    assert.equal(bundle, newCaAlone + oldFiles["ca/ca.crt"]);
    for (const copy of [
      "ca/ca.crt",
      "gateway/ca.crt",
      "plugins/example-plugin-a/ca.crt",
      "plugins/example-plugin-b/ca.crt",
    ])
      assert.equal(read(join(out, copy)), bundle, copy);
    assert.equal(read(join(out, "gateway/client.crt")), oldFiles["gateway/client.crt"]);
    // Old leaves still verify against the bundle, with openssl and in a real handshake.
    assert.equal(verifyStrict(join(out, "ca/bundle.crt"), join(out, "gateway/client.crt")).code, 0);
    const h = await handshake(
      {
        cert: read(join(out, "plugins/example-plugin-a/server.crt")),
        key: read(join(out, "plugins/example-plugin-a/server.key")),
      },
      { cert: read(join(out, "gateway/client.crt")), key: read(join(out, "gateway/client.key")) },
      read(join(out, "gateway/ca.crt")),
    );
    assert.ok(h.ok, h.error);
  });

  it("ca --finish-rotation refuses (exit 1) while leaves are still signed by the previous CA", () => {
    const r = cli(["ca", "--finish-rotation", "--out", out], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /still signed by the previous CA/);
    assert.ok(existsSync(join(out, "ca/previous/ca.crt")));
    const check = cli(["check", "--out", out, "--json"], dir);
    assert.equal(check.code, 0, "a rotation in progress is not a failure");
    assert.match(
      JSON.parse(check.stdout).warnings.join("\n"),
      /CA rotation in progress: 3 certificates still signed by the previous CA/,
    );
  });

  it("step 2, renew: re-issues the leaves under the new CA; old and new leaves both complete mutual TLS against the bundle", async () => {
    const r = cli(["renew", "--out", out, "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RenewReport;
    assert.deepEqual(
      report.renewed.map((x) => x.reasons[0]),
      ["signed by the previous CA", "signed by the previous CA", "signed by the previous CA"],
    );
    const newCa = join(out, "ca/ca.crt");
    for (const f of ["gateway/client.crt", "plugins/example-plugin-a/server.crt"])
      assert.equal(verifyStrict(newCa, join(out, f)).code, 0, `${f} under the new CA`);
    const oldCaFile = writeFile(join(dir, "old-ca.crt"), oldFiles["ca/ca.crt"]!);
    assert.notEqual(
      verifyStrict(oldCaFile, join(out, "gateway/client.crt")).code,
      0,
      "the new leaf is not from the old CA",
    );

    const bundle = read(join(out, "plugins/example-plugin-a/ca.crt"));
    const plugin = {
      cert: read(join(out, "plugins/example-plugin-a/server.crt")),
      key: read(join(out, "plugins/example-plugin-a/server.key")),
    };
    const oldGateway = { cert: oldFiles["gateway/client.crt"]!, key: oldFiles["gateway/client.key"]! };
    const newGateway = { cert: read(join(out, "gateway/client.crt")), key: read(join(out, "gateway/client.key")) };
    const oldLeaf = await handshake(plugin, oldGateway, bundle);
    assert.ok(oldLeaf.ok, `old-CA client: ${oldLeaf.error}`);
    assert.equal(oldLeaf.peerCn, "mcp-gateway-client");
    const newLeaf = await handshake(plugin, newGateway, bundle);
    assert.ok(newLeaf.ok, `new-CA client: ${newLeaf.error}`);
    // An old-CA server cert against a new-CA client, too.
    const oldPlugin = {
      cert: oldFiles["plugins/example-plugin-a/server.crt"]!,
      key: oldFiles["plugins/example-plugin-a/server.key"]!,
    };
    assert.ok((await handshake(oldPlugin, newGateway, bundle)).ok);
  });

  it("step 3, ca --finish-rotation: the copies hold the new CA alone; only the new leaf still completes mutual TLS", async () => {
    const r = cli(["ca", "--finish-rotation", "--out", out, "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const finished = JSON.parse(r.stdout) as { removed: { backup: string }; copies: number };
    assert.equal(finished.copies, 3);
    assert.ok(!existsSync(join(out, "ca/bundle.crt")));
    assert.ok(!existsSync(join(out, "ca/previous")));
    assert.equal(read(join(finished.removed.backup, "ca.crt")), oldFiles["ca/ca.crt"]);
    assert.equal(mode(join(finished.removed.backup, "ca.key")), "600");
    const ca = read(join(out, "ca/ca.crt"));
    for (const copy of ["gateway/ca.crt", "plugins/example-plugin-a/ca.crt"]) assert.equal(read(join(out, copy)), ca);

    const plugin = {
      cert: read(join(out, "plugins/example-plugin-a/server.crt")),
      key: read(join(out, "plugins/example-plugin-a/server.key")),
    };
    const trust = read(join(out, "plugins/example-plugin-a/ca.crt"));
    const newLeaf = await handshake(
      plugin,
      { cert: read(join(out, "gateway/client.crt")), key: read(join(out, "gateway/client.key")) },
      trust,
    );
    assert.ok(newLeaf.ok, newLeaf.error);
    const oldLeaf = await handshake(
      plugin,
      { cert: oldFiles["gateway/client.crt"]!, key: oldFiles["gateway/client.key"]! },
      trust,
    );
    assert.equal(oldLeaf.ok, false, "the old CA's leaf must be refused once the rotation is finished");
    assert.equal(cli(["check", "--out", out, "--within", "30"], dir).code, 0);
    // Nothing left to finish.
    assert.equal(cli(["ca", "--finish-rotation", "--out", out], dir).code, 2);
  });
});

describe("renew --ca keeps what the old CA said about itself", () => {
  it("the new CA has the same subject (its CN one generation on) and the same name constraints; a renewed leaf verifies under it", () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    assert.equal(cli(["ca", "--out", out, "--key-type", "ecdsa-p256", "--permit-dns", "example.com"], dir).code, 0);
    assert.equal(cli(["gateway", "--out", out, "--key-type", "ecdsa-p256"], dir).code, 0);
    const constraints = (f: string) =>
      openssl(["x509", "-in", f, "-noout", "-ext", "nameConstraints,basicConstraints,keyUsage"]).stdout;
    const subject = (f: string) => openssl(["x509", "-in", f, "-noout", "-subject"]).stdout;
    const before = { constraints: constraints(join(out, "ca/ca.crt")), subject: subject(join(out, "ca/ca.crt")) };
    assert.match(before.constraints, /Permitted:\s+DNS:example\.com/);
    const r = cli(["renew", "--ca", "--out", out], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(constraints(join(out, "ca/ca.crt")), before.constraints);
    assert.equal(
      subject(join(out, "ca/ca.crt")),
      before.subject.replace("CN = ContextForge-CA,", "CN = ContextForge-CA G2,"),
    );
    assert.equal(
      verifyStrict(join(out, "ca/ca.crt"), join(out, "gateway/client.crt"), ["-purpose", "sslclient"]).code,
      0,
    );
  });
});

describe("renew keeps an encrypted key encrypted", () => {
  it("refuses without the passphrase (exit 1, failed), and with it writes an encrypted key openssl opens", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    await createCa({ ...fast, out });
    await issueGateway({
      ...fast,
      out,
      keyPassphrase: "correct horse",
      notBefore: daysFromNow(-800),
      notAfter: daysFromNow(4),
    });
    assert.match(read(join(out, "ca/ca.key")), /^-----BEGIN PRIVATE KEY-----/, "a plain CA, an encrypted leaf");
    const without = cli(["renew", "--out", out, "--json"], dir);
    assert.equal(without.code, 1);
    assert.equal((JSON.parse(without.stdout) as RenewReport).failed[0]?.error.code, "E_PASSPHRASE");
    const r = cli(["renew", "--out", out, "--key-passphrase-env", "PW"], dir, { PW: "correct horse" });
    assert.equal(r.code, 0, r.stderr);
    const key = join(out, "gateway/client.key");
    assert.match(read(key), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(mode(key), "600");
    const fromKey = openssl(["pkey", "-in", key, "-passin", "pass:correct horse", "-pubout"]);
    assert.equal(fromKey.code, 0, fromKey.stderr);
    assert.equal(fromKey.stdout, openssl(["x509", "-in", join(out, "gateway/client.crt"), "-noout", "-pubkey"]).stdout);
    assert.equal(
      openssl(["x509", "-in", join(out, "gateway/client.crt"), "-noout", "-checkend", String(800 * 86400)]).code,
      0,
    );
  });
});

describe("renew and check cover the gateway's own https cert (certs/cert.pem)", () => {
  const entryOf = (doc: {
    certificates: Array<{ role: string; path: string; status: string; signedBy: string | null; problems: string[] }>;
  }) => doc.certificates.find((c) => c.role === "https");

  it("self-signed: check reports it; renew re-issues it self-signed with the same subject and SANs, key 640, old pair backed up", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    const certs = join(dir, "certs");
    await createCa({ ...fast, out });
    await issueHttps({
      ...fast,
      out,
      san: ["gateway.example.com"],
      notBefore: daysFromNow(-350),
      notAfter: daysFromNow(10),
    });
    const cert = join(certs, "cert.pem");
    const key = join(certs, "key.pem");
    const old = { cert: read(cert), key: read(key), text: stableText(cert), ca: read(join(out, "ca/ca.crt")) };

    const checked = cli(["check", "--json"], dir);
    assert.equal(checked.code, 0, checked.stderr);
    const entry = entryOf(JSON.parse(checked.stdout));
    assert.equal(entry?.path, cert);
    assert.equal(entry?.status, "expiring");
    assert.equal(entry?.signedBy, "self");
    assert.deepEqual(entry?.problems, [], "640 is the https key's mode, not a problem");
    assert.equal(cli(["check", "--within", "30"], dir).code, 1);

    const r = cli(["renew", "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RenewReport;
    assert.deepEqual(
      report.renewed.map((c) => [c.role, c.cert, c.after.signedBy]),
      [["https", cert, "self"]],
    );
    assert.notEqual(read(key), old.key);
    assert.equal(mode(key), "640");
    assert.equal(mode(cert), "644");
    assert.equal(stableText(cert), old.text, "same subject, SANs and extensions");
    const strict = verifyStrict(cert, cert, ["-purpose", "sslserver", "-verify_hostname", "localhost"]);
    assert.equal(strict.code, 0, strict.stderr);
    const days =
      (Date.parse(openssl(["x509", "-in", cert, "-noout", "-enddate"]).stdout.split("=")[1]!) - Date.now()) / DAY;
    assert.ok(days > 364 && days <= 365, `https renews for its own 365 days, got ${days}`);
    assert.equal(read(join(out, "ca/ca.crt")), old.ca, "the CA is untouched");
    const backup = join(report.backup!, "https");
    assert.equal(read(join(backup, "cert.pem")), old.cert);
    assert.equal(read(join(backup, "key.pem")), old.key);
    assert.equal(mode(join(backup, "key.pem")), "600");
    assert.equal(entryOf(JSON.parse(cli(["check", "--json"], dir).stdout))?.status, "ok");

    chmodSync(key, 0o644);
    const loose = cli(["check", "--json"], dir);
    assert.equal(loose.code, 1);
    assert.match(
      entryOf(JSON.parse(loose.stdout))!.problems.join("\n"),
      /key\.pem: open to others \(mode 644\); run chmod 640/,
    );
  });

  it("signed by the CA (https --ca): renew --ca moves it to the new CA, and finish-rotation waits for it", async () => {
    const dir = tempDir();
    const out = join(dir, "certs/mcp");
    const cert = join(dir, "certs/cert.pem");
    await createCa({ ...fast, out });
    await issueHttps({ ...fast, out, ca: true });
    const keep = cli(["renew", "--ca", "--keep-leaves", "--json"], dir);
    assert.equal(keep.code, 0, keep.stderr);
    const finish = cli(["ca", "--finish-rotation"], dir);
    assert.equal(finish.code, 1, "the https cert still hangs on the previous CA");
    assert.match(finish.stderr, /certs\/cert\.pem/);

    const r = cli(["renew", "--json"], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RenewReport;
    const https = report.renewed.find((c) => c.role === "https");
    assert.deepEqual(https?.reasons, ["signed by the previous CA"]);
    assert.equal(https?.after.signedBy, "ca");
    const strict = verifyStrict(join(out, "ca/ca.crt"), cert, [
      "-purpose",
      "sslserver",
      "-verify_hostname",
      "localhost",
    ]);
    assert.equal(strict.code, 0, strict.stderr);
    assert.equal(cli(["ca", "--finish-rotation"], dir).code, 0);
  });
});

describe("renew, revoke, crl and ca --finish-rotation need a tree made before", () => {
  it("without one: exit 2 naming the missing tree (or CA), and no directory is created", () => {
    const dir = tempDir();
    for (const args of [["renew"], ["renew", "--ca"], ["revoke", "gateway"], ["crl"], ["ca", "--finish-rotation"]]) {
      const r = cli(args, dir);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /certs\/mcp(\/ca\/ca\.crt: missing; there is no CA to sign a CRL|: no certificate tree here)/,
        args.join(" "),
      );
      assert.deepEqual(readdirSync(dir), [], `${args.join(" ")} left files behind`);
    }
  });
});
