/**
 * Key types and keys under a passphrase (issue 7): `--key-type` on every issuing command, a
 * leaf's type independent of its CA's; `--key-passphrase-env` writes encrypted PKCS#8 that
 * openssl and Python open; `key decrypt` writes a plain copy. Checked by openssl, node:tls and
 * Python's ssl.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  cli,
  leafEnd,
  mtlsHandshake,
  openssl,
  pythonStrictClient,
  read,
  tempDir,
  verifyStrict,
  writeFile,
  x509Text,
} from "./helpers.js";

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

function keyText(path: string, passEnv?: string): string {
  const r = openssl(["pkey", "-in", path, "-noout", "-text", ...(passEnv ? ["-passin", `env:${passEnv}`] : [])]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The public key of a cert and of a key file, as openssl prints them: equal when they pair. */
function pubOfCert(cert: string): string {
  return openssl(["x509", "-in", cert, "-noout", "-pubkey"]).stdout;
}
function pubOfKey(key: string, passEnv?: string): string {
  return openssl(["pkey", "-in", key, "-pubout", ...(passEnv ? ["-passin", `env:${passEnv}`] : [])]).stdout;
}

describe("--key-type: a leaf's key type does not depend on its CA's", () => {
  let rsaTree: string;
  let ecTree: string;

  before(() => {
    rsaTree = tempDir();
    ecTree = tempDir();
    // An RSA CA (and gateway) with a P-256 plugin and a P-384 client under it ...
    assert.equal(cli(["gateway", "--key-type", "rsa2048", "-q"], rsaTree).code, 0);
    assert.equal(cli(["plugin", "ecplugin", "--ip", "127.0.0.1", "--key-type", "ecdsa-p256", "-q"], rsaTree).code, 0);
    assert.equal(cli(["client", "ec384", "--key-type", "ecdsa-p384", "-q"], rsaTree).code, 0);
    // ... and a P-384 CA with an RSA server and a P-256 gateway under it.
    assert.equal(cli(["ca", "--key-type", "ecdsa-p384", "-q"], ecTree).code, 0);
    assert.equal(cli(["server", "rsa-server", "--ip", "127.0.0.1", "--key-type", "rsa2048", "-q"], ecTree).code, 0);
    assert.equal(cli(["gateway", "--key-type", "ecdsa-p256", "-q"], ecTree).code, 0);
  });

  it("a P-256 leaf under an RSA CA: EC key, sha256WithRSAEncryption signature, strict verify", () => {
    const crt = join(rsaTree, "certs/mcp/plugins/ecplugin/server.crt");
    const text = x509Text(crt);
    assert.match(text, /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-256/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    // keyEncipherment means RSA key transport: an EC cert carries digitalSignature only.
    assert.match(text, /Key Usage: critical\n *Digital Signature\n/);
    assert.match(x509Text(join(rsaTree, "certs/mcp/ca/ca.crt")), /Public-Key: \(2048 bit\)/);
    const r = verifyStrict(join(rsaTree, "certs/mcp/ca/ca.crt"), crt, ["-purpose", "sslserver"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(keyText(join(rsaTree, "certs/mcp/clients/ec384/client.key")), /NIST CURVE: P-384/);
  });

  it("an RSA leaf under a P-384 CA: RSA key, ecdsa-with-SHA384 signature, strict verify", () => {
    const crt = join(ecTree, "certs/mcp/servers/rsa-server/server.crt");
    const text = x509Text(crt);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA384/);
    const r = verifyStrict(join(ecTree, "certs/mcp/ca/ca.crt"), crt, ["-purpose", "sslserver"]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("ECDSA leaves complete a mutual-TLS handshake (node:tls) and pass Python's strict check", async () => {
    const p = join(rsaTree, "certs/mcp/plugins/ecplugin");
    const c = join(rsaTree, "certs/mcp/clients/ec384");
    const result = await mtlsHandshake(leafEnd(p, "server"), leafEnd(c, "client"), { servername: "ecplugin" });
    assert.deepEqual(result, { ok: true, peerCn: "ec384" });
    const g = join(ecTree, "certs/mcp/gateway");
    const s = join(ecTree, "certs/mcp/servers/rsa-server");
    const py = await pythonStrictClient(
      leafEnd(s, "server"),
      { certfile: join(g, "client.crt"), keyfile: join(g, "client.key"), cafile: join(g, "ca.crt") },
      "127.0.0.1",
    );
    assert.equal(py.code, 0, py.stderr);
  });

  it("an unknown --key-type is exit 2 naming the value, and nothing is written", () => {
    const fresh = tempDir();
    for (const command of [
      ["ca"],
      ["gateway"],
      ["plugin", "p"],
      ["server", "s"],
      ["client", "c"],
      ["https"],
      ["all"],
    ]) {
      const r = cli([...command, "--key-type", "dsa1024"], fresh);
      assert.equal(r.code, 2, `${command.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /--key-type: unknown key type "dsa1024"/);
    }
    assert.deepEqual(readdirSync(fresh), []);
  });
});

describe("--key-passphrase-env: keys under a passphrase", () => {
  const env = {
    MTLS_PW: "correct horse battery staple",
    CA_PW: "the CA's own passphrase",
    WRONG_PW: "not the passphrase",
    EMPTY_PW: "",
  };
  let dir: string;
  let tree: string;

  before(() => {
    Object.assign(process.env, env); // openssl -passin env:VAR reads this process's environment
    dir = tempDir();
    tree = join(dir, "certs/mcp");
    const r = cli(
      ["all", "--key-type", "rsa2048", "--key-passphrase-env", "MTLS_PW", "--ca-passphrase-env", "CA_PW", "-q"],
      dir,
      env,
    );
    assert.equal(r.code, 0, r.stderr);
  });

  it("every key is encrypted PKCS#8: PBES2 with PBKDF2-HMAC-SHA256 (100,000 iterations) and AES-256, mode 600", () => {
    for (const key of ["ca/ca.key", "gateway/client.key", "plugins/example-plugin-a/server.key"]) {
      const path = join(tree, key);
      assert.match(read(path), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      assert.equal(mode(path), "600");
      const asn1 = openssl(["asn1parse", "-in", path]).stdout;
      assert.match(asn1, /:PBES2\n/);
      assert.match(asn1, /:PBKDF2\n/);
      assert.match(asn1, /:aes-256-cbc\n/);
      assert.match(asn1, /:hmacWithSHA256\n/);
      assert.match(asn1, /INTEGER\s+:0186A0\n/, "100000 PBKDF2 iterations (OpenSSL's default is 2048)");
    }
    // The CA key opens with the CA's passphrase only, the leaves' with theirs.
    assert.equal(openssl(["pkey", "-in", join(tree, "ca/ca.key"), "-noout", "-passin", "env:CA_PW"]).code, 0);
    assert.notEqual(openssl(["pkey", "-in", join(tree, "ca/ca.key"), "-noout", "-passin", "env:MTLS_PW"]).code, 0);
  });

  it("openssl pkey -passin env: opens it (and it matches the cert); a wrong passphrase does not", () => {
    const key = join(tree, "plugins/example-plugin-a/server.key");
    assert.equal(pubOfKey(key, "MTLS_PW"), pubOfCert(join(tree, "plugins/example-plugin-a/server.crt")));
    const wrong = openssl(["pkey", "-in", key, "-noout", "-passin", "pass:not-the-passphrase"]);
    assert.notEqual(wrong.code, 0);
  });

  it("Python's load_cert_chain(password=…) opens it for a strict handshake; a wrong password fails", async () => {
    const p = join(tree, "plugins/example-plugin-a");
    const g = join(tree, "gateway");
    // The server side runs on the plugin's key as openssl decrypts it.
    const plain = openssl(["pkey", "-in", join(p, "server.key"), "-passin", "env:MTLS_PW"]);
    assert.equal(plain.code, 0, plain.stderr);
    const server = { cert: read(join(p, "server.crt")), key: plain.stdout, ca: read(join(p, "ca.crt")) };
    const ok = await pythonStrictClient(
      server,
      {
        certfile: join(g, "client.crt"),
        keyfile: join(g, "client.key"),
        cafile: join(g, "ca.crt"),
        password: env.MTLS_PW,
      },
      "localhost",
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "hello");
    const bad = await pythonStrictClient(
      server,
      {
        certfile: join(g, "client.crt"),
        keyfile: join(g, "client.key"),
        cafile: join(g, "ca.crt"),
        password: env.WRONG_PW,
      },
      "localhost",
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /SSLError|bad decrypt|BAD_DECRYPT/i);
  });

  it("signing with the encrypted CA key needs --ca-passphrase-env; missing, wrong or the leaves' is exit 2 naming the file, no key bytes shown", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /ca\/ca\.key: the key is encrypted and no passphrase was given[\s\S]*--ca-passphrase-env/],
      [["--key-passphrase-env", "MTLS_PW"], /ca\/ca\.key: the key is encrypted and no passphrase was given/],
      [["--ca-passphrase-env", "WRONG_PW"], /ca\/ca\.key: wrong passphrase for the encrypted key/],
      [["--ca-passphrase-env", "UNSET_PW_VAR"], /--ca-passphrase-env: the variable UNSET_PW_VAR is unset or empty/],
      [["--key-passphrase-env", "EMPTY_PW"], /--key-passphrase-env: the variable EMPTY_PW is unset or empty/],
    ];
    for (const [flags, message] of cases) {
      const r = cli(["client", "alice", "--key-type", "rsa2048", "--json", "-q", ...flags], dir, env);
      assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY|MII[A-Za-z0-9+/]{20}/);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(env.MTLS_PW));
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(env.CA_PW));
    }
    assert.equal(existsSync(join(tree, "clients")), false, "nothing written");
  });

  it("with the variable, a new client is signed and its key and client.pem are encrypted", () => {
    const r = cli(
      [
        "client",
        "alice",
        "--key-type",
        "rsa2048",
        "--key-passphrase-env",
        "MTLS_PW",
        "--ca-passphrase-env",
        "CA_PW",
        "-q",
      ],
      dir,
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const c = join(tree, "clients/alice");
    assert.match(read(join(c, "client.key")), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(read(join(c, "client.pem")), read(join(c, "client.crt")) + read(join(c, "client.key")));
    const ok = verifyStrict(join(c, "ca.crt"), join(c, "client.crt"), ["-purpose", "sslclient"]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it("https --key-passphrase-env writes key.pem encrypted (KEY_FILE_PASSWORD), still 640", () => {
    const r = cli(["https", "--key-type", "rsa2048", "--key-passphrase-env", "MTLS_PW", "-q"], dir, env);
    assert.equal(r.code, 0, r.stderr);
    const key = join(dir, "certs/key.pem");
    assert.equal(mode(key), "640");
    assert.equal(pubOfKey(key, "MTLS_PW"), pubOfCert(join(dir, "certs/cert.pem")));
  });
});

describe("--key-passphrase-stdin: the passphrase on stdin, as openssl's -passin stdin", () => {
  it("encrypts new keys with the first line of stdin; openssl opens them with it, key decrypt reads it from stdin too", () => {
    const dir = tempDir();
    const key = join(dir, "certs/mcp/gateway/client.key");
    const r = cli(
      ["gateway", "--key-type", "ecdsa-p256", "--key-passphrase-stdin", "-q"],
      dir,
      {},
      "from stdin pw\nsecond line ignored\n",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(read(key), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    assert.equal(openssl(["pkey", "-in", key, "-noout", "-passin", "pass:from stdin pw"]).code, 0);
    assert.notEqual(
      openssl(["pkey", "-in", key, "-noout", "-passin", "pass:from stdin pw\nsecond line ignored"]).code,
      0,
    );
    // The leaves' passphrase never encrypts the CA key (--ca-passphrase-* does): signing needs none here.
    assert.match(read(join(dir, "certs/mcp/ca/ca.key")), /^-----BEGIN PRIVATE KEY-----\n/);
    const plugin = cli(
      ["plugin", "p1", "--key-type", "ecdsa-p256", "--key-passphrase-stdin", "-q"],
      dir,
      {},
      "from stdin pw",
    );
    assert.equal(plugin.code, 0, plugin.stderr);
    const out = join(dir, "plain.key");
    const decrypted = cli(["key", "decrypt", key, "--out", out, "--key-passphrase-stdin"], dir, {}, "from stdin pw\n");
    assert.equal(decrypted.code, 0, decrypted.stderr);
    assert.equal(pubOfKey(out), pubOfCert(join(dir, "certs/mcp/gateway/client.crt")));
  });

  it("an empty first line, or both --key-passphrase-env and --key-passphrase-stdin, is exit 2 and nothing is written", () => {
    const dir = tempDir();
    for (const [args, input, message] of [
      [["--key-passphrase-stdin"], "\nsecret on line 2\n", /--key-passphrase-stdin: the first line of stdin is empty/],
      [["--key-passphrase-stdin"], "", /--key-passphrase-stdin: the first line of stdin is empty/],
      [
        ["--key-passphrase-stdin", "--key-passphrase-env", "PW"],
        "secret\n",
        /--key-passphrase-env and --key-passphrase-stdin both give the passphrase/,
      ],
    ] as const) {
      const r = cli(["ca", "--key-type", "ecdsa-p256", ...args], dir, { PW: "secret" }, input);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /secret/);
      assert.equal(existsSync(join(dir, "certs")), false);
    }
  });
});

describe("key decrypt: a plain copy of an encrypted key (make certs-remove-passphrase)", () => {
  const env = { KEY_FILE_PASSWORD: "s3cret passphrase", WRONG_PW: "nope" };
  let dir: string;
  let encrypted: string;

  before(() => {
    Object.assign(process.env, env);
    dir = tempDir();
    assert.equal(
      cli(["https", "--key-type", "ecdsa-p256", "--key-passphrase-env", "KEY_FILE_PASSWORD", "-q"], dir, env).code,
      0,
    );
    encrypted = join(dir, "certs/key.pem");
  });

  it("writes the plain key with mode 600; openssl opens it without a passphrase and it matches the cert", () => {
    const out = join(dir, "plain/key.pem");
    writeFile(join(dir, "plain/.keep"), "");
    const r = cli(["key", "decrypt", encrypted, "--out", out, "--key-passphrase-env", "KEY_FILE_PASSWORD"], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(read(out), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(mode(out), "600");
    assert.equal(pubOfKey(out), pubOfCert(join(dir, "certs/cert.pem")));
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY/);
  });

  it("by default key-encrypted.pem becomes key.pem, next to it", () => {
    const source = writeFile(join(dir, "mk/key-encrypted.pem"), read(encrypted));
    const r = cli(["key", "decrypt", source, "--key-passphrase-env", "KEY_FILE_PASSWORD", "--json"], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { key: string }).key, join(dir, "mk/key.pem"));
    assert.equal(pubOfKey(join(dir, "mk/key.pem")), pubOfCert(join(dir, "certs/cert.pem")));
  });

  it("opens what openssl encrypts: a traditional PKCS#1 RSA key (make certs-passphrase) and an Ed25519 key", () => {
    const rsa = join(dir, "openssl/rsa-encrypted.pem");
    const ed = join(dir, "openssl/ed25519-encrypted.pem");
    writeFile(join(dir, "openssl/.keep"), "");
    const plainRsa = openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]).stdout;
    assert.equal(
      openssl(["rsa", "-aes256", "-traditional", "-passout", "env:KEY_FILE_PASSWORD", "-out", rsa], plainRsa).code,
      0,
    );
    assert.match(read(rsa), /Proc-Type: 4,ENCRYPTED/);
    assert.equal(
      openssl(["genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "env:KEY_FILE_PASSWORD", "-out", ed]).code,
      0,
    );
    for (const [source, type] of [
      [rsa, "RSA 1024"],
      [ed, "ED25519"],
    ] as const) {
      const r = cli(["key", "decrypt", source, "--key-passphrase-env", "KEY_FILE_PASSWORD", "--json"], dir, env);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout) as { key: string; keyType: string };
      assert.equal(result.keyType, type);
      assert.equal(pubOfKey(result.key), pubOfKey(source, "KEY_FILE_PASSWORD"));
    }
  });

  it("a wrong or missing passphrase, an existing target or a plain key is exit 2, nothing written", () => {
    const target = join(dir, "nothing.pem");
    const cases: Array<[string[], RegExp]> = [
      [
        [encrypted, "--out", target, "--key-passphrase-env", "WRONG_PW"],
        /certs\/key\.pem: wrong passphrase for the encrypted key/,
      ],
      [[encrypted, "--out", target], /no passphrase[\s\S]*--key-passphrase-env VAR or --key-passphrase-stdin/],
      [[encrypted, "--out", target, "--key-passphrase-env", "UNSET_VAR"], /the variable UNSET_VAR is unset or empty/],
      [
        [encrypted, "--out", join(dir, "plain/key.pem"), "--key-passphrase-env", "KEY_FILE_PASSWORD"],
        /already exists; not overwritten/,
      ],
      [
        [join(dir, "plain/key.pem"), "--out", target, "--key-passphrase-env", "KEY_FILE_PASSWORD"],
        /the key is not encrypted/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = cli(["key", "decrypt", ...args], dir, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(existsSync(target), false);
  });
});
