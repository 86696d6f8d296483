/**
 * One writer per tree. Two runs of `all` at once would otherwise each make a CA, and leaves
 * signed by the loser's CA would not verify. The lock is a file holding the owner's pid; a lock
 * whose owner is dead is taken over, one breaker at a time.
 */
import { constants, promises as fs, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_LOCK_WAIT_MS } from "../defaults.js";
import { MtlsError, errnoCode } from "../errors.js";
import { onInterrupt } from "./cleanup.js";

/** Locks this process holds, released by `releaseLocksSync` from a signal handler. */
const held = new Set<string>();
onInterrupt(releaseLocksSync);

export interface LockOptions {
  waitMs?: number;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: (holder: string) => void;
}

export async function withLock<T>(lockPath: string, work: () => Promise<T>, o: LockOptions = {}): Promise<T> {
  if (held.has(lockPath)) return work(); // re-entrant within one process (all → ca)
  await acquire(lockPath, o);
  try {
    return await work();
  } finally {
    held.delete(lockPath);
    await fs.rm(lockPath, { force: true });
  }
}

async function acquire(lockPath: string, o: LockOptions): Promise<void> {
  const deadline = Date.now() + (o.waitMs ?? DEFAULT_LOCK_WAIT_MS);
  let waited = false;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      const handle = await fs.open(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      await handle.writeFile(`${process.pid}\n${hostname()}\n`);
      await handle.close();
      held.add(lockPath);
      return;
    } catch (e) {
      if (errnoCode(e) !== "EEXIST") throw new MtlsError("E_IO", `${lockPath}: cannot create the lock (${errnoCode(e) ?? String(e)})`);
    }
    const holder = await readHolder(lockPath);
    if (holder && !isAlive(holder.pid) && holder.host === hostname()) {
      await breakStaleLock(lockPath, holder.raw);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new MtlsError(
        "E_LOCKED",
        `${lockPath}: another mtls-certs (pid ${holder?.pid ?? "unknown"}) is writing this tree`,
        "wait for it to finish; if no such process exists, remove the lock file",
      );
    }
    if (!waited) o.onWait?.(String(holder?.pid ?? "unknown"));
    waited = true;
    await sleep(delay);
  }
}

async function readHolder(lockPath: string): Promise<{ pid: number; host: string; raw: string } | undefined> {
  try {
    const raw = await fs.readFile(lockPath, "utf8");
    const [pidText, host = ""] = raw.split("\n");
    const pid = Number(pidText);
    // A lock file still being written by its owner reads empty: treat it as alive.
    return Number.isInteger(pid) && pid > 0 ? { pid, host, raw } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === "EPERM"; // exists, owned by someone else
  }
}

/**
 * Only one process may break a stale lock: the `.break` file is the breaker's own lock. Without
 * it, two waiters could both remove the dead owner's lock, and the second would remove the
 * fresh lock the first had just taken.
 */
async function breakStaleLock(lockPath: string, staleContent: string): Promise<void> {
  const breaker = `${lockPath}.break`;
  try {
    const handle = await fs.open(breaker, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
    await handle.close();
  } catch {
    // Someone else is breaking it; a breaker that died leaves a file older than a few seconds.
    const stat = await fs.stat(breaker).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > 10_000) await fs.rm(breaker, { force: true });
    await sleep(20);
    return;
  }
  try {
    const now = await fs.readFile(lockPath, "utf8").catch(() => undefined);
    if (now === staleContent) await fs.rm(lockPath, { force: true });
  } finally {
    await fs.rm(breaker, { force: true });
  }
}

/** For signal handlers: drop our locks so the next run does not have to wait or break them. */
export function releaseLocksSync(): void {
  for (const lockPath of held) {
    try {
      unlinkSync(lockPath);
    } catch {
      // already gone
    }
  }
  held.clear();
}
