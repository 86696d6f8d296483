/**
 * The single executable (issue 28 §1): `npm run build:exe` once, then every command family run
 * from a PATH with no node on it, as in the gateway's Python images and cforge's Dagger container.
 * The build is reproducible: a second build elsewhere gives the same bytes.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, readFileSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ROOT, openssl, read, tempDir, verifyStrict, writeFile, type Run } from "./helpers.js";

const EXE_NAME = `mtls-certs-${process.platform}-${process.arch}`;
const { version } = JSON.parse(read(join(ROOT, "package.json"))) as { version: string };

/** `node scripts/build-exe.mjs [dir]`: the executable and its SHA256SUMS in dir. */
function buildExe(dir?: string): void {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/build-exe.mjs"), ...(dir ? [dir] : [])], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
}

/**
 * A directory standing for /usr/bin and /bin without node, npm, npx and corepack: the PATH of a
 * machine with no Node (node is /usr/bin/node here, so `env -i PATH=/usr/bin:/bin` would find it).
 */
export function pathWithoutNode(): string {
  const bin = tempDir("mtls-certs-no-node-");
  for (const dir of ["/usr/bin", "/bin"])
    for (const name of readdirSync(dir)) {
      if (/^(node|nodejs|npm|npx|corepack)$/.test(name)) continue;
      try {
        symlinkSync(join(dir, name), join(bin, name));
      } catch {
        // /bin is /usr/bin on merged-/usr systems: the name is already there
      }
    }
  return bin;
}

describe("the single executable, with no node on PATH", () => {
  let exe = "";
  let path = "";
  /** The executable with only the no-node PATH in its environment (env -i), in `cwd`. */
  const run = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, input?: string): Run => {
    const r = spawnSync(exe, args, {
      cwd,
      input,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: path, HOME: cwd, NO_COLOR: "1", CI: "1", ...env },
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, input?: string): string => {
    const r = run(args, cwd, env, input);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  before(() => {
    buildExe();
    // A copy outside the repository, as a user would have it: nothing next to it to read.
    const bin = tempDir();
    exe = join(bin, EXE_NAME);
    copyFileSync(join(ROOT, "build/exe", EXE_NAME), exe);
    chmodSync(exe, 0o755);
    path = pathWithoutNode();
  });

  it("the PATH has no node, and the executable says its version", () => {
    const which = spawnSync("sh", ["-c", "command -v node || command -v nodejs"], { env: { PATH: path } });
    assert.notEqual(which.status, 0, `node found on the test PATH: ${which.stdout}`);
    assert.equal(ok(["--version"], tempDir()).trim(), version);
  });

  it("is reproducible: a second build gives the same bytes, and SHA256SUMS checks with sha256sum -c", () => {
    const again = tempDir();
    buildExe(again);
    assert.ok(readFileSync(join(again, EXE_NAME)).equals(readFileSync(join(ROOT, "build/exe", EXE_NAME))));
    const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: join(ROOT, "build/exe"), encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.equal(check.stdout, `${EXE_NAME}: OK\n`);
    assert.match(read(join(again, "SHA256SUMS")), new RegExp(`^# mtls-certs ${version}, .*Node ${process.version}`));
  });

  it("all makes 600 plugin certs from the config; check goes over them on worker threads", () => {
    const project = tempDir();
    const plugins = Array.from({ length: 600 }, (_, i) => `  - name: p${i}\n    kind: external\n`);
    writeFile(join(project, "plugins/external/config.yaml"), `plugins:\n${plugins.join("")}`);
    ok(["all", "--key-type", "ecdsa-p256", "--quiet"], project);
    verifyStrict(join(project, "certs/mcp/ca/ca.crt"), join(project, "certs/mcp/plugins/p599/server.crt"));
    // A key others can read, in the last slice (a worker's): check must find it there.
    chmodSync(join(project, "certs/mcp/plugins/p599/server.key"), 0o644);
    const r = run(["check", "--json"], project);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { certificates: Array<{ name: string; status: string }> };
    assert.equal(report.certificates.filter((c) => /^p\d+$/.test(c.name)).length, 600);
    assert.deepEqual(
      report.certificates.filter((c) => c.status !== "ok").map((c) => c.name),
      ["p599"],
    );
  });

  describe("every other command family on one tree", () => {
    let project = "";
    let tree = "";
    before(() => {
      project = tempDir();
      tree = join(project, "certs/mcp");
      ok(["ca", "--key-type", "ecdsa-p256", "--intermediate", "-q"], project);
      ok(["all", "--key-type", "ecdsa-p256", "-q"], project);
      ok(["server", "web", "--key-type", "ecdsa-p256", "-q"], project);
      ok(["client", "backend", "--key-type", "ecdsa-p256", "-q"], project);
    });

    it("renew, revoke, crl, list", () => {
      const before = read(join(tree, "plugins/example-plugin-a/server.crt"));
      // Every leaf is within 900 days of its end: renewed, for 1000 days, so none is left expiring.
      ok(["renew", "--within", "900", "--days", "1000", "example-plugin-a", "-q"], project);
      const after = read(join(tree, "plugins/example-plugin-a/server.crt"));
      assert.notEqual(after, before);
      verifyStrict(join(tree, "ca/ca.crt"), join(tree, "plugins/example-plugin-a/server.crt"));
      ok(["revoke", "backend", "-q"], project);
      ok(["crl", "-q"], project);
      const crl = openssl(["crl", "-in", join(tree, "ca/ca.crl"), "-noout", "-text"]);
      assert.equal(crl.code, 0, crl.stderr);
      assert.match(crl.stdout, /Serial Number:/);
      assert.match(ok(["list"], project), /revoked/);
    });

    it("sign, verify, inspect, fingerprint, https, jwt", () => {
      const keyFile = join(project, "csr.key");
      assert.equal(openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]).code, 0);
      const csr = openssl(["req", "-new", "-key", keyFile, "-subj", "/CN=signed.example"]).stdout;
      writeFile(join(project, "req.csr"), csr);
      ok(["sign", "req.csr", "server", "signed", "--san", "signed.example"], project);
      verifyStrict(join(tree, "ca/ca.crt"), join(tree, "servers/signed/server.crt"));
      assert.match(ok(["verify", "web", "--host", "web"], project), /web/);
      assert.match(ok(["inspect", join(tree, "gateway/client.crt")], project), /mcp-gateway-client/);
      const fingerprint = openssl(["x509", "-in", join(tree, "ca/ca.crt"), "-noout", "-fingerprint", "-sha256"]);
      const hex = fingerprint.stdout.split("=")[1]!.trim();
      assert.ok(ok(["fingerprint", join(tree, "ca/ca.crt")], project).includes(hex));
      ok(["https", "--key-type", "ecdsa-p256", "-q"], project);
      ok(["jwt", "-q"], project);
      assert.equal(statSync(join(project, "certs/jwt/private.pem")).mode & 0o777, 0o600);
    });

    it("every export kind, each loading its own code", () => {
      const exports: Array<[string[], RegExp]> = [
        [["export", "nginx", "--server", "web"], /ssl_verify_client on;/],
        [["export", "haproxy", "--server", "web"], /verify required/],
        [["export", "caddy", "--server", "web"], /require_and_verify/],
        [["export", "k8s"], /kind: Secret/],
        [["export", "istio"], /name: cacerts/],
        [["export", "gateway-api", "--server", "web"], /kind: Gateway/],
        [["export", "env", "--gateway"], /PLUGINS_CLIENT_MTLS_CERTFILE=/],
        [["export", "plugin-tls", "--plugin", "example-plugin-a"], /certfile:/],
        [["export", "makefile"], /^certs-mcp-all:/m],
        [["export", "prometheus-rules"], /MtlsCertExpired/],
      ];
      for (const [args, expected] of exports) assert.match(ok([...args, "-q"], project), expected, args.join(" "));
      ok(["export", "p12", "web", "-o", "web.p12", "--p12-password-env", "P12", "-q"], project, { P12: "pw" });
      const p12 = openssl(["pkcs12", "-in", join(project, "web.p12"), "-nokeys", "-passin", "pass:pw"]);
      assert.equal(p12.code, 0, p12.stderr);
    });
  });
});
