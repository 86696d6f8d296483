/**
 * `export p12` (issue 7): the PKCS#12 opens in OpenSSL 3 without -legacy, holds the key that
 * matches the cert and the CA chain, and is readable by Java's keytool and Python's
 * cryptography when those are on the machine.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { cli, openssl, read, tempDir, verifyStrict, writeFile } from "./helpers.js";

const PASSWORD = "correct horse battery staple";
const ENV = { P12_PASSWORD: PASSWORD, WRONG_PASSWORD: "not it", KEY_PASS: "key passphrase" };

function has(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

/** openssl pkcs12 with the password from the environment, as the issue asks (no -legacy). */
function pkcs12(file: string, args: string[], passwordVar = "P12_PASSWORD") {
  return spawnSync("openssl", ["pkcs12", "-in", file, "-passin", `env:${passwordVar}`, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...ENV },
  });
}

function publicKeyOfCert(cert: string): string {
  return openssl(["x509", "-in", cert, "-noout", "-pubkey"]).stdout;
}

describe("export p12", () => {
  let dir: string;
  let tree: string;
  let p12: string;
  let exported: ReturnType<typeof cli>;

  before(() => {
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    // An intermediate, so the chain in the file has three certs.
    const r = cli(["ca", "--intermediate", "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(r.code, 0, r.stderr);
    const client = cli(["client", "alice", "--key-type", "rsa2048", "-q"], dir);
    assert.equal(client.code, 0, client.stderr);
    p12 = join(dir, "alice.p12");
    exported = cli(["export", "p12", "alice", "--out", p12, "--password-env", "P12_PASSWORD"], dir, ENV);
  });

  it("writes the file with mode 600", () => {
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((statSync(p12).mode & 0o777).toString(8), "600");
  });

  it("opens with openssl pkcs12 -info (no -legacy): PBES2 with AES-256-CBC and an HMAC-SHA256 MAC", () => {
    const r = pkcs12(p12, ["-info", "-nokeys"]);
    assert.equal(r.status, 0, r.stderr);
    // Only the algorithm lines: base64 in the PEM blocks can spell "rc2" or "des" by chance.
    const info = (r.stdout + r.stderr).replace(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g, "");
    assert.match(info, /MAC: sha256/);
    assert.match(info, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
    assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
    assert.doesNotMatch(info, /RC2|3DES|des-ede3|pbeWithSHA1/i);
  });

  it("holds the cert, its key and the chain (intermediate, root), which verifies", () => {
    const certs = pkcs12(p12, ["-nokeys"]);
    assert.equal(certs.status, 0, certs.stderr);
    const blocks = certs.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    assert.equal(blocks.length, 3);
    const leaf = writeFile(join(dir, "leaf-from-p12.crt"), blocks[0]! + "\n");
    // client.crt under an intermediate is the leaf then the intermediate (what the client presents).
    const [clientLeaf, ...clientChain] = read(join(tree, "clients/alice/client.crt")).match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    )!;
    assert.equal(read(leaf).trim(), clientLeaf);
    assert.deepEqual(clientChain, [blocks[1]]);
    const chain = writeFile(join(dir, "chain-from-p12.crt"), blocks.slice(1).join("\n") + "\n");
    assert.equal(verifyStrict(join(tree, "ca/ca.crt"), leaf, ["-untrusted", chain, "-purpose", "sslclient"]).code, 0);

    const key = pkcs12(p12, ["-nocerts", "-nodes"]);
    assert.equal(key.status, 0, key.stderr);
    const keyPublic = openssl(["pkey", "-pubout"], key.stdout).stdout;
    assert.ok(keyPublic.includes("BEGIN PUBLIC KEY"));
    assert.equal(keyPublic, publicKeyOfCert(leaf));
  });

  it("a wrong password fails the MAC", () => {
    const r = pkcs12(p12, ["-info", "-nokeys"], "WRONG_PASSWORD");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /mac verify (failure|error)/i);
  });

  it("Java's keytool sees one private key entry with its chain", {
    skip: has("keytool") ? false : "keytool is not installed",
  }, () => {
    const r = spawnSync(
      "keytool",
      ["-list", "-v", "-storetype", "PKCS12", "-keystore", p12, "-storepass:env", "P12_PASSWORD"],
      { encoding: "utf8", env: { ...process.env, ...ENV } },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Entry type: PrivateKeyEntry/);
    assert.match(r.stdout, /Certificate chain length: 3/);
  });

  it("Python's cryptography loads the key and matches it to the cert", {
    skip: pythonHasCryptography() ? false : "python3 cryptography is not installed",
  }, () => {
    const script = `
import os, sys
from cryptography.hazmat.primitives.serialization import pkcs12, Encoding, PublicFormat
key, cert, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], "rb").read(), os.environb[b"P12_PASSWORD"])
same = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
print(cert.subject.rfc4514_string(), len(extra), same)
`;
    const r = spawnSync("python3", ["-c", script, p12], { encoding: "utf8", env: { ...process.env, ...ENV } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /CN=alice.* 2 True/);
  });

  it("an existing --out is not overwritten (exit 2)", () => {
    const before = read(p12);
    const r = cli(["export", "p12", "alice", "--out", p12, "--password-env", "P12_PASSWORD"], dir, ENV);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already exists/);
    assert.equal(read(p12), before);
  });

  it("an unset or empty password variable is exit 2 and writes nothing", () => {
    const out = join(dir, "nopass.p12");
    const r = cli(["export", "p12", "alice", "--out", out, "--password-env", "NO_SUCH_VARIABLE"], dir, ENV);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NO_SUCH_VARIABLE is unset or empty/);
    assert.equal(existsSync(out), false);
  });

  it("a cert file with --key, and an encrypted key opened with --key-passphrase-env", () => {
    const made = cli(["server", "api", "--key-type", "ecdsa-p256", "--key-passphrase-env", "KEY_PASS", "-q"], dir, ENV);
    assert.equal(made.code, 0, made.stderr);
    const cert = join(tree, "servers/api/server.crt");
    const key = join(tree, "servers/api/server.key");
    const out = join(dir, "api.p12");
    const locked = cli(["export", "p12", cert, "--key", key, "--out", out, "--password-env", "P12_PASSWORD"], dir, ENV);
    assert.equal(locked.code, 2);
    assert.match(locked.stderr, /encrypted/);
    assert.equal(existsSync(out), false);
    const r = cli(
      [
        "export",
        "p12",
        cert,
        "--key",
        key,
        "--key-passphrase-env",
        "KEY_PASS",
        "--out",
        out,
        "--password-env",
        "P12_PASSWORD",
      ],
      dir,
      ENV,
    );
    assert.equal(r.code, 0, r.stderr);
    const keyOut = pkcs12(out, ["-nocerts", "-nodes"]);
    assert.equal(keyOut.status, 0, keyOut.stderr);
    assert.equal(openssl(["pkey", "-pubout"], keyOut.stdout).stdout, publicKeyOfCert(cert));
  });

  it("a key that is not the cert's is exit 2", () => {
    const out = join(dir, "mismatch.p12");
    const r = cli(
      [
        "export",
        "p12",
        "alice",
        "--key",
        join(tree, "ca/intermediate.key"),
        "--out",
        out,
        "--password-env",
        "P12_PASSWORD",
      ],
      dir,
      ENV,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is the private key of .*intermediate\.crt/);
    assert.equal(existsSync(out), false);
  });
});

function pythonHasCryptography(): boolean {
  return spawnSync("python3", ["-c", "from cryptography.hazmat.primitives.serialization import pkcs12"]).status === 0;
}
