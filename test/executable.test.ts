/**
 * The single executable (issue 28 §1): `npm run build:exe` once, then every command family run
 * from a PATH with no node on it, as in the gateway's Python images and cforge's Dagger container.
 * The build is reproducible: a second build elsewhere gives the same bytes.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  ROOT,
  docsBlock,
  openssl,
  pathWithoutNode,
  read,
  tempDir,
  verifyStrict,
  writeFile,
  type Run,
} from "./helpers.js";

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

  describe("in a gateway repository, where docs/installing.md puts it", () => {
    /** A gateway repository in git: its plugin config, and a .gitignore with *.tgz and certs/. */
    const gatewayRepo = (): string => {
      const repo = tempDir();
      writeFile(join(repo, "plugins/external/config.yaml"), "plugins:\n  - name: DenyListPlugin\n    kind: external\n");
      writeFile(join(repo, ".gitignore"), "*.tgz\ncerts/\n");
      const git = (args: string[]) => spawnSync("git", args, { cwd: repo, encoding: "utf8" });
      git(["init", "--quiet"]);
      git([
        "-c",
        "user.email=ci@example.com",
        "-c",
        "user.name=CI",
        "commit",
        "--quiet",
        "--allow-empty",
        "-m",
        "gateway",
      ]);
      return repo;
    };
    const withDownloads = (home: string, tamper = false): void => {
      mkdirSync(join(home, "Downloads"), { recursive: true });
      copyFileSync(exe, join(home, "Downloads", EXE_NAME));
      copyFileSync(join(ROOT, "build/exe/SHA256SUMS"), join(home, "Downloads/SHA256SUMS"));
      if (tamper) writeFileSync(join(home, "Downloads", EXE_NAME), "#!/bin/sh\necho owned\n", { flag: "a" });
    };
    const recipe = docsBlock("docs/installing.md", "mkdir -p tools/mtls-certs\ncp ~/Downloads/mtls-certs-linux-x64");
    const bash = (script: string, cwd: string, home: string) =>
      spawnSync("bash", ["-euo", "pipefail", "-c", script], {
        cwd,
        encoding: "utf8",
        env: {
          PATH: path,
          HOME: home,
          NO_COLOR: "1",
          CI: "1",
          GIT_AUTHOR_NAME: "CI",
          GIT_AUTHOR_EMAIL: "ci@example.com",
          GIT_COMMITTER_NAME: "CI",
          GIT_COMMITTER_EMAIL: "ci@example.com",
        },
      });

    it("the vendoring recipe runs as written: checked, committed, and all makes the tree", () => {
      const repo = gatewayRepo();
      const home = tempDir();
      withDownloads(home);
      const r = bash(recipe, repo, home);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`${EXE_NAME}: OK`));
      const tracked = spawnSync("git", ["ls-files", "tools"], { cwd: repo, encoding: "utf8" }).stdout;
      assert.equal(tracked, `tools/mtls-certs/SHA256SUMS\ntools/mtls-certs/${EXE_NAME}\n`);
      const v = verifyStrict(
        join(repo, "certs/mcp/ca/ca.crt"),
        join(repo, "certs/mcp/plugins/DenyListPlugin/server.crt"),
      );
      assert.equal(v.code, 0, v.stdout + v.stderr);
    });

    it("a file that is not the release's stops the recipe at sha256sum -c: nothing committed, nothing run", () => {
      const repo = gatewayRepo();
      const home = tempDir();
      withDownloads(home, true);
      const r = bash(recipe, repo, home);
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /FAILED/);
      assert.equal(spawnSync("git", ["ls-files", "tools"], { cwd: repo, encoding: "utf8" }).stdout, "");
      assert.ok(!existsSync(join(repo, "certs")));
    });

    it("make certs-mcp-all and certs-mcp-check run it when no node is on PATH (cforge --dagger)", () => {
      const repo = gatewayRepo();
      mkdirSync(join(repo, "tools/mtls-certs"), { recursive: true });
      copyFileSync(exe, join(repo, "tools/mtls-certs", EXE_NAME));
      writeFile(join(repo, "mcp-certs.mk"), ok(["export", "makefile"], repo));
      writeFile(join(repo, "Makefile"), "include mcp-certs.mk\n");
      // An EC CA first (RSA-4096 costs the shared CPU); make then adds the gateway and the plugin.
      ok(["ca", "--key-type", "ecdsa-p256", "-q"], repo);
      const make = (target: string) =>
        spawnSync("make", ["--no-print-directory", target], { cwd: repo, encoding: "utf8", env: { PATH: path } });
      const all = make("certs-mcp-all");
      assert.equal(all.status, 0, all.stdout + all.stderr);
      assert.match(all.stdout, new RegExp(`^tools/mtls-certs/${EXE_NAME} all `, "m"));
      const v = verifyStrict(
        join(repo, "certs/mcp/ca/ca.crt"),
        join(repo, "certs/mcp/plugins/DenyListPlugin/server.crt"),
      );
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const check = make("certs-mcp-check");
      assert.equal(check.status, 0, check.stdout + check.stderr);
      // Without the executable either: make says what to install, and fails.
      rmSync(join(repo, "tools"), { recursive: true });
      const none = make("certs-mcp-check");
      assert.notEqual(none.status, 0);
      assert.match(none.stderr, /is not installed: .*tools\/mtls-certs\/mtls-certs-linux-/);
    });
  });

  it("the CronJob's command runs, with the image's executable as mtls-certs and the tree at its mount", () => {
    const dockerfile = docsBlock("docs/expiry-and-renewal.md", "FROM debian:bookworm-slim");
    assert.match(dockerfile, new RegExp(`^COPY tools/mtls-certs/${EXE_NAME} /usr/local/bin/mtls-certs$`, "m"));
    const cronJob = parse(docsBlock("docs/expiry-and-renewal.md", "apiVersion: batch/v1\nkind: CronJob")) as {
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: { containers: Array<{ command: string[]; volumeMounts: Array<{ mountPath: string }> }> };
            };
          };
        };
      };
    };
    const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0]!;
    const mount = container.volumeMounts[0]!.mountPath;
    // The volume: a tree made elsewhere, at <temp><mountPath>; /usr/local/bin holds the executable.
    const root = tempDir();
    ok(["all", "--key-type", "ecdsa-p256", "--out", join(root, mount, "mcp"), "-q"], root);
    const bin = join(root, "usr/local/bin");
    mkdirSync(bin, { recursive: true });
    copyFileSync(exe, join(bin, "mtls-certs"));
    const [command, ...args] = container.command.map((a) => (a.startsWith(`${mount}/`) ? join(root, a) : a));
    const r = spawnSync(command!, args, { cwd: root, encoding: "utf8", env: { PATH: `${bin}:${path}` } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /4 certificates in .*; all ok/);
  });
});
