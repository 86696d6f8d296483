/**
 * How many times a CLI run opens each file under a directory, counted with strace: the proof that
 * a command reads the tree once (issue 24: "each file of the tree is opened at most once"), not a
 * wrapper over the old reads. A helper module, no tests of its own: check's cases are in
 * open-once.test.ts; renew's can use the same `opensDuring`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { BIN, cliEnv, tempDir } from "./helpers.js";

/** True when strace runs here (CI installs it: .ci/run). */
export const HAS_STRACE = spawnSync("strace", ["-V"]).status === 0;

/** The path each open(2), openat(2) or openat2(2) of a trace names: its first string argument. */
const OPEN_CALL = /\b(?:open|openat|openat2)\((?:AT_FDCWD, |\d+, )?"((?:[^"\\]|\\.)*)"/;

export interface OpenCount {
  /** The run's exit code. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Absolute path → the number of open calls that named it (failed ones too: ENOENT counts), under `under` only. */
  opens: Map<string, number>;
}

/**
 * Runs `mtls-certs ...args` in `cwd` under `strace -f` (every thread: libuv's pool opens the
 * files, and check's worker threads) and counts the opens of each path below `under`.
 */
export function opensDuring(args: readonly string[], cwd: string, under: string): OpenCount {
  const trace = join(tempDir("mtls-certs-strace-"), "trace.txt");
  const r = spawnSync(
    "strace",
    ["-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace, process.execPath, BIN, ...args],
    { cwd, encoding: "utf8", env: cliEnv({}), maxBuffer: 64 * 1024 * 1024 },
  );
  const root = resolve(under);
  const opens = new Map<string, number>();
  for (const line of readFileSync(trace, "utf8").split("\n")) {
    // A call split by another thread ("<unfinished ...>", then "resumed>") names its path once, in its first half.
    const path = OPEN_CALL.exec(line)?.[1];
    if (path === undefined) continue;
    const absolute = resolve(cwd, path);
    if (absolute !== root && !absolute.startsWith(root + sep)) continue;
    opens.set(absolute, (opens.get(absolute) ?? 0) + 1);
  }
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", opens };
}

/** The paths opened more than once, with their counts, for an assertion message. */
export function openedTwice(opens: ReadonlyMap<string, number>): string[] {
  return [...opens].filter(([, n]) => n > 1).map(([path, n]) => `${path}: opened ${n} times`);
}
