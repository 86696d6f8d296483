/**
 * One read of the tree (issue 24): in one `check` run each file of the tree is opened at most
 * once, and each directory listed once, counted with strace over every thread. The tree has what
 * check reads: a CA with a CRL and a rotation's previous CA, the gateway, plugins from a config, a
 * named server with HAProxy's bundle, a client with its client.pem, the HTTPS cert beside the
 * tree; a second tree has an intermediate.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { cli, pluginConfig, tempDir, verifyStrict, writeFile } from "./helpers.js";
import { HAS_STRACE, openedTwice, opensDuring } from "./open-count.js";

const EC = ["--key-type", "ecdsa-p256"];

function run(args: string[], cwd: string, codes = [0]): void {
  const r = cli(args, cwd);
  assert.ok(codes.includes(r.code ?? -1), `${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
}

describe("check opens each file of the tree at most once (strace)", {
  skip: HAS_STRACE ? false : "strace not installed",
}, () => {
  let cwd: string;
  let inter: string;
  before(() => {
    cwd = tempDir();
    writeFile(
      join(cwd, "config.yaml"),
      pluginConfig([
        { name: "alpha", url: "https://alpha.example.com:8000/mcp" },
        { name: "beta", url: "https://beta.example.com:8000/mcp" },
      ]),
    );
    run(["all", "--config", "config.yaml", ...EC, "-q"], cwd);
    run(["server", "web", ...EC], cwd);
    run(["client", "bot", ...EC], cwd);
    run(["https", "--ca", ...EC], cwd);
    run(["export", "haproxy", "--server", "web", "-o", "haproxy.cfg", "-q"], cwd);
    run(["crl"], cwd);
    // The CA rotated, the leaves kept: ca/previous/ holds the CA that still signs them (exit 1 says so).
    run(["renew", "--ca", "--keep-leaves", ...EC], cwd, [0, 1]);
    inter = tempDir();
    run(["ca", "--intermediate", ...EC], inter);
    run(["plugin", "one", ...EC], inter);
  });

  it("a tree with a CRL, a previous CA, plugins, a server with haproxy.pem, a client and the HTTPS cert", () => {
    const tree = join(cwd, "certs");
    const { code, stderr, opens } = opensDuring(["check", "--config", "config.yaml"], cwd, tree);
    assert.ok(code === 0 || code === 1, `check ran to its report (exit ${code}): ${stderr}`);
    assert.deepEqual(openedTwice(opens), []);
    // The count saw check's reads: each of these once (a trace that saw nothing would pass above).
    for (const file of [
      "mcp/ca/ca.crt",
      "mcp/ca/ca.key",
      "mcp/ca/ca.crl",
      "mcp/ca/ledger.json",
      "mcp/ca/previous/ca.crt",
      "mcp/ca/previous/ca.key",
      "mcp/gateway/client.key",
      "mcp/plugins",
      "mcp/plugins/alpha/server.crt",
      "mcp/plugins/beta/server.key",
      "mcp/servers/web/haproxy.pem",
      "mcp/clients/bot/client.crt",
      "cert.pem",
      "key.pem",
    ])
      assert.equal(opens.get(join(tree, file)), 1, `${file} opened once: ${[...opens.keys()].join("\n")}`);
  });

  it("a tree with an intermediate CA", () => {
    const tree = join(inter, "certs", "mcp");
    const { code, stderr, opens } = opensDuring(["check"], inter, tree);
    assert.equal(code, 0, stderr);
    assert.deepEqual(openedTwice(opens), []);
    for (const file of [
      "ca/ca.crt",
      "ca/intermediate.crt",
      "ca/intermediate.key",
      "ca/bundle.crt",
      "plugins/one/server.key",
    ])
      assert.equal(opens.get(join(tree, file)), 1, file);
  });
});

/** The regular files below `dir`, absolute: what existed before a run (files it writes are new ones). */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe("renew opens each file of the tree that existed before the run once (strace)", {
  skip: HAS_STRACE ? false : "strace not installed",
}, () => {
  // The closing check judges the leaves' files as renew read them at its start and wrote them
  // since (commands/renew/leaf-read.ts, write.ts's record), not a second read. Before, renew opened
  // ca/ca.crt five or six times, the leaf's cert up to five, its key three and ca/ledger.json
  // twice; then each selected leaf's cert, key and (--force) ca.crt copy twice.
  let cwd: string;
  before(() => {
    cwd = tempDir();
    writeFile(join(cwd, "config.yaml"), pluginConfig([{ name: "alpha", url: "https://alpha.example.com:8000/mcp" }]));
    run(["all", "--config", "config.yaml", ...EC, "-q"], cwd);
    // A server with HAProxy's bundle (rebuilt from the renewed pair) and a client with client.pem.
    run(["server", "web", ...EC, "-q"], cwd);
    run(["export", "haproxy", "--server", "web", "-o", "haproxy.cfg", "-q"], cwd);
    run(["client", "bot", ...EC, "-q"], cwd);
  });

  // In this order: the forced renewal leaves a backup, so the next run also repairs-checks the leaf.
  const certOf: Record<string, string> = {
    alpha: "plugins/alpha/server.crt",
    web: "servers/web/server.crt",
    bot: "clients/bot/client.crt",
  };
  for (const args of [
    ["renew", "--force", "alpha"],
    ["renew", "alpha"],
    ["renew", "--force", "web"],
    ["renew", "--force", "bot"],
    ["renew"],
  ])
    it(`mtls-certs ${args.join(" ")}`, () => {
      const tree = join(cwd, "certs", "mcp");
      const existing = filesBelow(tree);
      const { code, stderr, opens } = opensDuring([...args, "-q"], cwd, tree);
      assert.equal(code, 0, stderr);
      for (const file of ["ca/ledger.json", "ca/ca.crt"])
        assert.equal(opens.get(join(tree, file)), 1, `${file} opened once`);
      const often = existing.filter((f) => (opens.get(f) ?? 0) > 1).map((f) => `${f}: opened ${opens.get(f)} times`);
      assert.deepEqual(often, []);
      // The count saw renew's reads (a trace that saw nothing would pass above).
      const cert = certOf[args.at(-1) ?? ""] ?? certOf.alpha!;
      assert.ok((opens.get(join(tree, cert)) ?? 0) >= 1, `${cert} opened`);
    });
});

/** The directories below `dir`, absolute, before a run (one it removes was a directory all the same). */
function directoriesBelow(dir: string): Set<string> {
  return new Set(
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isDirectory()),
  );
}

/**
 * Every path of a file opened more than once: one there before, one the run wrote, one it looked
 * for and found missing. Directories (`dirs` before the run, or there after it) are opened to
 * fsync each write into them, and listed: not counted here.
 */
function filesOpenedTwice(opens: ReadonlyMap<string, number>, dirs: ReadonlySet<string>): string[] {
  const isDirectory = (path: string) => dirs.has(path) || (existsSync(path) && statSync(path).isDirectory());
  return openedTwice(new Map([...opens].filter(([path]) => !isDirectory(path))));
}

describe("renew --ca opens each file of the tree at most once (strace)", {
  skip: HAS_STRACE ? false : "strace not installed",
}, () => {
  // The rotation takes ca/ from the run's one read (store/inventory.ts) and each leaf's files from
  // readLeaves; what it writes (ca/previous/, ca/bundle.crt, the new pair, every ca.crt copy) is
  // recorded as written, so the leaves' renewal and the closing check open none of it again.
  // Before, renew --ca opened ca/ca.key and each ca.crt copy four times, ca/ca.crt three or four,
  // ca/previous/ca.crt three, each leaf's cert and key twice.
  let base: string;
  before(() => {
    base = tempDir();
    run(["all", ...EC, "-q"], base);
    run(["server", "web", ...EC, "-q"], base);
    run(["export", "haproxy", "--server", "web", "-o", "haproxy.cfg", "-q"], base);
    run(["client", "bot", ...EC, "-q"], base);
  });

  const leafCerts = [
    "gateway/client.crt",
    "plugins/example-plugin-a/server.crt",
    "plugins/example-plugin-b/server.crt",
    "servers/web/server.crt",
    "clients/bot/client.crt",
  ];
  /** The first certificate of a PEM file: the signing CA of ca/ca.crt during a rotation. */
  const firstCert = (pem: string) => `${pem.split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`;

  for (const { flags, crl, exit } of [
    { flags: [...EC], crl: false, exit: 0 },
    { flags: ["--keep-leaves", ...EC], crl: false, exit: 0 },
    // The CRLs and the CAs' keys are judged again after the rotation, from what it read and wrote;
    // exit 1: ca/ca.crl is still the old CA's list until `mtls-certs crl`.
    { flags: ["--reuse-key"], crl: true, exit: 1 },
  ])
    it(`mtls-certs renew --ca ${flags.join(" ")}${crl ? ", with a CRL" : ""}`, () => {
      const cwd = tempDir();
      cpSync(base, cwd, { recursive: true });
      if (crl) run(["crl", "-q"], cwd);
      const tree = join(cwd, "certs", "mcp");
      const before = new Map(leafCerts.map((c) => [c, readFileSync(join(tree, c), "utf8")]));
      const dirs = directoriesBelow(tree);
      const { code, stdout, stderr, opens } = opensDuring(["renew", "--ca", ...flags, "-q"], cwd, tree);
      assert.equal(code, exit, stdout + stderr);
      assert.deepEqual(filesOpenedTwice(opens, dirs), []);
      // The count saw the run's reads (a trace that saw nothing would pass above).
      for (const file of ["ca/ca.crt", "ca/ca.key", "servers/web/server.crt", "servers/web/haproxy.pem"])
        assert.equal(opens.get(join(tree, file)), 1, `${file} opened once`);
      // The CA did rotate: the old one in ca/previous/, a new one signing first in ca/ca.crt.
      const previous = readFileSync(join(tree, "ca/previous/ca.crt"), "utf8");
      const signing = firstCert(readFileSync(join(tree, "ca/ca.crt"), "utf8"));
      assert.notEqual(signing, previous);
      const newCa = writeFile(join(cwd, "new-ca.crt"), signing);
      const keepLeaves = flags.includes("--keep-leaves");
      for (const cert of leafCerts) {
        const path = join(tree, cert);
        const kept = readFileSync(path, "utf8") === before.get(cert);
        assert.equal(kept, keepLeaves, `${cert} ${keepLeaves ? "kept" : "re-issued"}`);
        // Re-issued under the new CA alone, or kept under the previous one; both trusted by ca/ca.crt.
        const signer = keepLeaves ? join(tree, "ca/previous/ca.crt") : newCa;
        const verified = verifyStrict(signer, path);
        assert.equal(verified.code, 0, `${cert}: ${verified.stdout}${verified.stderr}`);
        assert.equal(verifyStrict(join(tree, "ca/ca.crt"), path).code, 0, `${cert} against ca/ca.crt`);
      }
    });

  it("mtls-certs renew --ca --dry-run", () => {
    const cwd = tempDir();
    cpSync(base, cwd, { recursive: true });
    const tree = join(cwd, "certs", "mcp");
    const ca = readFileSync(join(tree, "ca/ca.crt"), "utf8");
    const { code, stdout, stderr, opens } = opensDuring(["renew", "--ca", "--dry-run"], cwd, tree);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /5 would be renewed/);
    // Nothing written: the closing report judges the run's first read, the ledger's too.
    assert.deepEqual(filesOpenedTwice(opens, directoriesBelow(tree)), []);
    for (const file of ["ca/ca.crt", "ca/ledger.json", "servers/web/server.crt"])
      assert.equal(opens.get(join(tree, file)), 1, `${file} opened once`);
    assert.ok(!existsSync(join(tree, "ca/previous")));
    assert.equal(readFileSync(join(tree, "ca/ca.crt"), "utf8"), ca);
  });

  it("mtls-certs ca --finish-rotation, after renew --ca", () => {
    const cwd = tempDir();
    cpSync(base, cwd, { recursive: true });
    run(["renew", "--ca", ...EC, "-q"], cwd);
    const tree = join(cwd, "certs", "mcp");
    // ca/previous/ is gone afterwards: a directory all the same.
    const dirs = directoriesBelow(tree);
    const { code, stderr, opens } = opensDuring(["ca", "--finish-rotation"], cwd, tree);
    assert.equal(code, 0, stderr);
    assert.deepEqual(filesOpenedTwice(opens, dirs), []);
    for (const file of ["ca/ca.crt", "ca/previous/ca.crt", "ca/previous/ca.key", "servers/web/server.crt"])
      assert.equal(opens.get(join(tree, file)), 1, `${file} opened once`);
    // Finished: ca/previous/ gone, ca/ca.crt the new CA alone, which every leaf verifies against.
    assert.ok(!existsSync(join(tree, "ca/previous")));
    assert.equal(readFileSync(join(tree, "ca/ca.crt"), "utf8").match(/BEGIN CERTIFICATE/g)?.length, 1);
    for (const cert of leafCerts) {
      const verified = verifyStrict(join(tree, "ca/ca.crt"), join(tree, cert));
      assert.equal(verified.code, 0, `${cert}: ${verified.stdout}${verified.stderr}`);
    }
  });
});

describe("adopt opens each file of a ledgerless tree at most once (strace)", {
  skip: HAS_STRACE ? false : "strace not installed",
}, () => {
  // adopt reads the CA certs, the CRL and every leaf's cert and key once (store/ledger-adoption.ts);
  // it never needs the CA key, so it does not take the inventory's read, which opens ca/ca.key.
  it("a tree made before the ledger: a gateway, a plugin, a server and a client", () => {
    const cwd = tempDir();
    run(["all", ...EC, "-q"], cwd);
    run(["server", "web", ...EC, "-q"], cwd);
    run(["client", "bot", ...EC, "-q"], cwd);
    const tree = join(cwd, "certs", "mcp");
    rmSync(join(tree, "ca", "ledger.json"));
    const existing = filesBelow(tree);
    const { code, stdout, stderr, opens } = opensDuring(["adopt"], cwd, tree);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /adopted servers\/web\/server\.crt/);
    const often = existing.filter((f) => (opens.get(f) ?? 0) > 1).map((f) => `${f}: opened ${opens.get(f)} times`);
    assert.deepEqual(often, []);
    assert.equal(opens.get(join(tree, "ca", "ca.key")), undefined, "adopt does not open the CA key");
    for (const cert of ["gateway/client.crt", "servers/web/server.crt", "clients/bot/client.crt", "ca/ca.crt"])
      assert.equal(opens.get(join(tree, cert)), 1, `${cert} opened once`);
  });
});
