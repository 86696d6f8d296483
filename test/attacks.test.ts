/**
 * Issue 23, the file-system half: a real unprivileged user (uid 1001) who owns one leaf directory,
 * as a plugin container's read-write Compose mount gives it, attacks root's nightly runs. Each
 * attack is run for real (setpriv, races driven by inotifywait or a Python loop) and judged with
 * tools we did not write: cmp and stat on the CA key, openssl on certs, the files' modes.
 * The done-condition: nothing signed, copied, chmodded or restored that the CA did not decide,
 * the CA key's bytes and mode unchanged, and every other leaf still renewed.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  openSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { cli, openssl, tempDir, type Run } from "./helpers.js";

const EC = ["--key-type", "ecdsa-p256"];
const ATTACKER = 1001;
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
const asAttackerNeeds = isRoot && hasSetpriv ? {} : { skip: "needs root and setpriv to act as uid 1001" };

function must(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A command run as uid/gid 1001 with no other groups: the plugin container's user. */
function asAttacker(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync("setpriv", [`--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, "--clear-groups", command, ...args], {
    cwd,
    encoding: "utf8",
  });
}

/** `cmp -s a b`: true when the bytes are the same (cmp is not ours). */
function sameBytes(a: string, b: string): boolean {
  return spawnSync("cmp", ["-s", a, b]).status === 0;
}

/** `stat -c %a:%u:%g`: mode, owner and group as the system tells them. */
function modeOwnerGroup(path: string): string {
  const r = spawnSync("stat", ["-c", "%a:%u:%g", path], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function serialOf(cert: string): string {
  return must(openssl(["x509", "-in", cert, "-noout", "-serial"]), "openssl x509 -serial").stdout.trim();
}

/**
 * A tree with the gateway, plugins evil and good, server api and client bob, made once; each
 * attack gets its own copy in a directory uid 1001 may enter, with plugins/evil (and
 * clients/bob, servers/api where the attack needs it) owned by 1001, as a Compose mount makes it.
 */
let base = "";
function baseTree(): string {
  if (base !== "") return base;
  const cwd = tempDir("mtls-attacks-base-");
  base = join(cwd, "certs", "mcp");
  must(cli(["all", ...EC, "--out", base, "-q"], cwd), "all");
  for (const args of [
    ["plugin", "evil"],
    ["plugin", "good"],
    ["server", "api"],
    ["client", "bob"],
  ])
    must(cli([...args, ...EC, "--out", base, "-q"], cwd), args.join(" "));
  return base;
}

interface Copy {
  cwd: string;
  root: string;
  caKey: string;
  /** A copy of ca.key's bytes and its mode/owner/group before the attack. */
  caKeyCopy: string;
  caKeyStat: string;
}

function freshTree(...attackerDirs: string[]): Copy {
  const cwd = tempDir("mtls-attacks-");
  chmodSync(cwd, 0o755);
  const root = join(cwd, "certs", "mcp");
  cpSync(baseTree(), root, { recursive: true });
  for (const d of attackerDirs) chownSync(join(root, d), ATTACKER, ATTACKER);
  const caKey = join(root, "ca", "ca.key");
  const caKeyCopy = join(cwd, "ca.key.before");
  cpSync(caKey, caKeyCopy);
  return { cwd, root, caKey, caKeyCopy, caKeyStat: modeOwnerGroup(caKey) };
}

/** The done-condition's CA half: ca.key's bytes (cmp) and mode, owner, group (stat) are unchanged. */
function assertCaKeyUntouched(t: Copy): void {
  assert.ok(sameBytes(t.caKey, t.caKeyCopy), "ca.key's bytes changed");
  assert.equal(modeOwnerGroup(t.caKey), t.caKeyStat, "ca.key's mode, owner or group changed");
}

/** No file under `dir` (recursively) holds the CA key's bytes. */
function assertNoCopyOfCaKey(t: Copy, dir: string): void {
  const r = spawnSync("find", [dir, "-type", "f", "-size", `-${statSync(t.caKey).size + 1}c`], { encoding: "utf8" });
  for (const f of r.stdout.split("\n").filter(Boolean))
    assert.ok(!sameBytes(f, t.caKeyCopy) || f === t.caKey, `${f} is a copy of the CA key`);
}

describe("issue 23 §6: sizes are capped on the descriptor; one bad leaf stops nothing else", () => {
  it("a 2000 MB sparse server.crt: renew names it (exit 2) without reading it, the others are renewed", () => {
    const t = freshTree("plugins/evil");
    const crt = join(t.root, "plugins", "evil", "server.crt");
    const gatewayBefore = serialOf(join(t.root, "gateway", "client.crt"));
    // Made by the attacker in their own directory: a new file with a hole, no disk used.
    const made = asAttacker("sh", ["-c", 'rm -f "$1" && truncate -s 2000M "$1"', "sh", crt], t.cwd);
    assert.equal(made.status, 0, made.stderr);
    const renew = cli(["renew", "--force", "--out", t.root], t.cwd);
    assert.equal(renew.code, 2, renew.stdout + renew.stderr);
    assert.match(renew.stdout + renew.stderr, /plugins\/evil\/server\.crt: larger than 1 MiB/);
    assert.notEqual(serialOf(join(t.root, "gateway", "client.crt")), gatewayBefore, "the gateway was not renewed");
    assertCaKeyUntouched(t);
  });

  it("a 300 MB CSR: sign refuses it at once (exit 2 naming it), no cert written", () => {
    const t = freshTree();
    const csr = join(t.cwd, "big.csr");
    const fd = openSync(csr, "w");
    ftruncateSync(fd, 300 * 1024 * 1024);
    closeSync(fd);
    const started = Date.now();
    const r = cli(["sign", csr, "client", "carol", "--out", t.root], t.cwd);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /big\.csr: larger than 1 MiB/);
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    assert.equal(existsSync(join(t.root, "clients", "carol")), false);
  });
});

describe("a huge file where a cert is named: refused before it is read", () => {
  it("fingerprint and revoke, given a 300 MB file or a leaf whose cert is one, refuse it (exit 2 naming it)", () => {
    const t = freshTree();
    const big = join(t.cwd, "big.crt");
    const fd = openSync(big, "w");
    ftruncateSync(fd, 300 * 1024 * 1024);
    closeSync(fd);
    for (const args of [
      ["fingerprint", big],
      ["revoke", big],
    ]) {
      const r = cli([...args, "--out", t.root], t.cwd);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /big\.crt: larger than 1 MiB/);
    }
  });
});

describe("issue 23 §7: a hard link of the CA key as a leaf key", () => {
  it("check names it (exit 2) and export k8s refuses it: the Secret never holds the CA key", () => {
    const t = freshTree();
    const key = join(t.root, "plugins", "evil", "server.key");
    // As the tree's owner could (fs.protected_hardlinks keeps uid 1001 from linking root's file).
    spawnSync("rm", ["-f", key]);
    linkSync(t.caKey, key);
    const check = cli(["check", "--out", t.root], t.cwd);
    assert.equal(check.code, 2, check.stdout + check.stderr);
    assert.match(check.stdout, /plugins\/evil\/server\.key: has 2 names \(a hard link\)/);
    const out = join(t.cwd, "k8s.yaml");
    const k8s = cli(["export", "k8s", "--out", t.root, "-o", out], t.cwd);
    assert.equal(k8s.code, 2, k8s.stdout + k8s.stderr);
    assert.match(k8s.stderr, /server\.key: has 2 names/);
    assert.ok(!existsSync(out) || !readFileSync(out, "utf8").includes("evil"), "a Secret for evil was written");
    assertCaKeyUntouched(t);
  });
});

describe("a bundle check cannot read is named with its leaf, not the end of the report", () => {
  it("servers/api/haproxy.pem with a second name: check reports every leaf, names the link, exits 2", () => {
    const t = freshTree();
    must(
      cli(["export", "haproxy", "--server", "api", "--out", t.root, "-o", join(t.cwd, "h.cfg"), "-q"], t.cwd),
      "export haproxy",
    );
    const bundle = join(t.root, "servers", "api", "haproxy.pem");
    linkSync(bundle, join(t.cwd, "second-name.pem"));
    const check = cli(["check", "--out", t.root], t.cwd);
    assert.equal(check.code, 2, check.stdout + check.stderr);
    // Before: one error line on stderr and no report at all.
    assert.match(check.stdout, /servers\/api\/haproxy\.pem: has 2 names/);
    for (const leaf of [/^gateway +gateway .* ok$/m, /^plugin +good .* ok$/m, /^client +bob .* ok$/m])
      assert.match(check.stdout, leaf, "the other leaves are still reported");
  });
});

describe("a Unix socket in place of a key is refused as a FIFO is", () => {
  it("check names it (exit 2, no chmod advice), renew --force and export k8s refuse it (exit 2)", () => {
    const t = freshTree();
    const key = join(t.root, "plugins", "evil", "server.key");
    spawnSync("rm", ["-f", key]);
    const bound = spawnSync("python3", [
      "-c",
      "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      key,
    ]);
    assert.equal(bound.status, 0, String(bound.stderr));
    assert.ok(lstatSync(key).isSocket(), "the socket is there");
    // Before: open(2)'s ENXIO read as an I/O error: exit 1, "cannot read: ENXIO", and "run chmod 640".
    const check = cli(["check", "--out", t.root], t.cwd);
    assert.equal(check.code, 2, check.stdout + check.stderr);
    assert.match(check.stdout, /plugins\/evil\/server\.key: cannot read: not a regular file \(a socket\)/);
    assert.doesNotMatch(check.stdout, /server\.key: open to others/);
    const renew = cli(["renew", "--force", "evil", "--out", t.root], t.cwd);
    assert.equal(renew.code, 2, renew.stdout + renew.stderr);
    assert.match(renew.stdout + renew.stderr, /server\.key: cannot read: not a regular file \(a socket\)/);
    const k8s = cli(["export", "k8s", "--out", t.root], t.cwd);
    assert.equal(k8s.code, 2, k8s.stdout + k8s.stderr);
    assert.match(k8s.stderr, /server\.key: cannot read: not a regular file \(a socket\)/);
  });
});

describe("one leaf's planted ca.crt copy does not stop a CA rotation halfway", () => {
  it("plugins/evil/ca.crt a FIFO: renew --ca completes, the FIFO is replaced, every leaf verifies against the new CA", () => {
    const t = freshTree();
    const copy = join(t.root, "plugins", "evil", "ca.crt");
    spawnSync("rm", ["-f", copy]);
    assert.equal(spawnSync("mkfifo", ["-m", "644", copy]).status, 0);
    // Before: the new CA key and cert were written, then the FIFO's refusal ended the run (exit 2)
    // with no leaf renewed, and the next run said a rotation was already in progress.
    const renew = cli(["renew", "--ca", ...EC, "--out", t.root], t.cwd);
    assert.equal(renew.code, 0, renew.stdout + renew.stderr);
    assert.ok(lstatSync(copy).isFile(), "the FIFO was replaced by the rotation bundle");
    const newCa = join(t.cwd, "new-ca.crt");
    writeFileSync(
      newCa,
      readFileSync(join(t.root, "ca", "ca.crt"), "utf8").split(/(?<=-----END CERTIFICATE-----\n)/)[0]!,
    );
    for (const leaf of ["plugins/evil/server.crt", "plugins/good/server.crt", "gateway/client.crt"]) {
      const v = openssl(["verify", "-x509_strict", "-CAfile", newCa, join(t.root, leaf)]);
      assert.equal(v.code, 0, `${leaf}: ${v.stdout}${v.stderr}`);
    }
    const v = openssl(["verify", "-x509_strict", "-CAfile", copy, join(t.root, "plugins/evil/server.crt")]);
    assert.equal(v.code, 0, `evil's own ca.crt copy verifies its cert: ${v.stderr}`);
  });
});

/** Starts `script` (sh) as uid 1001 in the background, bounded by `seconds`; stop() ends it. */
function attackerLoop(script: string, cwd: string, seconds: number): { stop: () => Promise<void> } {
  const child = spawn(
    "setpriv",
    [`--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, "--clear-groups", "timeout", String(seconds), "sh", "-c", script],
    { cwd, stdio: "ignore" },
  );
  const done = new Promise<void>((res) => child.on("close", () => res()));
  return {
    stop: async () => {
      child.kill("SIGTERM");
      await done;
    },
  };
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe(
  "issue 23 §1: the CA key does not walk out through renew's backup and its crash repair",
  asAttackerNeeds,
  () => {
    it("night 1: server.key swapped for a link to ca.key after renew's read (inotifywait): no backup holds the CA key; good is renewed", async () => {
      const t = freshTree("plugins/evil");
      const evil = join(t.root, "plugins", "evil");
      const goodBefore = serialOf(join(t.root, "plugins", "good", "server.crt"));
      // The moment renew closes server.key after reading it, a link to the CA key takes its name.
      const loop = attackerLoop(
        'inotifywait -q -m -e close_nowrite --format %f . | while read f; do [ "$f" = server.key ] && ln -sfn ../../ca/ca.key .l && mv -T .l server.key; done',
        evil,
        60,
      );
      await sleep(500); // inotifywait's watch is set
      const r = cli(["renew", "--force", "evil", "good", "--out", t.root], t.cwd);
      await loop.stop();
      assertNoCopyOfCaKey(t, t.root);
      assertCaKeyUntouched(t);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /plugins\/evil: owned by uid 1001, not by the tree's owner \(uid 0\)/);
      assert.notEqual(serialOf(join(t.root, "plugins", "good", "server.crt")), goodBefore, "good was not renewed");
    });

    for (const owner of ["uid 1001 (a Compose mount)", "root (the CA's records alone decide)"]) {
      it(`night 2, evil's directory owned by ${owner}: ca.crt as server.crt, a backup holding the CA key: nothing is restored`, () => {
        const attackerOwns = owner.startsWith("uid");
        const t = attackerOwns ? freshTree("plugins/evil") : freshTree();
        const evil = join(t.root, "plugins", "evil");
        const goodBefore = serialOf(join(t.root, "plugins", "good", "server.crt"));
        // What night 1 left on main: the newest backup's server.key is the CA key.
        const saved = join(t.root, ".backup", "2026-01-01T00-00-00Z", "plugins", "evil");
        mkdirSync(saved, { recursive: true, mode: 0o700 });
        cpSync(t.caKey, join(saved, "server.key"));
        cpSync(join(evil, "server.crt"), join(saved, "server.crt"));
        const plant = `cp ../../ca/ca.crt .c && mv -f .c server.crt && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out .k 2>/dev/null && chmod 644 .k && mv -f .k server.key`;
        const planted = attackerOwns
          ? asAttacker("sh", ["-c", plant], evil)
          : spawnSync("sh", ["-c", plant], { cwd: evil });
        assert.equal(planted.status, 0, String(planted.stderr));
        const r = cli(["renew", "--out", t.root], t.cwd);
        assert.notEqual(r.code, 0, r.stdout + r.stderr);
        assert.doesNotMatch(r.stdout + r.stderr, /restored plugins\/evil/);
        assert.ok(!sameBytes(join(evil, "server.key"), t.caKeyCopy), "the CA key was restored into evil");
        assertNoCopyOfCaKey(t, evil);
        assertCaKeyUntouched(t);
        // The nightly renew still renews what is due: good with --force on the same tree.
        must(cli(["renew", "--force", "good", "--out", t.root], t.cwd), "renew good");
        assert.notEqual(serialOf(join(t.root, "plugins", "good", "server.crt")), goodBefore);
      });
    }
  },
);

describe("issue 23 §2: root changes no mode or group through a planted link", asAttackerNeeds, () => {
  it("clients/bob/client.pem -> ../../ca/ca.key, then client bob --key-group 0: ca.key stays 600", () => {
    for (const attackerOwns of [true, false]) {
      const t = attackerOwns ? freshTree("clients/bob") : freshTree();
      const bob = join(t.root, "clients", "bob");
      const plant = "rm -f client.pem && ln -s ../../ca/ca.key client.pem";
      const planted = attackerOwns
        ? asAttacker("sh", ["-c", plant], bob)
        : spawnSync("sh", ["-c", plant], { cwd: bob });
      assert.equal(planted.status, 0, String(planted.stderr));
      const r = cli(["client", "bob", "--key-group", "0", "--out", t.root, ...EC], t.cwd);
      assertCaKeyUntouched(t);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, attackerOwns ? /clients\/bob: owned by uid 1001/ : /client\.pem: is a symbolic link/);
    }
  });

  it("servers/api/haproxy.pem -> a root 0600 file, then server api --key-group 1001: the file keeps its mode and group", () => {
    for (const attackerOwns of [true, false]) {
      const t = attackerOwns ? freshTree("servers/api") : freshTree();
      const secret = join(t.cwd, "secret");
      writeFileSync(secret, "root's secret\n", { mode: 0o600 });
      const api = join(t.root, "servers", "api");
      const plant = `rm -f haproxy.pem && ln -s ${secret} haproxy.pem`;
      const planted = attackerOwns
        ? asAttacker("sh", ["-c", plant], api)
        : spawnSync("sh", ["-c", plant], { cwd: api });
      assert.equal(planted.status, 0, String(planted.stderr));
      const r = cli(["server", "api", "--key-group", String(ATTACKER), "--out", t.root, ...EC], t.cwd);
      assert.equal(modeOwnerGroup(secret), "600:0:0");
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.notEqual(asAttacker("cat", [secret], t.cwd).status, 0, "uid 1001 reads root's secret");
      assertCaKeyUntouched(t);
    }
  });

  it("all's narrowing of a widened key, raced with RENAME_EXCHANGE against a link: no run chmods the link's target", async () => {
    const t = freshTree();
    const gateway = join(t.root, "gateway");
    const key = join(gateway, "client.key");
    const target = join(t.cwd, "target");
    writeFileSync(target, "not a key\n");
    chmodSync(target, 0o644);
    chmodSync(key, 0o644);
    symlinkSync(target, join(gateway, ".swap"));
    // renameat2(RENAME_EXCHANGE) in a loop: client.key and the link trade names, atomically.
    const swapper = spawn(
      "/usr/bin/python3",
      [
        "-c",
        `import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
end = time.time() + float(sys.argv[3])
while time.time() < end:
    libc.renameat2(-100, a, -100, b, 2)`,
        key,
        join(gateway, ".swap"),
        "40",
      ],
      { stdio: "ignore" },
    );
    const stopped = new Promise<void>((res) => swapper.on("close", () => res()));
    let chmodded = 0;
    try {
      for (let i = 0; i < 12; i++) {
        cli(["all", "--out", t.root, ...EC, "-q"], t.cwd);
        if ((statSync(target).mode & 0o777) !== 0o644) {
          chmodded++;
          chmodSync(target, 0o644);
        }
      }
    } finally {
      swapper.kill("SIGTERM");
      await stopped;
    }
    assert.equal(chmodded, 0, `the link's target was chmodded in ${chmodded} of 12 runs`);
    assertCaKeyUntouched(t);
  });
});

describe("issue 23 §6: leftovers named like our temp files that are not ours stop nothing", asAttackerNeeds, () => {
  it("a directory, a link and a FIFO named .x.tmp-1-deadbeef in evil: revoke and crl warn (exit 0); renew renews the rest, exit 2 naming them", () => {
    const t = freshTree("plugins/evil");
    const evil = join(t.root, "plugins", "evil");
    const planted = asAttacker(
      "sh",
      ["-c", "mkdir .x.tmp-1-deadbeef && ln -s ../../ca/ca.key .y.tmp-1-deadbeef && mkfifo .z.tmp-1-deadbeef"],
      evil,
    );
    assert.equal(planted.status, 0, planted.stderr);
    const gatewayBefore = serialOf(join(t.root, "gateway", "client.crt"));
    const goodBefore = serialOf(join(t.root, "plugins", "good", "server.crt"));

    const revoke = cli(["revoke", "bob", "--out", t.root], t.cwd);
    assert.equal(revoke.code, 0, revoke.stdout + revoke.stderr);
    assert.match(
      revoke.stderr,
      /warning: .*plugins\/evil\/\.x\.tmp-1-deadbeef: named like an mtls-certs temp file, but a directory/,
    );
    // openssl reads the CRL revoke wrote: bob's serial is on it.
    const crlText = must(
      openssl(["crl", "-in", join(t.root, "ca", "ca.crl"), "-noout", "-text"]),
      "openssl crl",
    ).stdout;
    const bobSerial = serialOf(join(t.root, "clients", "bob", "client.crt")).replace(/^serial=/, "");
    assert.match(crlText, new RegExp(`Serial Number: ${bobSerial}`, "i"));
    const crl = cli(["crl", "--out", t.root], t.cwd);
    assert.equal(crl.code, 0, crl.stdout + crl.stderr);

    const renew = cli(["renew", "--force", "--out", t.root], t.cwd);
    assert.equal(renew.code, 2, renew.stdout + renew.stderr);
    assert.match(renew.stdout + renew.stderr, /\.x\.tmp-1-deadbeef: named like an mtls-certs temp file/);
    assert.notEqual(serialOf(join(t.root, "gateway", "client.crt")), gatewayBefore, "the gateway was not renewed");
    assert.notEqual(serialOf(join(t.root, "plugins", "good", "server.crt")), goodBefore, "good was not renewed");
    // all keeps every leaf as it is, then exits 2 naming what is not ours.
    const all = cli(["all", "--out", t.root, ...EC], t.cwd);
    assert.equal(all.code, 2, all.stdout + all.stderr);
    assert.match(all.stderr, /warning: .*\.x\.tmp-1-deadbeef: named like an mtls-certs temp file, but a directory/);
    must(
      openssl([
        "verify",
        "-x509_strict",
        "-CAfile",
        join(t.root, "ca", "ca.crt"),
        join(t.root, "gateway", "client.crt"),
      ]),
      "openssl verify gateway",
    );
    // What is not ours is left as it was; nothing went through the link.
    assert.ok(statSync(join(evil, ".x.tmp-1-deadbeef")).isDirectory());
    assertCaKeyUntouched(t);
  });
});

describe("issue 23 §3: mcp-stack.yaml cannot point the tree into a leaf directory", asAttackerNeeds, () => {
  it("certificates.*_path under plugins/evil/t with t/ca -> ../../../ca: all --config signs nothing there, the ledger is unchanged", () => {
    for (const attackerOwns of [true, false]) {
      const t = attackerOwns ? freshTree("plugins/evil") : freshTree();
      const evil = join(t.root, "plugins", "evil");
      const plant = "mkdir t && ln -s ../../../ca t/ca";
      const planted = attackerOwns
        ? asAttacker("sh", ["-c", plant], evil)
        : spawnSync("sh", ["-c", plant], { cwd: evil, encoding: "utf8" });
      assert.equal(planted.status, 0, planted.stderr);
      const at = "./certs/mcp/plugins/evil/t";
      writeFileSync(
        join(t.cwd, "mcp-stack.yaml"),
        "plugins:\n  - name: DenyListPlugin\n    mtls_enabled: true\ncertificates:\n" +
          `  ca_path: "${at}/ca"\n  gateway_path: "${at}/gateway"\n  plugins_path: "${at}/plugins"\n`,
      );
      const ledger = join(t.cwd, "ledger.before");
      cpSync(join(t.root, "ca", "ledger.json"), ledger);
      const r = cli(["all", ...EC, "--config", "mcp-stack.yaml", "--key-group", "0", "-q"], t.cwd);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, attackerOwns ? /plugins\/evil: owned by uid 1001/ : /evil\/t\/ca: is a symbolic link/);
      assert.ok(!existsSync(join(evil, "t", "gateway")), "a gateway cert was signed into the leaf directory");
      assert.ok(sameBytes(join(t.root, "ca", "ledger.json"), ledger), "the ledger changed");
      assertCaKeyUntouched(t);
    }
  });
});

describe(
  "issue 23: revoke NAME revokes what the CA recorded for NAME, not what NAME's directory holds",
  asAttackerNeeds,
  () => {
    it("the gateway's cert copied into plugins/evil, then revoke evil: refused (exit 2), the gateway is not on the CRL", () => {
      const t = freshTree("plugins/evil");
      const evil = join(t.root, "plugins", "evil");
      const planted = asAttacker("sh", ["-c", "cp ../../gateway/client.crt .c && mv -f .c server.crt"], evil);
      assert.equal(planted.status, 0, planted.stderr);
      const r = cli(["revoke", "evil", "--out", t.root], t.cwd);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /the ledger has it as gateway gateway's cert/);
      const gatewaySerial = serialOf(join(t.root, "gateway", "client.crt")).replace(/^serial=/, "");
      const crl = join(t.root, "ca", "ca.crl");
      if (existsSync(crl)) {
        const text = must(openssl(["crl", "-in", crl, "-noout", "-text"]), "openssl crl").stdout;
        assert.doesNotMatch(text, new RegExp(`Serial Number: ${gatewaySerial}`, "i"), "the gateway was revoked");
      }
      assertCaKeyUntouched(t);
    });
  },
);
