/**
 * The scheduled-check recipes of docs/expiry-and-renewal.md, run as written (issue 28 §2): the
 * GitHub Actions workflow's steps in order, in the directory it names, on a tree made there; the
 * cron lines through `runuser` as the user they name, with cron's PATH. Absolute paths of the
 * recipes (/srv/gateway, /var/log, /var/lib/node_exporter) live under a temp dir; `npx` is a shim
 * running this checkout's bin. The CronJob runs in test/executable.test.ts (it uses the executable).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { cli, docsBlock, npxShim, read, tempDir } from "./helpers.js";

const PAGE = "docs/expiry-and-renewal.md";
/** The recipes' absolute paths, under `root`. */
const relocate = (text: string, root: string): string =>
  text.replace(/(?<![\w./-])\/(srv|var\/log|var\/lib\/node_exporter)\//g, `${root}/$1/`);

/** A gateway project at <root>/srv/gateway with a tree made as root, leaves valid for `days`. */
function deployedGateway(root: string, days: number): string {
  const project = join(root, "srv/gateway");
  mkdirSync(project, { recursive: true });
  const r = cli(["all", "--key-type", "ecdsa-p256", "--days", String(days), "-q"], project);
  assert.equal(r.code, 0, r.stderr);
  return project;
}

interface Step {
  run?: string;
  uses?: string;
  "working-directory"?: string;
}

describe("the GitHub Actions recipe, its steps in order where it says the tree is", () => {
  const workflow = parse(docsBlock(PAGE, "# .github/workflows/certificates.yml")) as {
    jobs: Record<string, { "runs-on": string[]; defaults?: { run?: { "working-directory"?: string } }; steps: Step[] }>;
  };
  const job = Object.values(workflow.jobs)[0]!;
  const shim = npxShim();
  /** Each step as GitHub runs a `run:` step on Linux: bash -eo pipefail, in its working directory. */
  const runJob = (root: string) => {
    let output = "";
    for (const step of job.steps) {
      const dir = relocate(step["working-directory"] ?? job.defaults?.run?.["working-directory"] ?? root, root);
      const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", relocate(step.run!, root)], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: `${shim}:/usr/bin:/bin`, GITHUB_ACTIONS: "true", CI: "true", NO_COLOR: "1", HOME: root },
      });
      output += r.stdout + r.stderr;
      if (r.status !== 0) return { code: r.status, output };
    }
    return { code: 0, output };
  };

  it("runs on the gateway host and checks out nothing: every step is a command", () => {
    assert.ok(job["runs-on"].includes("self-hosted"), "the tree is on the gateway host, not on a hosted runner");
    assert.deepEqual(
      job.steps.filter((s) => s.run === undefined),
      [],
      "a uses: step (actions/checkout) has no tree: the gateway ignores certs/",
    );
  });

  it("passes on a healthy tree, and fails with an annotation naming the cert when one expires within 30 days", () => {
    const healthy = tempDir();
    deployedGateway(healthy, 825);
    const ok = runJob(healthy);
    assert.equal(ok.code, 0, ok.output);
    assert.doesNotMatch(ok.output, /^::(warning|error)/m);

    const expiring = tempDir();
    deployedGateway(expiring, 20);
    const failed = runJob(expiring);
    assert.equal(failed.code, 1, failed.output);
    assert.match(failed.output, /^::(warning|error) file=certs\/mcp\/plugins\/example-plugin-a\/server\.crt,/m);
  });
});

describe("the cron recipe, each line as the user it names", () => {
  const lines = docsBlock(PAGE, "# /etc/cron.d/mtls-certs").split("\n");
  const jobs = lines
    .filter((l) => /^[\d*]/.test(l))
    .map((l) => {
      const [, user, command] = /^(?:\S+\s+){5}(\S+)\s+(.*)$/.exec(l)!;
      return { user: user!, command: command! };
    });
  const runuser = ["/usr/sbin/runuser", "/sbin/runuser"].find((p) => existsSync(p)) ?? "runuser";
  let root = "";
  let shim = "";
  before(() => {
    root = tempDir();
    deployedGateway(root, 825);
    for (const dir of ["var/log", "var/lib/node_exporter/textfile"]) mkdirSync(join(root, dir), { recursive: true });
    shim = npxShim();
  });
  /** cron's environment: PATH=/usr/bin:/bin (here with the npx shim first), sh -c, the user's HOME. */
  const cron = (job: { user: string; command: string }) =>
    spawnSync(runuser, ["-u", job.user, "--", "/bin/sh", "-c", relocate(job.command, root)], {
      encoding: "utf8",
      env: { PATH: `${shim}:/usr/bin:/bin`, SHELL: "/bin/sh", HOME: root, LOGNAME: job.user },
    });

  it("names the tree's owner (root made the tree, as the Compose recipe does)", () => {
    assert.equal(jobs.length, 2);
    for (const job of jobs) assert.equal(job.user, "root");
  });

  it("the nightly renew runs quietly: nothing to renew, nothing printed for cron to mail", () => {
    const r = cron(jobs.find((j) => j.command.includes(" renew "))!);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, "");
    assert.ok(existsSync(join(root, "var/log/mtls-renew.log")));
  });

  it("the 15-minute check leaves whole metrics for node_exporter, which promtool accepts", () => {
    const r = cron(jobs.find((j) => j.command.includes(" check "))!);
    assert.equal(r.status, 0, r.stderr);
    const prom = join(root, "var/lib/node_exporter/textfile/mtls_certs.prom");
    assert.ok(!existsSync(`${prom}.tmp`), "the temp file is renamed");
    const metrics = read(prom);
    assert.match(metrics, /^mtls_certs_expires_in_seconds\{.*name="example-plugin-a".*\} \d+/m);
    const promtool = spawnSync("promtool", ["check", "metrics"], { input: metrics, encoding: "utf8" });
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
  });

  it("the same check line as another user than the tree's owner says so (exit 2), not that the certs are bad", () => {
    const line = jobs.find((j) => j.command.includes(" check "))!;
    // The line up to its redirect (the metrics dir is root's), as uid 1001 (a container user, no
    // passwd entry: setpriv, as runuser needs a name). It may
    // enter the project and run the shim (temp dirs are 0700), as it may /srv/gateway on a host.
    for (const dir of [root, shim]) chmodSync(dir, 0o755);
    const r = spawnSync(
      "setpriv",
      [
        "--reuid=1001",
        "--regid=1001",
        "--clear-groups",
        "/bin/sh",
        "-c",
        relocate(line.command.replace(/\s*>.*$/, ""), root),
      ],
      {
        encoding: "utf8",
        env: { PATH: `${shim}:/usr/bin:/bin`, HOME: root },
      },
    );
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /cannot check as uid 1001: run as the tree's owner \(uid 0\)/);
  });
});
