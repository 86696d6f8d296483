/**
 * Issue 14 §4: keys a container user can read without loosening them for everyone. The rule
 * (src/store/key-mode.ts) as a table, then the real thing: keys written with --key-group and read
 * by the uids the gateway's images run as (setpriv), check, renew and a refused non-root run.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { directoryModeProblem } from "../src/store/directory-ownership.js";
import { groupIdFromFile, keyModeProblem, parseKeyGroup, type KeyFileStat } from "../src/store/key-mode.js";
import { BIN, cli, tempDir, writeFile } from "./helpers.js";

const FAST = ["--key-type", "ecdsa-p256", "-q"];
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
const asOtherUsers = isRoot && hasSetpriv ? {} : { skip: "needs root and setpriv to act as the containers' users" };

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** A gateway folder other users can traverse, as a checkout is (mkdtemp makes 0700). */
function gatewayFolder(): string {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  return dir;
}

/** `cat` a file as another uid/gid with no supplementary groups, as a container's USER line does. */
function readAs(uid: number, gid: number, path: string): { ok: boolean; stderr: string } {
  const r = spawnSync("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "cat", path], {
    encoding: "utf8",
  });
  return { ok: r.status === 0, stderr: r.stderr };
}

describe("the key-mode rule (PostgreSQL's, plus the group asked for)", () => {
  const self = { uid: 1000, gid: 1000 };
  const cases: Array<[string, KeyFileStat, string | undefined, RegExp | undefined]> = [
    ["0600, own group", { mode: 0o600, uid: 1000, gid: 1000 }, undefined, undefined],
    ["0400, own group", { mode: 0o400, uid: 1000, gid: 1000 }, undefined, undefined],
    ["0640 owned by root (PostgreSQL)", { mode: 0o640, uid: 0, gid: 0 }, undefined, undefined],
    ["0640 in a group given to it", { mode: 0o640, uid: 1000, gid: 10001 }, undefined, undefined],
    ["0640 https key in own group", { mode: 0o640, uid: 1000, gid: 1000 }, "https", undefined],
    [
      "0640 in the owner's own group",
      { mode: 0o640, uid: 1000, gid: 1000 },
      undefined,
      /own group 1000 \(mode 640\); run chmod 600/,
    ],
    ["0640 of another user in its own group", { mode: 0o640, uid: 1002, gid: 1002 }, undefined, /own group/],
    ["0644 owned by root: others", { mode: 0o644, uid: 0, gid: 0 }, undefined, /open to others.*chmod 640/],
    ["0660 in a given group: group-writable", { mode: 0o660, uid: 0, gid: 10001 }, undefined, /writable by group/],
    ["0644 own group", { mode: 0o644, uid: 1000, gid: 1000 }, undefined, /open to others \(mode 644\); run chmod 600/],
    ["0604 own group", { mode: 0o604, uid: 1000, gid: 1000 }, undefined, /open to others/],
    ["0660 https key", { mode: 0o660, uid: 1000, gid: 1000 }, "https", /writable by group/],
  ];
  for (const [what, stat, role, problem] of cases) {
    it(`${what}: ${problem ? "flagged" : "allowed"}`, () => {
      const found = keyModeProblem("k.key", stat, { role: role as "https" | undefined, self });
      if (problem) assert.match(found ?? "", problem);
      else assert.equal(found, undefined);
    });
  }

  // The CA's keys: 0600 whoever owns them (OpenSSH's rule); PostgreSQL's root-owned 0640 does not apply.
  const caCases: Array<[string, KeyFileStat, "ca" | "intermediate", RegExp | undefined]> = [
    ["CA key 0600", { mode: 0o600, uid: 1000, gid: 1000 }, "ca", undefined],
    ["CA key 0400 owned by root", { mode: 0o400, uid: 0, gid: 0 }, "ca", undefined],
    [
      "CA key 0640 owned by root",
      { mode: 0o640, uid: 0, gid: 0 },
      "ca",
      /^ca\.key: readable by group\/others \(mode 640\); run chmod 600 ca\.key$/,
    ],
    ["CA key 0640 in a group given to it", { mode: 0o640, uid: 1000, gid: 10001 }, "ca", /mode 640\); run chmod 600/],
    ["intermediate key 0644", { mode: 0o644, uid: 1000, gid: 1000 }, "intermediate", /readable by group\/others/],
    ["CA key 0620", { mode: 0o620, uid: 0, gid: 0 }, "ca", /writable by group\/others \(mode 620\)/],
  ];
  for (const [what, stat, role, problem] of caCases) {
    it(`${what}: ${problem ? "flagged" : "allowed"}`, () => {
      const found = keyModeProblem("ca.key", stat, { role, self });
      if (problem) assert.match(found ?? "", problem);
      else assert.equal(found, undefined);
    });
  }

  // Directories the CA key lives in: never others-writable; group-writable only in the owner's private group.
  const dirCases: Array<[string, KeyFileStat, RegExp | undefined]> = [
    ["0755", { mode: 0o755, uid: 0, gid: 0 }, undefined],
    ["0700", { mode: 0o700, uid: 1000, gid: 1000 }, undefined],
    ["0775 in the owner's private group (umask 002)", { mode: 0o775, uid: 1000, gid: 1000 }, undefined],
    [
      "0775 in a shared group",
      { mode: 0o775, uid: 1000, gid: 100 },
      /^d: writable by group 100 \(mode 775\); run chmod g-w d$/,
    ],
    ["0775 root's, group 0 (the plugin images' group)", { mode: 0o775, uid: 0, gid: 0 }, /run chmod g-w d/],
    ["0777", { mode: 0o777, uid: 1000, gid: 1000 }, /^d: writable by others \(mode 777\); run chmod o-w d$/],
    ["1777 (sticky, as /tmp)", { mode: 0o1777, uid: 0, gid: 0 }, /run chmod o-w d/],
  ];
  for (const [what, stat, problem] of dirCases) {
    it(`directory ${what}: ${problem ? "flagged" : "allowed"}`, () => {
      const found = directoryModeProblem("d", stat);
      if (problem) assert.match(found ?? "", problem);
      else assert.equal(found, undefined);
    });
  }

  it("--key-group takes a gid or a name from the group file; anything else is refused", async () => {
    const dir = tempDir();
    const groups = writeFile(join(dir, "group"), "root:x:0:\nmcpgateway:x:10001:\nplugins:x:1001:a,b\n");
    assert.equal(groupIdFromFile("a:x:5:\n", "a"), 5);
    assert.equal(await parseKeyGroup("0", "--key-group", groups), 0);
    assert.equal(await parseKeyGroup("10001", "--key-group", groups), 10001);
    assert.equal(await parseKeyGroup("mcpgateway", "--key-group", groups), 10001);
    await assert.rejects(parseKeyGroup("nosuch", "--key-group", groups), /no group named "nosuch"/);
    await assert.rejects(parseKeyGroup("-1", "--key-group", groups), /not a group id or name/);
    await assert.rejects(parseKeyGroup("99999999999", "--key-group", groups), /not a group id or name/);
  });
});

describe("--key-group: a Compose tree the gateway's and the plugins' container users can read", () => {
  it(
    "all --key-group 0 --gateway-key-group 10001: each image's user reads its own key, nobody else's",
    asOtherUsers,
    () => {
      const dir = gatewayFolder();
      writeFile(join(dir, "plugins/external/config.yaml"), "plugins:\n  - name: DenyListPlugin\n    kind: external\n");
      const r = cli(["all", "--key-group", "0", "--gateway-key-group", "10001", ...FAST], dir);
      assert.equal(r.code, 0, r.stderr);
      const tree = join(dir, "certs/mcp");
      const gatewayKey = join(tree, "gateway/client.key");
      const pluginKey = join(tree, "plugins/DenyListPlugin/server.key");
      assert.equal(statSync(gatewayKey).gid, 10001);
      assert.equal(mode(gatewayKey), "640");
      assert.equal(statSync(pluginKey).gid, 0);
      assert.equal(mode(pluginKey), "640");
      assert.equal(mode(join(tree, "ca/ca.key")), "600", "the CA key is never shared");
      // The gateway image runs as USER 10001:10001, the plugin images as 1001 with group 0.
      assert.ok(readAs(10001, 10001, gatewayKey).ok, "the gateway's user reads its key");
      assert.ok(readAs(1001, 0, pluginKey).ok, "a plugin's user reads its key");
      assert.match(readAs(1001, 0, gatewayKey).stderr, /Permission denied/, "a plugin cannot read the gateway key");
      assert.match(readAs(10001, 10001, pluginKey).stderr, /Permission denied/);
      assert.match(readAs(10001, 10001, join(tree, "ca/ca.key")).stderr, /Permission denied/);
      // check: a root-owned 0640 key is what the rule allows.
      const check = cli(["check", "--out", tree, "--json"], dir);
      assert.equal(check.code, 0, check.stdout);
    },
  );

  it("without --key-group the container's user gets Permission denied (the problem it solves)", asOtherUsers, () => {
    const dir = gatewayFolder();
    assert.equal(cli(["gateway", ...FAST], dir).code, 0);
    const key = join(dir, "certs/mcp/gateway/client.key");
    assert.equal(mode(key), "600");
    assert.match(readAs(10001, 10001, key).stderr, /Permission denied/);
    // `gateway --key-group` is the gateway key's group; an existing key is given it too.
    const r = cli(["gateway", "--key-group", "10001", ...FAST], dir);
    assert.equal(r.code, 0, r.stderr);
    // Information under the kept cert, not a warning.
    assert.match(r.stdout, /^ {4}- .*client\.key: existing key given group 10001, mode 640$/m);
    assert.doesNotMatch(r.stderr, /warning/);
    assert.ok(readAs(10001, 10001, key).ok);
  });

  it("env MTLS_CERTS_KEY_GROUP, group names, and client.pem shares the key's group", asOtherUsers, () => {
    const dir = gatewayFolder();
    const r = cli(["client", "alice", ...FAST], dir, { MTLS_CERTS_KEY_GROUP: "root" });
    assert.equal(r.code, 0, r.stderr);
    for (const f of ["client.key", "client.pem"]) {
      const path = join(dir, "certs/mcp/clients/alice", f);
      assert.equal(statSync(path).gid, 0);
      assert.equal(mode(path), "640");
    }
    assert.equal(cli(["server", "api", "--key-group", "nosuchgroup", ...FAST], dir).code, 2);
    assert.equal(existsSync(join(dir, "certs/mcp/servers/api")), false, "nothing written");
  });

  it(
    "renew keeps a shared key's group and 640; check flags a group-writable or world-readable key",
    asOtherUsers,
    () => {
      const dir = gatewayFolder();
      assert.equal(cli(["plugin", "P1", "--key-group", "0", ...FAST], dir).code, 0);
      const tree = join(dir, "certs/mcp");
      const key = join(tree, "plugins/P1/server.key");
      const before = statSync(key).ino;
      const renewed = cli(["renew", "P1", "--force", "--out", tree, "-q"], dir);
      assert.equal(renewed.code, 0, renewed.stderr + renewed.stdout);
      assert.notEqual(statSync(key).ino, before, "a new key file");
      assert.equal(statSync(key).gid, 0);
      assert.equal(mode(key), "640");
      chmodSync(key, 0o660);
      const writable = cli(["check", "--out", tree, "--json"], dir);
      assert.equal(writable.code, 1);
      assert.match(writable.stdout, /writable by group \(mode 660\)/);
      chmodSync(key, 0o644);
      const open = cli(["check", "--out", tree, "--json"], dir);
      assert.equal(open.code, 1);
      assert.match(open.stdout, /open to others \(mode 644\); run chmod 640/);
    },
  );

  it("a user who may not set the group is refused (exit 2) before anything is written", asOtherUsers, () => {
    const dir = gatewayFolder();
    const work = join(dir, "w");
    mkdirSync(work);
    chownSync(work, 65534, 65534);
    const asNobody = (args: string[]) =>
      spawnSync(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, BIN, ...args, ...FAST],
        { cwd: work, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", MCP_CERT_DAYS: "" } },
      );
    const refused = asNobody(["all", "--key-group", "0"]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /only root or a member of group 0/);
    assert.equal(existsSync(join(work, "certs")), false, "nothing written");
    const own = asNobody(["gateway", "--key-group", "65534"]);
    assert.equal(own.status, 2, own.stderr);
    assert.match(own.stderr, /your own group/);
  });
});
