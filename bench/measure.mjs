// How `npm run bench` times one command: its wall time, and its CPU time (user + system of the
// command and its children) where /usr/bin/time exists. On a loaded machine both sides' wall
// times stretch and vary from run to run, their CPU times much less, so the bench prints both.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const cpuDir = mkdtempSync(join(tmpdir(), "mtls-bench-cpu-"));
process.on("exit", () => rmSync(cpuDir, { recursive: true, force: true }));
const cpuFile = join(cpuDir, "cpu");

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
export const walls = (xs) => xs.map((x) => x.ms);

/**
 * Runs `cmd` and returns its wall time and CPU time in ms (NaN without /usr/bin/time) and, with
 * `stdout: true`, its output (else it is dropped: check --json over 2,000 certs is megabytes);
 * throws when it exits with another code than those in `ok`.
 */
export function measure(cmd, args, { cwd, env, ok = [0], stdout = false }) {
  const [file, argv] = gnuTime ? [gnuTime, ["-f", "%U %S", "-o", cpuFile, cmd, ...args]] : [cmd, args];
  const t = performance.now();
  const r = spawnSync(file, argv, {
    cwd,
    env,
    stdio: ["ignore", stdout ? "pipe" : "ignore", "pipe"],
    encoding: "utf8",
  });
  const ms = performance.now() - t;
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}) in ${cwd}: ${r.stderr}`);
  // A failing command makes GNU time write "Command exited with non-zero status N" first.
  const cpu = gnuTime
    ? readFileSync(cpuFile, "utf8")
        .trim()
        .split("\n")
        .pop()
        .split(" ")
        .map(Number)
        .reduce((a, b) => a + b, 0) * 1000
    : Number.NaN;
  return { ms, cpu, stdout: stdout ? r.stdout.trim() : "" };
}

/** " (CPU a vs b)": the median CPU time of each side, or nothing without /usr/bin/time. */
export const cpuNote = (...sides) =>
  gnuTime ? ` (CPU ${sides.map((xs) => seconds(median(xs.map((x) => x.cpu)))).join(" vs ")})` : "";

/** " (CPU 1.07x)": the ratio of the two sides' median CPU times, or nothing without /usr/bin/time. */
export const cpuRatio = (a, b) =>
  gnuTime ? ` (CPU ${(median(a.map((x) => x.cpu)) / median(b.map((x) => x.cpu))).toFixed(2)}x)` : "";
