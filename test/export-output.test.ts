/**
 * `export … -o FILE` and `key decrypt -o FILE`: never over an existing file without --force, never
 * inside the tree's ca/ (not through a symlink either); the old spellings (`--out FILE`, `--tree`,
 * `--password-env`) still work, each with a one-line notice.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, openssl, tempDir } from "./helpers.js";

describe("export -o FILE", () => {
  let dir = "";
  let tree = "";
  before(() => {
    dir = tempDir("mtls-output-");
    tree = join(dir, "certs/mcp");
    const made = cli(["all", "--key-type", "ecdsa-p256", "-q", "--out", tree], dir);
    assert.equal(made.code, 0, made.stderr);
  });

  it("writes once; a second run is exit 2 and leaves the file; --force replaces it", () => {
    const file = join(dir, "gateway.env");
    const first = cli(["export", "env", "--gateway", "--out", tree, "-o", file], dir);
    assert.equal(first.code, 0, first.stderr);
    assert.match(readFileSync(file, "utf8"), /PLUGINS_CLIENT_MTLS_CERTFILE=/);
    writeFileSync(file, "mine\n");
    const second = cli(["export", "env", "--gateway", "--out", tree, "-o", file], dir);
    assert.equal(second.code, 2);
    assert.match(
      second.stderr,
      /^mtls-certs: --output .*gateway\.env: already exists; not overwritten\nhint: .*--force/,
    );
    assert.equal(readFileSync(file, "utf8"), "mine\n");
    const forced = cli(["export", "env", "--gateway", "--out", tree, "-o", file, "--force"], dir);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(readFileSync(file, "utf8"), /PLUGINS_CLIENT_MTLS_CERTFILE=/);
  });

  it("never inside the tree's ca/, directly or through a symlink, even with --force", () => {
    const link = join(dir, "looks-harmless");
    symlinkSync(join(tree, "ca"), link);
    for (const target of [join(tree, "ca", "gateway.env"), join(link, "gateway.env")]) {
      const r = cli(["export", "env", "--gateway", "--out", tree, "-o", target, "--force"], dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /inside the tree's ca\/ directory/);
    }
    const p12 = cli(
      ["export", "p12", "gateway", "--out", tree, "-o", join(tree, "ca", "gw.p12"), "--p12-password-env", "PW"],
      dir,
      { PW: "pw" },
    );
    assert.equal(p12.code, 2, p12.stderr);
    assert.deepEqual(readdirSync(join(tree, "ca")).sort(), ["ca.crt", "ca.key", "ledger.json"]);
  });

  it("key decrypt does not write next to a CA key either", () => {
    const made = cli(
      ["ca", "--out", join(dir, "locked"), "--key-type", "ecdsa-p256", "-q", "--ca-passphrase-env", "PW"],
      dir,
      { PW: "secret" },
    );
    assert.equal(made.code, 0, made.stderr);
    const key = join(dir, "locked/ca/ca.key");
    const refused = cli(["key", "decrypt", key, "--key-passphrase-env", "PW"], dir, { PW: "secret" });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /inside the tree's ca\/ directory/);
    const plain = join(dir, "ca-plain.key");
    const written = cli(["key", "decrypt", key, "-o", plain, "--key-passphrase-env", "PW"], dir, { PW: "secret" });
    assert.equal(written.code, 0, written.stderr);
    assert.equal(openssl(["pkey", "-in", plain, "-noout"]).code, 0, "openssl reads the plain key");
  });

  it("old spellings still work, one notice each: export p12 --out FILE --tree DIR --password-env", () => {
    const file = join(dir, "old.p12");
    const r = cli(["export", "p12", "gateway", "--out", file, "--tree", tree, "--password-env", "PW"], dir, {
      PW: "old-style",
    });
    assert.equal(r.code, 0, r.stderr);
    const notices = r.stderr.split("\n").filter((l) => /deprecated/.test(l));
    assert.equal(notices.length, 3, r.stderr);
    const info = openssl(["pkcs12", "-in", file, "-info", "-nokeys", "-passin", "pass:old-style"]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /subject=.*mcp-gateway-client/);
  });

  it("old spelling: export env --out FILE (no such directory) writes the file, with a notice", () => {
    const cwd = join(dir);
    const file = "old.env";
    const r = cli(["export", "env", "--gateway", "--tree", tree, "--out", file], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(cwd, file)));
    assert.match(r.stderr, /--out FILE is deprecated for the file written; use -o\/--output FILE/);
  });
});
