/**
 * Progress never wedges a run: `all`, `renew` and `check` under a real pseudo-terminal (util-linux
 * `script`) that reports 0 columns or a normal width, under TERM=dumb, CI=true and piped. ora 8.2
 * looped forever on 0 columns (hundreds of MB of log, SIGTERM never handled, the lock left).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BIN, cli, tempDir } from "./helpers.js";

const hasScript = spawnSync("script", ["--version"]).status === 0;
/** A whole `all` + `renew` + `check` writes a few KB; a spinning loop writes MBs in a second. */
const SMALL = 16 * 1024;
const SPINNER_GLYPH = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

interface TermRun {
  code: number | null;
  output: string;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** The environment of a person at a terminal: no CI, colour allowed, no MCP_* leaking in. */
function terminalEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color", MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "" };
  delete env.CI;
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return { ...env, ...extra };
}

/** `mtls-certs …args` on a pseudo-terminal `cols` wide; stdin is /dev/null as in a CI job. */
function underScript(args: string[], cwd: string, cols: number, env: NodeJS.ProcessEnv = {}): TermRun {
  const command = `stty cols ${cols} rows 24; exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(" ")}`;
  const r = spawnSync("script", ["-q", "-e", "-c", command, "/dev/null"], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: terminalEnv(env),
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, output: (r.stdout ?? "") + (r.stderr ?? "") };
}

function listFiles(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

const TEMP_OR_LOCK = /\.tmp-|\.mtls-certs\.lock/;
const EC = ["--key-type", "ecdsa-p256"];

const settings: ReadonlyArray<{ name: string; run: (args: string[], cwd: string) => TermRun; spinner: boolean }> = [
  { name: "a terminal of 0 columns", run: (a, cwd) => underScript(a, cwd, 0), spinner: false },
  { name: "a terminal of 80 columns", run: (a, cwd) => underScript(a, cwd, 80), spinner: true },
  { name: "TERM=dumb", run: (a, cwd) => underScript(a, cwd, 80, { TERM: "dumb" }), spinner: false },
  { name: "CI=true", run: (a, cwd) => underScript(a, cwd, 80, { CI: "true" }), spinner: false },
  {
    name: "a pipe",
    run: (a, cwd) => {
      const r = cli(a, cwd, { CI: "", NO_COLOR: "" });
      return { code: r.code, output: r.stdout + r.stderr };
    },
    spinner: false,
  },
];

describe("progress never blocks a run", { skip: !hasScript && "util-linux script is not installed" }, () => {
  for (const setting of settings) {
    it(`all, renew and check finish on ${setting.name}, with small output`, () => {
      const cwd = tempDir("mtls-progress-");
      const root = join(cwd, "certs/mcp");
      const all = setting.run(["all", ...EC], cwd);
      assert.equal(all.code, 0, all.output.slice(0, 2000));
      assert.match(all.output, /4 created/);
      const renew = setting.run(["renew", "--force"], cwd);
      assert.equal(renew.code, 0, renew.output.slice(0, 2000));
      assert.match(renew.output, /3 renewed/);
      const check = setting.run(["check"], cwd);
      assert.equal(check.code, 0, check.output.slice(0, 2000));
      for (const [name, r] of Object.entries({ all, renew, check }))
        assert.ok(r.output.length < SMALL, `${name} wrote ${r.output.length} bytes`);
      // A spinner only where it is safe; plain lines (the same messages) everywhere else.
      assert.equal(SPINNER_GLYPH.test(all.output + renew.output), setting.spinner, all.output);
      if (!setting.spinner) assert.match(all.output, /generating 4 ecdsa-p256 keys/);
      assert.deepEqual(
        listFiles(root).filter((f) => TEMP_OR_LOCK.test(f)),
        [],
      );
    });
  }

  it("SIGTERM during RSA 4096 key generation on a 0-column terminal: exit 143, no temp file or lock", async () => {
    const cwd = tempDir("mtls-progress-");
    const root = join(cwd, "certs/mcp");
    const pidFile = join(cwd, "pid");
    // exec: the shell's pid becomes mtls-certs' pid, so the signal goes to it and not to script.
    const command = `echo $$ > pid; stty cols 0 rows 24; exec ${quote(process.execPath)} ${quote(BIN)} all --key-type rsa4096 --jobs 1`;
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: terminalEnv({}),
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((res) => child.on("close", (code) => res(code)));
    const end = Date.now() + 30_000;
    while (!/generating/.test(output) && Date.now() < end) await sleep(20);
    assert.match(output, /generating/, "key generation started");
    assert.ok(existsSync(join(root, ".mtls-certs.lock")), "the lock is held while keys are generated");
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    process.kill(pid, "SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 143, output.slice(0, 2000));
    assert.match(output, /interrupted; temp files removed/);
    assert.ok(output.length < SMALL, `${output.length} bytes of output`);
    assert.deepEqual(
      listFiles(root).filter((f) => TEMP_OR_LOCK.test(f)),
      [],
    );
  });
});
