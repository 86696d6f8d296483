/**
 * Reliability and key safety (issue 3): a real SIGKILL of a running `all` then a rerun, SIGINT
 * and SIGTERM, concurrent runs on one tree, stale and live locks, umask 000/077, damaged trees,
 * `check` on a damaged tree, and no key bytes in any output. Every tree is checked with openssl.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { constants as osConstants, hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  BIN,
  cli,
  cliAsync,
  openssl,
  pluginConfig,
  read,
  tempDir,
  verifyStrict,
  writeFile,
  type Run,
} from "./helpers.js";

const KEY_TYPE = ["--key-type", "rsa2048"];
const PLUGINS = ["alpha", "beta", "gamma", "delta"];

/** Every run of the CLI in this file: the last test greps them all for key bytes. */
const outputs: Run[] = [];
/** Every key file any tree here held. */
const keyFiles = new Set<string>();

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = cli(args, cwd, env);
  outputs.push(r);
  return r;
}

/** Every file below `dir`, relative, sorted (hidden ones included: temp files are hidden). */
function listFiles(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** path -> sha256 and mode of every file and directory: "nothing was written" is this unchanged. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const mode = (lstatSync(p).mode & 0o7777).toString(8);
      if (e.isDirectory()) {
        out.set(`${rel}${e.name}/`, mode);
        walk(p, `${rel}${e.name}/`);
      } else out.set(`${rel}${e.name}`, `${mode} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`);
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
}

/** Run-state files: temp files, the lock, and ca/.creating (a CA being made; the next run finishes or restarts it). */
const TEMP_OR_LOCK = /\.tmp-|\.mtls-certs\.lock|ca\/\.creating$/;

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** The public key of a cert and of a private key, as openssl prints them: equal iff they match. */
function keyMatches(certPath: string, keyPath: string): boolean {
  const fromCert = openssl(["x509", "-in", certPath, "-noout", "-pubkey"]);
  const fromKey = openssl(["pkey", "-in", keyPath, "-pubout"]);
  return fromCert.code === 0 && fromKey.code === 0 && fromCert.stdout === fromKey.stdout;
}

function fingerprint(certPath: string): string {
  const r = openssl(["x509", "-in", certPath, "-noout", "-fingerprint", "-sha256"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/**
 * The whole tree as `all` must leave it: the CA, the gateway and every plugin; each cert
 * verifies against ca/ca.crt with `openssl verify -x509_strict` and matches its key; every
 * ca.crt copy is the CA; keys 0600, certs 0644; no temp file and no lock left.
 */
function assertCompleteTree(root: string, plugins: readonly string[]): void {
  const caCert = join(root, "ca/ca.crt");
  const leaves = [
    { dir: join(root, "gateway"), stem: "client" },
    ...plugins.map((p) => ({ dir: join(root, "plugins", p), stem: "server" })),
  ];
  assert.ok(keyMatches(caCert, join(root, "ca/ca.key")), "ca.key matches ca.crt");
  for (const { dir, stem } of leaves) {
    const cert = join(dir, `${stem}.crt`);
    const key = join(dir, `${stem}.key`);
    const v = verifyStrict(caCert, cert);
    assert.equal(v.code, 0, `${cert} verifies against the CA: ${v.stdout}${v.stderr}`);
    assert.ok(keyMatches(cert, key), `${key} matches ${cert}`);
    assert.equal(read(join(dir, "ca.crt")), read(caCert), `${dir}/ca.crt is the CA`);
    assert.equal(modeOf(key), 0o600, `${key} mode`);
    assert.equal(modeOf(cert), 0o644, `${cert} mode`);
    keyFiles.add(key);
  }
  keyFiles.add(join(root, "ca/ca.key"));
  const stray = listFiles(root).filter((f) => TEMP_OR_LOCK.test(f));
  assert.deepEqual(stray, [], "no temp files or lock left");
}

/** Whatever a killed run left: every file there is whole (openssl parses it), never empty or cut. */
function assertNoPartialFiles(root: string): void {
  for (const rel of listFiles(root)) {
    if (TEMP_OR_LOCK.test(rel)) continue; // removed by the next run; checked after it
    const path = join(root, rel);
    if (rel.endsWith(".json")) {
      // The issuance ledger: whole JSON or not there at all.
      assert.doesNotThrow(() => JSON.parse(readFileSync(path, "utf8")), `${rel} left whole by the killed run`);
      continue;
    }
    const r = rel.endsWith(".key")
      ? openssl(["pkey", "-in", path, "-noout"])
      : openssl(["x509", "-in", path, "-noout"]);
    assert.equal(r.code, 0, `${rel} left whole by the killed run: ${r.stderr}`);
  }
}

function configDir(plugins: readonly string[]): string {
  const dir = tempDir("mtls-rel-");
  writeFile(join(dir, "plugins/external/config.yaml"), pluginConfig(plugins.map((name) => ({ name }))));
  return dir;
}

/** Waits until `path` exists (polling every few ms), or `ms` pass. */
async function waitFor(path: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(path)) return true;
    await sleep(2);
  }
  return false;
}

describe("SIGKILL of a running `all`, then `all` again", () => {
  // Moments to kill at: fixed delays across a whole run, and the first appearance of files
  // (the CA key before its cert; a plugin key before its cert).
  const delays = [50, 300, 700, 1200, 2000, 3000];
  const files = ["ca/ca.key", "ca/ca.crt", "plugins/alpha/server.key", "plugins/delta/server.crt"];
  const moments: Array<{ label: string; delayMs?: number; file?: string }> = [
    ...delays.map((delayMs) => ({ label: `after ${delayMs} ms`, delayMs })),
    ...files.map((file) => ({ label: `as soon as ${file} appears`, file })),
  ];

  for (const moment of moments) {
    it(`killed ${moment.label}: the rerun completes the tree and keeps any CA already written`, async () => {
      const cwd = configDir(PLUGINS);
      const root = join(cwd, "certs/mcp");
      const { child, done } = cliAsync(["all", ...KEY_TYPE, "-q"], cwd);
      if (moment.delayMs !== undefined) await sleep(moment.delayMs);
      else await waitFor(join(root, moment.file!), 20_000);
      child.kill("SIGKILL");
      const killed = await done;
      outputs.push(killed);
      assertNoPartialFiles(root);
      const caBefore = existsSync(join(root, "ca/ca.crt")) ? fingerprint(join(root, "ca/ca.crt")) : undefined;

      const rerun = run(["all", ...KEY_TYPE], cwd);
      assert.equal(rerun.code, 0, rerun.stderr);
      assertCompleteTree(root, PLUGINS);
      if (caBefore) assert.equal(fingerprint(join(root, "ca/ca.crt")), caBefore, "the CA the killed run wrote is kept");
    });
  }
});

describe("temp files a killed run left", () => {
  it("are removed by the next run wherever they are in the tree (leaf dirs, ca/previous/, .backup/), and nothing else is", () => {
    const cwd = configDir(PLUGINS);
    const root = join(cwd, "certs/mcp");
    assert.equal(run(["all", ...KEY_TYPE], cwd).code, 0);
    const temps = [
      "ca/.ca.key.tmp-4242-0badf00d",
      "plugins/alpha/.server.crt.tmp-4242-deadbeef",
      "ca/previous/.ca.crt.tmp-4242-12345678",
      ".backup/2026-01-01T00-00-00Z/plugins/beta/.server.key.tmp-4242-abcdef01",
    ];
    for (const t of temps) writeFile(join(root, t), "partial");
    // Look-alikes that are not ours stay.
    const kept = ["plugins/alpha/notes.tmp-1-2", ".backup/2026-01-01T00-00-00Z/plugins/beta/server.key"];
    for (const k of kept) writeFile(join(root, k), "user file");
    const r = run(["all", ...KEY_TYPE], cwd);
    assert.equal(r.code, 0, r.stderr);
    for (const t of temps) assert.ok(!existsSync(join(root, t)), `${t} removed`);
    for (const k of kept) assert.ok(existsSync(join(root, k)), `${k} kept`);
  });
});

describe("SIGINT and SIGTERM stop cleanly", () => {
  const many = Array.from({ length: 12 }, (_, i) => `p${i}`);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal} while writing: exit ${code}, no temp file, lock released; the rerun completes`, async () => {
      const cwd = configDir(many);
      const root = join(cwd, "certs/mcp");
      // One key at a time, so leaves are written one after another with key generation between:
      // the signal lands in the middle of the run, not after its last write.
      const { child, done } = cliAsync(["all", ...KEY_TYPE, "--jobs", "1"], cwd);
      // The first plugin cert on disk: the run is in its writing phase, with leaves to go.
      assert.ok(await waitFor(join(root, "plugins/p0/server.crt"), 120_000), "the run started writing");
      child.kill(signal);
      const r = await done;
      outputs.push(r);
      // Ended by the signal itself after the cleanup: the shell's $? is 128 + its number = ${code}.
      assert.equal(r.signal, signal, `ended by ${signal} (exit code ${r.code}): ${r.stderr}`);
      assert.equal(128 + osConstants.signals[signal], code);
      assert.match(r.stderr, /interrupted; temp files removed/);
      assert.deepEqual(
        listFiles(root).filter((f) => TEMP_OR_LOCK.test(f)),
        [],
        "no temp file or lock left",
      );
      assertNoPartialFiles(root);
      assert.ok(listFiles(root).filter((f) => f.endsWith("server.crt")).length < many.length, "stopped before the end");
      // The lock is gone: the rerun does not wait.
      const rerun = run(["all", ...KEY_TYPE, "--lock-wait", "0"], cwd);
      assert.equal(rerun.code, 0, rerun.stderr);
      assertCompleteTree(root, many);
    });
  }
});

/** A run's stderr up to its "generating N … keys" line (at most 30 s): its keys are then being made. */
async function keyGenerationStarted(child: ChildProcess): Promise<string> {
  let stderr = "";
  const generating = new Promise<void>((resolve) =>
    child.stderr?.on("data", (d) => {
      stderr += String(d);
      if (stderr.includes("generating")) resolve();
    }),
  );
  await Promise.race([generating, sleep(30_000)]);
  return stderr;
}

describe("Ctrl-C while RSA-4096 keys are being made (issue 28 §8)", () => {
  it("all with 10 plugins: gone within a second or so of the SIGINT, not when the RSA threads finish; nothing partial left", async () => {
    const plugins = Array.from({ length: 10 }, (_, i) => `rsa${i}`);
    const cwd = configDir(plugins);
    const root = join(cwd, "certs/mcp");
    // RSA-4096 is the subject: keys take seconds each, in libuv threads that cannot be cancelled.
    const { child, done } = cliAsync(["all", "--key-type", "rsa4096"], cwd);
    assert.match(await keyGenerationStarted(child), /generating 12 rsa4096 keys/);
    await sleep(300); // the threads are in the middle of their prime searches
    const sent = Date.now();
    child.kill("SIGINT");
    const r = await done;
    const took = Date.now() - sent;
    outputs.push(r);
    assert.equal(r.signal, "SIGINT", `${r.code} ${r.stderr}`);
    assert.match(r.stderr, /interrupted; temp files removed, nothing half-written/);
    // Before: "interrupted" at once, then 4–5 s (20 s and more on a busy machine) until the exit.
    assert.ok(took < 1_500, `exited ${took} ms after SIGINT`);
    assert.deepEqual(
      listFiles(root).filter((f) => TEMP_OR_LOCK.test(f)),
      [],
      "no temp file or lock left",
    );
    assertNoPartialFiles(root);
    assert.ok(listFiles(root).filter((f) => f.endsWith("server.key")).length < plugins.length, "stopped mid-way");
  });
});

describe("SIGTERM at many moments of a write-heavy run", () => {
  // ECDSA keys come fast, so most of the run is file writes: a signal lands mid-write, with
  // open(2)s queued in the thread pool. Not one temp file or lock may survive any of them.
  const many = Array.from({ length: 40 }, (_, i) => `w${i}`);
  it("never leaves a temp file or the lock, and every file left is whole", async () => {
    let interrupted = 0;
    const moments = [0, 3, 8, 15, 25, 35];
    for (const k of moments) {
      const cwd = configDir(many);
      const root = join(cwd, "certs/mcp");
      const { child, done } = cliAsync(["all", "--key-type", "ecdsa-p256", "-q"], cwd);
      await waitFor(join(root, `plugins/w${k}/server.key`), 30_000);
      child.kill("SIGTERM");
      const r = await done;
      outputs.push(r);
      if (r.signal === "SIGTERM")
        interrupted++; // ended by the signal itself after the cleanup (issue 28 §8)
      else assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        listFiles(root).filter((f) => TEMP_OR_LOCK.test(f)),
        [],
        `after the key of w${k} appeared`,
      );
      assertNoPartialFiles(root);
    }
    assert.ok(interrupted >= moments.length / 2, `${interrupted} of ${moments.length} runs were interrupted mid-way`);
  });
});

describe("two runs on one tree at once", () => {
  interface AllJson {
    certificates: Array<{ role: string; name: string; action: string; fingerprint: string }>;
  }
  for (let round = 1; round <= 2; round++) {
    it(`two \`all\` at once (round ${round}): one CA, every leaf made once and signed by it`, async () => {
      const cwd = configDir(PLUGINS);
      const root = join(cwd, "certs/mcp");
      const a = cliAsync(["all", ...KEY_TYPE, "--json"], cwd);
      const b = cliAsync(["all", ...KEY_TYPE, "--json"], cwd);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      outputs.push(ra, rb);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rb.code, 0, rb.stderr);
      assertCompleteTree(root, PLUGINS);
      const reports = [JSON.parse(ra.stdout) as AllJson, JSON.parse(rb.stdout) as AllJson];
      const caFingerprints = reports.map((r) => r.certificates.find((c) => c.role === "ca")!.fingerprint);
      assert.equal(caFingerprints[0], caFingerprints[1], "both runs report the same CA");
      const created = reports
        .flatMap((r) => r.certificates.filter((c) => c.action === "created").map((c) => `${c.role}/${c.name}`))
        .sort();
      const expected = ["ca/ca", "gateway/gateway", ...PLUGINS.map((p) => `plugin/${p}`)].sort();
      assert.deepEqual(created, expected, "each certificate created exactly once across the two runs");
    });
  }

  it("`all` and `plugin extra` at once: one CA, and the extra plugin is signed by it", async () => {
    const cwd = configDir(PLUGINS);
    const root = join(cwd, "certs/mcp");
    const a = cliAsync(["all", ...KEY_TYPE], cwd);
    const b = cliAsync(["plugin", "extra", ...KEY_TYPE], cwd);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    outputs.push(ra, rb);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assertCompleteTree(root, [...PLUGINS, "extra"]);
  });
});

describe("the tree lock", () => {
  function deadPid(): number {
    const r = spawnSync(process.execPath, ["-e", "0"]);
    assert.ok(r.pid);
    return r.pid;
  }

  /** Lock files a killed run can leave; `aged` ones get an mtime a minute ago. */
  const leftovers: Array<{ what: string; files: () => Record<string, string>; aged: string[] }> = [
    {
      what: "a lock left by a dead process on this host",
      files: () => ({ ".mtls-certs.lock": `${deadPid()}\n${hostname()}\n` }),
      aged: [],
    },
    {
      what: "a dead process's lock and the .break file of a run killed while breaking it",
      files: () => ({ ".mtls-certs.lock": `${deadPid()}\n${hostname()}\n`, ".mtls-certs.lock.break": "" }),
      aged: [".mtls-certs.lock.break"],
    },
    {
      what: "an old empty lock file (its owner killed between open and write)",
      files: () => ({ ".mtls-certs.lock": "" }),
      aged: [".mtls-certs.lock"],
    },
  ];
  for (const c of leftovers) {
    it(`${c.what}: taken over at once (--lock-wait 0), nothing of it left`, () => {
      const cwd = configDir(PLUGINS);
      const root = join(cwd, "certs/mcp");
      const minuteAgo = new Date(Date.now() - 60_000);
      for (const [name, text] of Object.entries(c.files())) writeFile(join(root, name), text);
      for (const name of c.aged) utimesSync(join(root, name), minuteAgo, minuteAgo);
      const r = run(["all", ...KEY_TYPE, "--lock-wait", "0"], cwd);
      assert.equal(r.code, 0, r.stderr);
      assertCompleteTree(root, PLUGINS); // checks that no .mtls-certs.lock* is left
    });
  }

  it("a live holder makes the run wait, then fail after --lock-wait with the lock file and pid named; nothing written", () => {
    const cwd = configDir(PLUGINS);
    const root = join(cwd, "certs/mcp");
    const lock = writeFile(join(root, ".mtls-certs.lock"), `${process.pid}\n${hostname()}\n`);
    const before = snapshot(root);
    const started = Date.now();
    const r = run(["all", ...KEY_TYPE, "--lock-wait", "1"], cwd);
    const elapsed = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`${lock}: another mtls-certs (pid ${process.pid}) is writing this tree`), r.stderr);
    assert.match(r.stderr, /--lock-wait SECONDS/);
    assert.match(r.stderr, new RegExp(`waiting for another mtls-certs \\(pid ${process.pid}\\)`));
    assert.ok(elapsed >= 1000 && elapsed < 15_000, `waited about a second (${elapsed} ms)`);
    assert.deepEqual(snapshot(root), before, "nothing written, the holder's lock untouched");
  });

  it("MTLS_CERTS_LOCK_WAIT bounds the wait too", () => {
    const cwd = configDir(PLUGINS);
    const root = join(cwd, "certs/mcp");
    writeFile(join(root, ".mtls-certs.lock"), `${process.pid}\n${hostname()}\n`);
    const r = run(["all", ...KEY_TYPE], cwd, { MTLS_CERTS_LOCK_WAIT: "0" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is writing this tree; waited 0 s/);
  });

  it("a waiting run proceeds as soon as the holder lets go", async () => {
    const cwd = configDir(PLUGINS);
    const root = join(cwd, "certs/mcp");
    const lock = writeFile(join(root, ".mtls-certs.lock"), `${process.pid}\n${hostname()}\n`);
    const { child, done } = cliAsync(["all", ...KEY_TYPE, "--lock-wait", "60"], cwd);
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += d));
    const end = Date.now() + 20_000;
    while (!stderr.includes("waiting for another mtls-certs") && Date.now() < end) await sleep(20);
    assert.ok(stderr.includes("waiting for another mtls-certs"), "the run says it waits");
    assert.ok(!existsSync(join(root, "ca")), "nothing written while waiting");
    rmSync(lock);
    const r = await done;
    outputs.push(r);
    assert.equal(r.code, 0, r.stderr);
    assertCompleteTree(root, PLUGINS);
  });

  for (const [flag, value] of [
    ["--lock-wait", "abc"],
    ["--lock-wait", "1.5"],
    ["env", "-1"],
  ] as const) {
    it(`a bad lock wait (${flag} ${value}) is exit 2`, () => {
      const cwd = configDir(PLUGINS);
      const r =
        flag === "env"
          ? run(["all", ...KEY_TYPE], cwd, { MTLS_CERTS_LOCK_WAIT: value })
          : run(["all", ...KEY_TYPE, flag, value], cwd);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, flag === "env" ? /MTLS_CERTS_LOCK_WAIT/ : /--lock-wait/);
      assert.ok(!existsSync(join(cwd, "certs")), "nothing written");
    });
  }
});

/** Runs the CLI under a umask, as a user's shell would. */
function runWithUmask(umask: string, args: string[], cwd: string): Run {
  const r = spawnSync("sh", ["-c", `umask ${umask} && exec "$0" "$@"`, process.execPath, BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", CI: "1", MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "" },
  });
  const out = { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  outputs.push(out);
  return out;
}

describe("file modes whatever the umask", () => {
  for (const umask of ["000", "077", "022"]) {
    it(`umask ${umask}: keys 0600, certs 0644, directories 0755`, () => {
      const cwd = configDir(PLUGINS);
      const root = join(cwd, "certs/mcp");
      const r = runWithUmask(umask, ["all", ...KEY_TYPE, "-q"], cwd);
      assert.equal(r.code, 0, r.stderr);
      assertCompleteTree(root, PLUGINS);
      for (const rel of listFiles(root)) {
        const want = rel.endsWith(".key") ? 0o600 : 0o644;
        assert.equal(modeOf(join(root, rel)).toString(8), want.toString(8), rel);
      }
      for (const dir of ["", "ca", "gateway", "plugins", "plugins/alpha"])
        assert.equal(modeOf(join(root, dir)).toString(8), "755", `${dir || "root"}/`);
    });
  }

  const strace = spawnSync("strace", ["-V"]).status === 0;
  it("a key is created 0600 by open(2) itself, under umask 000 (strace)", {
    skip: strace ? false : "strace not installed",
  }, () => {
    const cwd = configDir(["alpha"]);
    const trace = join(cwd, "trace.txt");
    const r = spawnSync(
      "sh",
      [
        "-c",
        `umask 000 && exec strace -f -qq -y -e trace=openat,open,creat,fchmod,chmod,fchmodat -o "${trace}" "$0" "$@"`,
        process.execPath,
        BIN,
        "all",
        "--key-type",
        "ecdsa-p256",
        "-q",
      ],
      { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", CI: "1" } },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(trace, "utf8").split("\n");
    // The mode argument of a traced call (strace may split a call as "<unfinished ...>").
    const modeIn = (l: string) => /, (0[0-7]{3})(?:\)| <unfinished)/.exec(l)?.[1];
    // open(..., O_CREAT|O_EXCL, 0600) of every key temp file: the first byte is already owner-only.
    const keyCreates = lines.filter((l) => /open(at)?\(.*\.key\.tmp-.*O_CREAT/.test(l));
    assert.equal(keyCreates.length, 3, `one temp per key (CA, gateway, alpha):\n${keyCreates.join("\n")}`);
    for (const l of keyCreates) assert.equal(modeIn(l), "0600", l);
    // Nothing ever gives a key file (temp or final) a wider mode.
    const keyChmods = lines.filter((l) => /chmod/.test(l) && /\.key(\.tmp-[^>"]*)?[>"]/.test(l));
    assert.ok(keyChmods.length >= 3, keyChmods.join("\n"));
    for (const l of keyChmods) assert.equal(modeIn(l), "0600", l);
    // Certs are created 0644.
    const certCreates = lines.filter((l) => /open(at)?\(.*\.crt\.tmp-.*O_CREAT/.test(l));
    assert.ok(certCreates.length >= 3);
    for (const l of certCreates) assert.equal(modeIn(l), "0644", l);
  });
});

describe("damaged trees: exit 2, the file named, nothing overwritten, never a new CA", () => {
  let base: string;
  let other: string;
  before(() => {
    base = configDir(PLUGINS);
    other = configDir(["alpha"]);
    for (const cwd of [base, other]) {
      const r = run(["all", ...KEY_TYPE], cwd);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  /** A copy of the base project (config + tree) to damage. */
  function copyOfBase(): { cwd: string; root: string } {
    const cwd = tempDir("mtls-damaged-");
    cpSync(base, cwd, { recursive: true });
    return { cwd, root: join(cwd, "certs/mcp") };
  }

  const cases: Array<{ what: string; damage: (root: string) => void; names: string; message: RegExp }> = [
    {
      what: "ca.crt is garbage",
      damage: (r) => writeFileSync(join(r, "ca/ca.crt"), "not a certificate\n"),
      names: "ca/ca.crt",
      message: /not a PEM certificate/,
    },
    {
      what: "ca.crt is truncated",
      damage: (r) => writeFileSync(join(r, "ca/ca.crt"), read(join(r, "ca/ca.crt")).slice(0, 300)),
      names: "ca/ca.crt",
      message: /not a PEM certificate/,
    },
    {
      what: "ca.crt cannot be read (a directory)",
      damage: (r) => {
        rmSync(join(r, "ca/ca.crt"));
        mkdirSync(join(r, "ca/ca.crt"));
      },
      names: "ca/ca.crt",
      message: /cannot read: not a regular file \(a directory\)/,
    },
    {
      what: "ca.key is missing",
      damage: (r) => rmSync(join(r, "ca/ca.key")),
      names: "ca/ca.key",
      message: /missing, but .*ca\.crt exists/,
    },
    {
      what: "ca.key is another CA's",
      damage: (r) => cpSync(join(other, "certs/mcp/ca/ca.key"), join(r, "ca/ca.key")),
      names: "ca/ca.key",
      message: /does not match .*ca\.crt/,
    },
    {
      what: "ca.key is garbage",
      damage: (r) =>
        writeFileSync(join(r, "ca/ca.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
      names: "ca/ca.key",
      message: /not a readable private key/,
    },
    {
      what: "ca.crt is missing but leaves exist",
      damage: (r) => rmSync(join(r, "ca/ca.crt")),
      names: "ca/ca.crt",
      message: /missing, but \d+ certificates?/,
    },
    {
      what: "a plugin cert is truncated",
      damage: (r) =>
        writeFileSync(join(r, "plugins/beta/server.crt"), read(join(r, "plugins/beta/server.crt")).slice(0, 400)),
      names: "plugins/beta/server.crt",
      message: /not a PEM certificate/,
    },
    {
      what: "a plugin cert has no key",
      damage: (r) => rmSync(join(r, "plugins/beta/server.key")),
      names: "plugins/beta/server.crt",
      message: /has no key/,
    },
    {
      what: "a plugin key is another plugin's",
      damage: (r) => cpSync(join(r, "plugins/alpha/server.key"), join(r, "plugins/beta/server.key")),
      names: "plugins/beta/server.key",
      message: /does not match/,
    },
  ];

  for (const c of cases) {
    it(`${c.what}: \`all\` (and for the CA \`plugin new\` and \`ca\`) exit 2 naming ${c.names}; the tree is byte for byte the same`, () => {
      const { cwd, root } = copyOfBase();
      c.damage(root);
      const before = snapshot(root);
      for (const args of [["all"], ["plugin", "newcomer"], ["ca"]]) {
        // `plugin newcomer` and `ca` do not touch beta: only the CA cases concern them.
        if (args[0] !== "all" && c.names.startsWith("plugins/")) continue;
        const r = run([...args, ...KEY_TYPE], cwd);
        assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
        assert.ok(r.stderr.includes(join(root, c.names)), `names ${c.names}: ${r.stderr}`);
        assert.match(r.stderr, c.message);
        assert.deepEqual(snapshot(root), before, "nothing written or overwritten");
      }
    });
  }

  it("a leftover key without its cert (a run killed between the two) is replaced", () => {
    const { cwd, root } = copyOfBase();
    const key = join(root, "plugins/beta/server.key");
    const oldKey = read(key);
    rmSync(join(root, "plugins/beta/server.crt"));
    const caBefore = fingerprint(join(root, "ca/ca.crt"));
    const r = run(["all", ...KEY_TYPE], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(read(key), oldKey, "a new key");
    assertCompleteTree(root, PLUGINS);
    assert.equal(fingerprint(join(root, "ca/ca.crt")), caBefore);
  });

  it("a CA key without its cert (not a killed run's) is exit 2 with both ways out, never replaced (issue 13 §3)", () => {
    const cwd = configDir(PLUGINS);
    const root = join(cwd, "certs/mcp");
    writeFile(join(root, "ca/ca.key"), read(join(other, "certs/mcp/ca/ca.key")));
    const r = run(["all", ...KEY_TYPE], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /restore .*ca\.crt.*or move .*ca\.key/);
    assert.equal(read(join(root, "ca/ca.key")), read(join(other, "certs/mcp/ca/ca.key")));
  });
});

describe("check reports every damaged file, exit 1", () => {
  interface CheckJson {
    certificates: Array<{ path: string; role: string; name: string; status: string; problems: string[] }>;
  }
  const names = ["mismatch", "foreign", "open", "badcert", "badkey", "oldcopy", "fine"];
  let root: string;
  let cwd: string;
  before(() => {
    cwd = configDir(names);
    root = join(cwd, "certs/mcp");
    const other = configDir(["foreign"]);
    for (const dir of [cwd, other]) assert.equal(run(["all", ...KEY_TYPE], dir).code, 0);
    const p = (name: string, file: string) => join(root, "plugins", name, file);
    cpSync(p("fine", "server.key"), p("mismatch", "server.key"));
    for (const f of ["server.crt", "server.key"]) cpSync(join(other, "certs/mcp/plugins/foreign", f), p("foreign", f));
    chmodSync(p("open", "server.key"), 0o644);
    writeFileSync(p("badcert", "server.crt"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    writeFileSync(p("badkey", "server.key"), "garbage\n");
    cpSync(join(other, "certs/mcp/ca/ca.crt"), p("oldcopy", "ca.crt"));
  });

  it("each problem on its own file's entry, the healthy ones ok", () => {
    const r = run(["check", "--json"], cwd);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as CheckJson;
    const entry = (name: string) => report.certificates.find((c) => c.name === name)!;
    const expected: Record<string, RegExp> = {
      mismatch: /server\.key: does not match the certificate/,
      foreign: /not signed by this tree's CA/,
      open: /server\.key: open to others \(mode 644\)/,
      badcert: /not a PEM certificate/,
      badkey: /server\.key: not a readable private key/,
      oldcopy: /ca\.crt: differs from the CA certificate/,
    };
    for (const [name, problem] of Object.entries(expected)) {
      const e = entry(name);
      // Another tree's cert: the ledger never recorded it here, so it is foreign (a kind of invalid).
      assert.equal(e.status, name === "foreign" ? "foreign" : "invalid", `${name}: ${JSON.stringify(e)}`);
      assert.ok(e.path.endsWith(`plugins/${name}/server.crt`));
      assert.ok(
        e.problems.some((p) => problem.test(p)),
        `${name}: ${e.problems.join("; ")}`,
      );
    }
    for (const name of ["ca", "gateway", "fine"])
      assert.equal(entry(name).status, "ok", `${name}: ${entry(name).problems.join("; ")}`);
  });

  it("the table names each one too", () => {
    const r = run(["check"], cwd);
    assert.equal(r.code, 1);
    for (const name of names.filter((n) => n !== "fine"))
      assert.match(r.stdout, new RegExp(`${name}\\s.*${name === "foreign" ? "foreign" : "invalid"}`));
    assert.match(r.stdout, /6 need attention/);
  });
});

describe("secrets", () => {
  it("encrypted CA key with the wrong passphrase: exit 2, the key never echoed", () => {
    const cwd = configDir(["alpha"]);
    const env = { PASS: "correct horse", WRONG: "battery staple" };
    assert.equal(run(["all", ...KEY_TYPE, "--ca-passphrase-env", "PASS"], cwd, env).code, 0);
    keyFiles.add(join(cwd, "certs/mcp/ca/ca.key"));
    const r = run(["plugin", "beta", ...KEY_TYPE, "--ca-passphrase-env", "WRONG"], cwd, env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /ca\.key: wrong passphrase/);
    assert.ok(
      !r.stderr.includes("battery staple") && !r.stderr.includes("correct horse"),
      "no passphrase in the message",
    );
  });

  it("no output of any run in this file, success or failure, holds key bytes", () => {
    // The last test of the file: every run above has been collected.
    assert.ok(outputs.length > 50, `collected ${outputs.length} outputs`);
    const all = outputs.map((o) => o.stdout + o.stderr).join("\n");
    assert.ok(!all.includes("PRIVATE KEY"), "no PEM private key header in any output");
    let lines = 0;
    for (const file of keyFiles) {
      if (!existsSync(file) || statSync(file).isDirectory()) continue;
      for (const line of read(file).split("\n")) {
        if (line.startsWith("-----") || line.length < 40) continue;
        lines++;
        assert.ok(!all.includes(line), `a line of ${file} appears in an output`);
      }
    }
    assert.ok(lines > 100, `checked ${lines} base64 lines of ${keyFiles.size} keys`);
  });
});

describe("a read-only or full disk: exit 2 naming the file and the reason; nothing half-written; the rerun completes (issue 13 §6)", () => {
  // A private mount namespace (unshare -m) holds a small tmpfs: it vanishes with the script, and
  // nothing is mounted on the host. Needs root (or CAP_SYS_ADMIN): skipped with the reason otherwise.
  const probe = spawnSync("unshare", ["-m", "sh", "-c", 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d"'], {
    encoding: "utf8",
  });
  const skip =
    probe.status === 0 ? false : `cannot mount a tmpfs in a private mount namespace here: ${probe.stderr.trim()}`;

  it("ENOSPC (no inode for the leaf directory, none for the key, no block for the lock) and EROFS (leaves or the whole tree)", {
    skip,
  }, () => {
    const host = tempDir("mtls-fs-");
    const results = join(host, "results");
    const disk = join(host, "disk");
    mkdirSync(results);
    mkdirSync(disk);
    // Each step: `mtls-certs …` inside the namespace, its exit code, output and the file list after it.
    const script = `
set -u
R="$1"; D="$2"; NODE="$3"; BIN="$4"
step() { name=$1; shift; NO_COLOR=1 "$NODE" "$BIN" "$@" --out "$D/tree" >"$R/$name.out" 2>"$R/$name.err" </dev/null; echo $? >"$R/$name.rc"; (cd "$D/tree" && find . | sort) >"$R/$name.files"; }
free_inodes() { mount -o remount,nr_inodes=$(( $(df --output=iused "$D" | tail -1) + $1 )) "$D"; }
mount -t tmpfs -o size=2m,nr_inodes=10000 tmpfs "$D" || exit 90
cd "$D"
step made plugin p1 --key-type ecdsa-p256
sha256sum "$D/tree/plugins/p1/server.crt" "$D/tree/plugins/p1/server.key" "$D/tree/ca/ledger.json" >"$R/before.sha"
free_inodes 1; step nodir plugin p2 --key-type ecdsa-p256
free_inodes 2; step nokey plugin p2 --key-type ecdsa-p256
mount -o remount,nr_inodes=10000 "$D"
dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null; sync
step full plugin p2 --key-type ecdsa-p256
rm "$D/fill"
mount --bind "$D/tree/plugins" "$D/tree/plugins" && mount -o remount,bind,ro "$D/tree/plugins" || exit 91
step roleaves plugin p3 --key-type ecdsa-p256
umount "$D/tree/plugins"
mount -o remount,ro "$D" || exit 92
step rotree plugin p2 --key-type ecdsa-p256
mount -o remount,rw "$D"
sha256sum -c "$R/before.sha" >"$R/after.sha" 2>&1; echo $? >"$R/unchanged.rc"
step rerun plugin p2 --key-type ecdsa-p256
step check check
openssl verify -x509_strict -CAfile "$D/tree/ca/ca.crt" "$D/tree/plugins/p2/server.crt" >"$R/verify.out" 2>&1; echo $? >"$R/verify.rc"
`;
    const r = spawnSync("unshare", ["-m", "bash", "-c", script, "bash", results, disk, process.execPath, BIN], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, `the script: ${r.stderr}`);
    const step = (name: string) => ({
      code: Number(readFileSync(join(results, `${name}.rc`), "utf8")),
      stderr: readFileSync(join(results, `${name}.err`), "utf8"),
      files: readFileSync(join(results, `${name}.files`), "utf8")
        .trim()
        .split("\n"),
    });
    assert.equal(step("made").code, 0, step("made").stderr);
    const root = join(disk, "tree");
    const failures: Array<[string, RegExp]> = [
      ["nodir", /plugins\/p2: cannot create the directory: no space left on device \(ENOSPC\)/],
      ["nokey", /plugins\/p2\/server\.key: cannot write: no space left on device \(ENOSPC\)/],
      ["full", /\.mtls-certs\.lock: cannot write the lock: no space left on device \(ENOSPC\)/],
      // p2/ was made by "nokey" (an empty directory, which the rerun fills): a new leaf here.
      ["roleaves", /plugins\/p3: cannot create the directory: read-only file system \(EROFS\)/],
      ["rotree", /\.mtls-certs\.lock: cannot create the lock: read-only file system \(EROFS\)/],
    ];
    for (const [name, says] of failures) {
      const s = step(name);
      assert.equal(s.code, 2, `${name}: exit 2: ${s.stderr}`);
      assert.ok(s.stderr.includes(root), `${name} names the file: ${s.stderr}`);
      assert.match(s.stderr, says, name);
      assert.match(s.stderr, /^hint: .*(free some space|remount)/m, `${name}: the hint says what to do`);
      assert.doesNotMatch(s.stderr, /internal error/, name);
      // Nothing half-written: no temp file, no lock, no cert without its key (nor a key alone).
      assert.deepEqual(
        s.files.filter((f) => TEMP_OR_LOCK.test(f) || /plugins\/p[23]\/server\.(crt|key)$/.test(f)),
        [],
        `${name}: nothing left behind`,
      );
    }
    assert.equal(readFileSync(join(results, "unchanged.rc"), "utf8").trim(), "0", "p1 and the ledger unchanged");
    const rerun = step("rerun");
    assert.equal(rerun.code, 0, `the rerun after the disk is fixed: ${rerun.stderr}`);
    assert.equal(step("check").code, 0, step("check").stderr);
    assert.equal(
      readFileSync(join(results, "verify.rc"), "utf8").trim(),
      "0",
      readFileSync(join(results, "verify.out"), "utf8"),
    );
  });
});

describe("a second signal always ends the process (issue 13 §3)", () => {
  it("SIGINT, then SIGTERM while the first still waits: gone at once; the rerun completes and check passes", async () => {
    const many = Array.from({ length: 8 }, (_, i) => `slow${i}`);
    const cwd = configDir(many);
    const root = join(cwd, "certs/mcp");
    assert.equal(run(["ca", "--key-type", "ecdsa-p256"], cwd).code, 0);
    // One thread in libuv's pool and nine RSA-4096 keys queued on it: process.exit joins that pool,
    // so after the first signal the process lingers until every queued key is made (about 30 s
    // here). Only the second signal can end it promptly: if it were ignored, this test would time out.
    const { child, done } = cliAsync(["all", "--key-type", "rsa4096", "--jobs", "9"], cwd, { UV_THREADPOOL_SIZE: "1" });
    assert.match(await keyGenerationStarted(child), /generating 9 rsa4096 keys/);
    await sleep(1_000);
    child.kill("SIGINT");
    await sleep(300);
    const second = Date.now();
    child.kill("SIGTERM");
    const ended = await Promise.race([done, sleep(5_000).then(() => undefined)]);
    if (ended === undefined) child.kill("SIGKILL");
    const r = ended ?? (await done);
    outputs.push(r);
    assert.ok(ended !== undefined, `still running 5 s after the second signal: ${r.stderr}`);
    assert.ok(Date.now() - second < 3_000, `ended ${Date.now() - second} ms after the second signal`);
    // Since issue 28 §8 the first signal already ends the process once its cleanup is done (it no
    // longer waits for the key threads), so either signal may be the one that ended it.
    assert.ok(r.signal === "SIGINT" || r.signal === "SIGTERM", `ended by a signal: ${r.code} ${r.signal}`);
    assert.deepEqual(
      listFiles(root).filter((f) => TEMP_OR_LOCK.test(f)),
      [],
      "no temp file or lock left",
    );
    assertNoPartialFiles(root);
    // The rerun (EC keys: what matters is that it repairs the tree) completes it; check agrees.
    const rerun = run(["all", "--key-type", "ecdsa-p256", "--lock-wait", "0"], cwd);
    assert.equal(rerun.code, 0, rerun.stderr);
    assertCompleteTree(root, many);
    const check = run(["check"], cwd);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});
