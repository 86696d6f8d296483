/**
 * A key file matches its cert by its private part, never by the public part it carries: keys
 * forged with openssl's own ASN.1 generator (`asn1parse -genconf`) put a leaf cert's public key
 * over another key's private part (the CA's, for the EC one).
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, openssl, pluginConfig, tempDir, writeFile } from "./helpers.js";

const EC = ["--key-type", "ecdsa-p256"];

/** The hex of one field of `openssl ... -text -noout` output (`priv:`, `pub:`, `prime1:`), without colons. */
function field(text: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(?:[0-9]+ \\(0x[0-9a-f]+\\))?\\n((?:\\s+[0-9a-f:]+\\n)+)`, "m").exec(text);
  assert.ok(m, `no ${name} in\n${text}`);
  return m[1]!.replace(/[\s:]/g, "");
}

/** A PKCS#8 PEM from an `asn1parse -genconf` config whose top section is [pkcs8]. */
function genconfKey(dir: string, name: string, config: string): string {
  const conf = writeFile(join(dir, `${name}.cnf`), `asn1=SEQUENCE:pkcs8\n${config}`);
  const der = join(dir, `${name}.der`);
  const r = openssl(["asn1parse", "-genconf", conf, "-out", der, "-noout"]);
  assert.equal(r.code, 0, r.stderr);
  const base64 = readFileSync(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN PRIVATE KEY-----\n${base64}\n-----END PRIVATE KEY-----\n`;
}

/** A P-256 key that carries `pointHex` (04 || x || y) as its public point over the scalar `dHex`. */
function forgedEcKey(dir: string, dHex: string, pointHex: string): string {
  return genconfKey(
    dir,
    "forged-ec",
    `[pkcs8]\nversion=INTEGER:0\nalgorithm=SEQUENCE:alg\nkey=OCTWRAP,SEQUENCE:ec\n` +
      `[alg]\noid=OID:id-ecPublicKey\ncurve=OID:prime256v1\n` +
      `[ec]\nversion=INTEGER:1\npriv=FORMAT:HEX,OCTETSTRING:${dHex.slice(-64).padStart(64, "0")}\n` +
      `pub=EXPLICIT:1,FORMAT:HEX,BITSTRING:${pointHex}\n`,
  );
}

describe("a key file is matched to its cert by its private part (key-match.ts)", () => {
  let base: string;
  before(() => {
    base = join(tempDir(), "t");
    const cwd = tempDir();
    writeFile(join(cwd, "config.yaml"), pluginConfig([{ name: "evil" }]));
    const made = cli(["all", ...EC, "--config", "config.yaml", "--out", base, "-q"], cwd);
    assert.equal(made.code, 0, made.stderr);
    const rsa = cli(["plugin", "rsa", "--key-type", "rsa2048", "--out", base, "-q"], cwd);
    assert.equal(rsa.code, 0, rsa.stderr);
  });
  const fresh = (): { cwd: string; tree: string } => {
    const cwd = tempDir();
    const tree = join(cwd, "t");
    cpSync(base, tree, { recursive: true });
    return { cwd, tree };
  };
  const checkLine = (stdout: string, name: string) => stdout.split("\n").find((l) => l.includes(` ${name} `)) ?? "";

  it("the CA's private scalar under a leaf's public point: check says it does not match; --reuse-key and export p12 refuse it as the CA's key (failed before)", () => {
    const { cwd, tree } = fresh();
    const leaf = join(tree, "plugins/evil");
    const caPriv = field(openssl(["pkey", "-in", join(tree, "ca/ca.key"), "-text", "-noout"]).stdout, "priv");
    const pub = openssl(["x509", "-in", join(leaf, "server.crt"), "-noout", "-pubkey"]).stdout;
    const point = field(openssl(["pkey", "-pubin", "-text", "-noout"], pub).stdout, "pub");
    const forged = forgedEcKey(cwd, caPriv, point);
    writeFileSync(join(leaf, "server.key"), forged, { mode: 0o600 });
    // What openssl itself says of the file: it carries the cert's public key, and is no valid pair.
    assert.equal(openssl(["pkey", "-pubout"], forged).stdout, pub, "the forged key carries the leaf's public key");
    assert.notEqual(openssl(["pkey", "-check", "-noout"], forged).code, 0, "openssl's pairwise check refuses it");

    const check = cli(["check", "--out", tree], cwd);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /plugins\/evil\/server\.key: does not match the certificate/);
    assert.match(checkLine(check.stdout, "gateway"), / ok$/, "the other leaves are ok");

    const renew = cli(["renew", "--force", "--reuse-key", "evil", "--out", tree, "--json"], cwd);
    assert.equal(renew.code, 2, renew.stdout + renew.stderr);
    assert.match(renew.stdout, /server\.key: is the private key of .*ca\.crt/);
    const p12 = cli(
      ["export", "p12", "evil", "--out", tree, "-o", join(cwd, "evil.p12"), "--password-env", "PW"],
      cwd,
      {
        PW: "pw",
      },
    );
    assert.equal(p12.code, 2, p12.stdout + p12.stderr);
    assert.match(p12.stderr, /server\.key: is the private key of .*ca\.crt/);
  });

  it("an RSA key carrying the cert's modulus over another key's primes: check says it does not match (failed before)", () => {
    const { cwd, tree } = fresh();
    const leaf = join(tree, "plugins/rsa");
    const other = openssl(["genrsa", "2048"]).stdout;
    const text = openssl(["rsa", "-text", "-noout"], other).stdout;
    const modulus = /Modulus=([0-9A-F]+)/.exec(
      openssl(["x509", "-in", join(leaf, "server.crt"), "-noout", "-modulus"]).stdout,
    )![1]!;
    const int = (hex: string) => `INTEGER:0x${hex.toUpperCase()}`;
    const forged = genconfKey(
      cwd,
      "forged-rsa",
      `[pkcs8]\nversion=INTEGER:0\nalgorithm=SEQUENCE:alg\nkey=OCTWRAP,SEQUENCE:rsa\n` +
        `[alg]\noid=OID:rsaEncryption\nparams=NULL\n` +
        `[rsa]\nversion=INTEGER:0\nn=${int(modulus)}\ne=INTEGER:65537\n` +
        ["privateExponent", "prime1", "prime2", "exponent1", "exponent2", "coefficient"]
          .map((f, i) => `f${i}=${int(field(text, f))}\n`)
          .join(""),
    );
    writeFileSync(join(leaf, "server.key"), forged, { mode: 0o600 });
    const certModulus = openssl(["x509", "-in", join(leaf, "server.crt"), "-noout", "-modulus"]).stdout;
    assert.equal(openssl(["rsa", "-noout", "-modulus"], forged).stdout, certModulus, "it carries the cert's modulus");

    const check = cli(["check", "--out", tree], cwd);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /plugins\/rsa\/server\.key: does not match the certificate/);
  });

  it("the real keys in other shapes openssl writes (SEC1, PKCS#1) still match: check exit 0", () => {
    const { cwd, tree } = fresh();
    for (const [dir, args] of [
      ["plugins/evil", ["ec"]],
      ["plugins/rsa", ["rsa", "-traditional"]],
    ] as const) {
      const key = join(tree, dir, "server.key");
      const r = openssl([...args, "-in", key, "-out", key]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(readFileSync(key, "utf8"), /BEGIN PRIVATE KEY/, "no longer PKCS#8");
    }
    const check = cli(["check", "--out", tree], cwd);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});
