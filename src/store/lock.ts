/**
 * One writer per tree. Two runs of `all` at once would otherwise each make a CA, and leaves
 * signed by the loser's CA would not verify. The lock is a file holding the owner's pid,
 * hostname, boot id and PID namespace; a lock whose owner is dead is taken over, one breaker at
 * a time.
 */
import { constants, promises as fs, readFileSync, readlinkSync, rmSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_LOCK_WAIT_MS, ENV } from "../defaults.js";
import { MtlsError, errnoCode, fileSystemError } from "../errors.js";
import { fileOperation, removeOnInterrupt } from "./cleanup.js";

/** Locks this process holds, released on SIGINT/SIGTERM. */
const held = new Set<string>();
removeOnInterrupt(held);

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
    releaseNow(lockPath);
  }
}

/**
 * Forgets a lock and removes it in one synchronous step. Done asynchronously, the unlink waited in
 * the thread pool after the lock had left `held`: a SIGTERM in between found nothing to undo, the
 * process ended by the signal, and the lock stayed behind (test/reliability, "SIGTERM at many
 * moments", when the signal met the end of a run). No signal handler can run inside this.
 */
function releaseNow(lockPath: string): void {
  held.delete(lockPath);
  rmSync(lockPath, { force: true });
}

async function acquire(lockPath: string, o: LockOptions): Promise<void> {
  const deadline = Date.now() + (o.waitMs ?? DEFAULT_LOCK_WAIT_MS);
  let waited = false;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    if (await fileOperation(lockPath, () => tryCreate(lockPath))) {
      await removeDeadBreaker(lockPath); // a breaker killed after it removed the stale lock
      return;
    }
    const holder = await readHolder(lockPath);
    if (holder && isStale(holder)) {
      await breakStaleLock(lockPath, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      const waitedFor = `waited ${Math.round((o.waitMs ?? DEFAULT_LOCK_WAIT_MS) / 1000)} s`;
      throw new MtlsError(
        "E_LOCKED",
        `${lockPath}: another mtls-certs (pid ${holder?.pid ?? "unknown"}${holder?.host && holder.host !== hostname() ? ` on ${holder.host}` : holder?.pidNs && holder.pidNs !== pidNamespace() ? ` in PID namespace ${holder.pidNs}` : ""}) is writing this tree; ${waitedFor}`,
        `wait for it to finish, or wait longer with --lock-wait SECONDS (env ${ENV.lockWait}); if no such process exists, remove the lock file`,
      );
    }
    if (!waited) o.onWait?.(String(holder?.pid ?? "unknown"));
    waited = true;
    await sleep(delay);
  }
}

/**
 * Creates the lock with our pid; false when another holds it. The lock joins `held` as soon
 * as it exists, so an interrupt between the open and the write still removes it.
 */
async function tryCreate(lockPath: string): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await fs.open(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  } catch (e) {
    if (errnoCode(e) === "EEXIST") return false;
    throw fileSystemError(lockPath, "create the lock", e);
  }
  held.add(lockPath);
  try {
    await handle.writeFile(`${process.pid}\n${hostname()}\n${bootId() ?? ""}\n${pidNamespace() ?? ""}\n`);
  } catch (e) {
    releaseNow(lockPath);
    throw fileSystemError(lockPath, "write the lock", e);
  } finally {
    await handle.close();
  }
  return true;
}

interface Holder {
  /** Undefined when the file holds no pid: its owner died between creating and writing it. */
  pid: number | undefined;
  host: string;
  /** The kernel's boot id and the holder's PID namespace ("" in locks of older versions). */
  boot: string;
  pidNs: string;
  raw: string;
  ageMs: number;
  /** The file's inode: a lock re-created in the meantime is another lock, even if it reads the same. */
  ino: number;
}

/**
 * A lock file with no pid in it is one whose owner was killed between open(2) and write(2),
 * or one being written right now: only an empty file older than this is taken as stale.
 */
const EMPTY_LOCK_GRACE_MS = 5_000;

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    const [raw, stat] = await Promise.all([fs.readFile(lockPath, "utf8"), fs.stat(lockPath)]);
    const [pidText, host = "", boot = "", pidNs = ""] = raw.split("\n");
    const pid = Number(pidText);
    return {
      pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
      host,
      boot,
      pidNs,
      raw,
      ageMs: Date.now() - stat.mtimeMs,
      ino: stat.ino,
    };
  } catch {
    return undefined; // removed in the meantime: try again
  }
}

/**
 * Dead owner on this host, or an owner that never wrote its pid. A remote pid cannot be checked,
 * and neither can a pid from another PID namespace on this host (a host-network container, a
 * hostNetwork pod: same hostname, other pids): such a lock is stale only after a reboot.
 */
function isStale(holder: Holder): boolean {
  if (holder.pid === undefined) return holder.ageMs > EMPTY_LOCK_GRACE_MS;
  if (holder.host !== hostname()) return false;
  const boot = bootId();
  if (holder.boot !== "" && boot !== undefined && holder.boot !== boot) return true; // rebooted since
  if (holder.pidNs !== "" && holder.pidNs !== (pidNamespace() ?? "")) return false;
  return !isAlive(holder.pid);
}

let cachedBootId: string | undefined | null = null;
/** Linux's id of this boot; undefined elsewhere. */
function bootId(): string | undefined {
  if (cachedBootId === null)
    cachedBootId = readProc(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
  return cachedBootId;
}

let cachedPidNs: string | undefined | null = null;
/** This process's PID namespace (`pid:[4026531836]`); undefined where /proc has none. */
function pidNamespace(): string | undefined {
  if (cachedPidNs === null) cachedPidNs = readProc(() => readlinkSync("/proc/self/ns/pid"));
  return cachedPidNs;
}

function readProc(read: () => string): string | undefined {
  try {
    return read() || undefined;
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
async function breakStaleLock(lockPath: string, stale: Holder): Promise<void> {
  const breaker = breakerOf(lockPath);
  try {
    await fileOperation(breaker, async () => {
      const handle = await fs.open(breaker, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      held.add(breaker); // released with our locks if we are interrupted now
      await handle.close();
    });
  } catch (e) {
    if (e instanceof MtlsError) throw e;
    if (errnoCode(e) !== "EEXIST") throw fileSystemError(breaker, "create", e);
    // Someone else is breaking it; a breaker that died leaves a file older than a few seconds.
    await removeDeadBreaker(lockPath);
    await sleep(20);
    return;
  }
  try {
    const now = await readHolder(lockPath);
    if (now && now.raw === stale.raw && now.ino === stale.ino) await fs.rm(lockPath, { force: true });
  } finally {
    releaseNow(breaker);
  }
}

const breakerOf = (lockPath: string): string => `${lockPath}.break`;
/** A live breaker holds its file for a few milliseconds; one this old belongs to a killed run. */
const DEAD_BREAKER_MS = 10_000;

async function removeDeadBreaker(lockPath: string): Promise<void> {
  const breaker = breakerOf(lockPath);
  const stat = await fs.stat(breaker).catch(() => undefined);
  if (stat && Date.now() - stat.mtimeMs > DEAD_BREAKER_MS) await fs.rm(breaker, { force: true });
}
