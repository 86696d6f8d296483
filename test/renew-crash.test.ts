/**
 * Issue 13 §6, renew: a kill -9 at any moment of `renew` leaves each leaf its old pair or its new
 * pair, and the next `renew` restores what a kill between the key and the cert left. strace
 * delays the return of every rename(2) (`inject=…:delay_exit`), so a write is on disk while the
 * run sleeps right after it; the test kills the process there, on the moment it watches for.
 * Judged by openssl (pair match, chain) and by `check`.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BIN, cli, openssl, tempDir } from "./helpers.js";

const strace = spawnSync("strace", ["-V"]).status === 0;
const EC = ["--key-type", "ecdsa-p256"];
/** How long each rename's return is held back: the window the test kills in. */
const DELAY_US = 400_000;

/** The public key openssl reads from a file (a cert or a private key). */
function publicKey(path: string, kind: "cert" | "key"): string {
  const r =
    kind === "cert" ? openssl(["x509", "-in", path, "-noout", "-pubkey"]) : openssl(["pkey", "-in", path, "-pubout"]);
  assert.equal(r.code, 0, `${path}: ${r.stderr}`);
  return r.stdout;
}

function read(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** The node process strace runs (its only child). */
function tracee(stracePid: number): number | undefined {
  const children = read(`/proc/${stracePid}/task/${stracePid}/children`).trim();
  return children === "" ? undefined : Number(children.split(" ")[0]);
}

/**
 * Runs `renew --force <name>` under strace with every rename delayed, and SIGKILLs the node process
 * as soon as `moment` holds (polled every 5 ms). Returns whether the kill landed before the end.
 */
async function renewKilledWhen(cwd: string, root: string, moment: () => boolean, name = "c"): Promise<boolean> {
  const child = spawn(
    "strace",
    [
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-e",
      "trace=rename,renameat,renameat2",
      "-e",
      `inject=rename,renameat,renameat2:delay_exit=${DELAY_US}`,
      process.execPath,
      BIN,
      "renew",
      "--force",
      "--out",
      root,
      name,
    ],
    { cwd, env: { ...process.env, NO_COLOR: "1", CI: "1", MCP_CERT_DAYS: "" }, stdio: "ignore" },
  );
  const exited = new Promise<void>((res) => child.on("close", () => res()));
  let ended = false;
  void exited.then(() => (ended = true));
  const deadline = Date.now() + 60_000;
  while (!ended && Date.now() < deadline) {
    if (moment()) {
      const pid = tracee(child.pid!);
      if (pid !== undefined) process.kill(pid, "SIGKILL");
      await exited;
      return true;
    }
    await sleep(5);
  }
  await exited;
  return false;
}

describe("renew killed (kill -9) at each write, with strace-delayed renames; the next renew repairs", {
  skip: strace ? false : "strace not installed",
}, () => {
  const base = tempDir();
  const template = join(base, "template");
  before(() => {
    const root = join(template, "certs/mcp");
    mkdirSync(template);
    for (const args of [
      ["ca", "--out", root, ...EC, "-q"],
      ["plugin", "p", "--out", root, ...EC, "-q"],
      ["client", "c", "--out", root, ...EC, "-q"],
    ])
      assert.equal(cli(args, template).code, 0);
  });

  const moments: Array<{ what: string; file: string; expectMismatch: boolean }> = [
    { what: "the new key is renamed in, the cert is still the old one", file: "client.key", expectMismatch: true },
    {
      what: "the new cert is renamed in, client.pem and the ledger not yet",
      file: "client.crt",
      expectMismatch: false,
    },
    { what: "client.pem is renamed in, the ledger not yet", file: "client.pem", expectMismatch: false },
    { what: "the ledger is renamed in", file: "../../ca/ledger.json", expectMismatch: false },
  ];

  for (const m of moments) {
    it(`killed as soon as ${m.what}: old or new pair; the next renew leaves a whole, known pair`, async () => {
      const cwd = join(base, m.file.replace(/\W/g, "_"));
      cpSync(template, cwd, { recursive: true });
      const root = join(cwd, "certs/mcp");
      const leaf = join(root, "clients", "c");
      const watched = join(leaf, m.file);
      const original = read(watched);
      const oldCert = read(join(leaf, "client.crt"));
      const killed = await renewKilledWhen(cwd, root, () => read(watched) !== original);
      assert.ok(killed, "the run ended before the moment came");

      const certPub = publicKey(join(leaf, "client.crt"), "cert");
      const keyPub = publicKey(join(leaf, "client.key"), "key");
      // The hazard the test is about did happen (or not) as the moment says.
      assert.equal(certPub !== keyPub, m.expectMismatch, "pair state right after the kill");
      if (m.expectMismatch) assert.equal(read(join(leaf, "client.crt")), oldCert);

      const again = cli(["renew", "--out", root], cwd);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      if (m.expectMismatch) assert.match(again.stderr, /restored clients\/c\/client\.key from \.backup\//);
      assert.equal(publicKey(join(leaf, "client.crt"), "cert"), publicKey(join(leaf, "client.key"), "key"));
      assert.equal(read(join(leaf, "client.pem")), read(join(leaf, "client.crt")) + read(join(leaf, "client.key")));
      const verify = openssl(["verify", "-CAfile", join(root, "ca", "ca.crt"), join(leaf, "client.crt")]);
      assert.equal(verify.code, 0, verify.stderr);
      // The ledger knows the cert on disk (adopted if the kill came before its write): check is clean.
      const check = cli(["check", "--out", root], cwd);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      const ledger = JSON.parse(read(join(root, "ca", "ledger.json"))) as {
        entries: Array<{ name: string; status: string; serial: string }>;
      };
      const valid = ledger.entries.filter((e) => e.name === "c" && e.status === "valid");
      assert.equal(valid.length, 1, JSON.stringify(ledger.entries));
      const serial = openssl(["x509", "-in", join(leaf, "client.crt"), "-noout", "-serial"]).stdout.trim();
      assert.equal(valid[0]?.serial, serial.replace(/^serial=0*/, ""));
    });
  }
});

describe("renew of a server with haproxy.pem killed (kill -9) at each write: the next renew rebuilds the bundle from the pair", {
  skip: strace ? false : "strace not installed",
}, () => {
  const base = tempDir();
  const template = join(base, "template");
  const name = "web.local";
  before(() => {
    const root = join(template, "certs/mcp");
    mkdirSync(template);
    for (const args of [
      ["server", name, "--out", root, ...EC, "-q"],
      ["export", "haproxy", "--out", root, "--server", name],
    ])
      assert.equal(cli(args, template).code, 0);
  });

  const moments: Array<{ what: string; file: string; expectMismatch: boolean }> = [
    { what: "the new key is renamed in, the cert is still the old one", file: "server.key", expectMismatch: true },
    { what: "the new cert is renamed in, haproxy.pem not yet", file: "server.crt", expectMismatch: false },
  ];

  for (const m of moments) {
    it(`killed as soon as ${m.what}: the next renew leaves haproxy.pem holding the pair on disk`, async () => {
      const cwd = join(base, m.file.replace(/\W/g, "_"));
      cpSync(template, cwd, { recursive: true });
      const root = join(cwd, "certs/mcp");
      const leaf = join(root, "servers", name);
      const bundle = join(leaf, "haproxy.pem");
      const watched = join(leaf, m.file);
      const original = read(watched);
      const oldBundle = read(bundle);
      assert.ok(await renewKilledWhen(cwd, root, () => read(watched) !== original, name), "the run ended first");
      assert.equal(
        publicKey(join(leaf, "server.crt"), "cert") !== publicKey(join(leaf, "server.key"), "key"),
        m.expectMismatch,
      );
      // The kill came before the bundle's write: it still holds the old pair, whole.
      assert.equal(read(bundle), oldBundle);

      const again = cli(["renew", "--out", root], cwd);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      const certPub = publicKey(join(leaf, "server.crt"), "cert");
      assert.equal(publicKey(join(leaf, "server.key"), "key"), certPub);
      assert.equal(publicKey(bundle, "key"), certPub, "haproxy.pem holds the key of server.crt");
      const serial = (path: string) => openssl(["x509", "-in", path, "-noout", "-serial"]).stdout;
      assert.equal(serial(bundle), serial(join(leaf, "server.crt")), "haproxy.pem holds server.crt");
      if (!m.expectMismatch)
        assert.match(again.stderr, /rewrote servers\/web\.local\/haproxy\.pem from its cert and key/);
      assert.equal(statSync(bundle).mode & 0o777, 0o600);
      const check = cli(["check", "--out", root], cwd);
      assert.equal(check.code, 0, check.stdout + check.stderr);
    });
  }
});
