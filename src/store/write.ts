/**
 * The write path for every file mtls-certs makes. A file is written to a temp file in its own
 * directory, opened O_CREAT|O_EXCL with its final mode (a key is 0600 from its first byte,
 * whatever the umask), fsynced, then linked or renamed into place and the directory fsynced:
 * after a crash a file is either whole or absent, and never world-readable on the way.
 */
import { constants, promises as fs, readdirSync, type Dirent, type Stats } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { MtlsError, errnoCode, fileSystemError } from "../errors.js";
import { fileOperation, removeOnInterrupt } from "./cleanup.js";
import { fileKind, symlinkRefused } from "./leaf-file.js";
import { statFacts, type FileRead, type StatFacts } from "./file-facts.js";

/** Reads live in leaf-file.ts (by descriptor, capped); re-exported for the modules that write too. */
export {
  type OpenOptions as ReadOptions,
  fileKind,
  readBytes,
  readCertText,
  readKeyText,
  readText,
  symlinkRefused,
} from "./leaf-file.js";

/** Key modes and who may read a key: src/store/key-mode.ts. */
export { KEY_MODE } from "./key-mode.js";
export const CERT_MODE = 0o644;
export const DIR_MODE = 0o755;

const TEMP_PATTERN = /^\..+\.tmp-\d+-[0-9a-f]{8}$/;

/** Temp files this process has open; removed on SIGINT/SIGTERM. */
const ownTemps = new Set<string>();
removeOnInterrupt(ownTemps);

export interface WriteOptions {
  mode: number;
  /** Replace an existing file (renewal). Default: fail rather than touch what the user has. */
  replace?: boolean;
  /** Group of the file, set before its first byte (a 0640 key shared with a container's group). */
  group?: number;
  /**
   * Where the caller keeps the files it holds (renew, for its closing check): once in place, the
   * file is recorded there as read, with the text written and the fstat of the descriptor that
   * wrote it (its real mode and owner), so it need not be opened again.
   */
  known?: Map<string, FileRead>;
}

export function writeFileAtomically(path: string, data: string | Uint8Array, o: WriteOptions): Promise<void> {
  // Tracked, so that SIGINT/SIGTERM waits for it to finish (and remove its temp file) before exit.
  return fileOperation(path, () => writeThroughTemp(path, data, o));
}

async function writeThroughTemp(path: string, data: string | Uint8Array, o: WriteOptions): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  ownTemps.add(temp);
  let written: StatFacts | undefined;
  try {
    const handle = await fs.open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, o.mode);
    try {
      // The umask can only take bits away from `mode`; put back what it took (644 for certs).
      if (o.group !== undefined) await handle.chown(-1, o.group);
      await handle.chmod(o.mode);
      await handle.writeFile(data);
      await handle.sync();
      if (o.known) written = statFacts(await handle.stat());
    } finally {
      await handle.close();
    }
    if (o.replace) await fs.rename(temp, path);
    else await linkNoClobber(temp, path);
    await syncDirectory(dir);
    if (o.known && written)
      o.known.set(path, {
        path,
        found: "read",
        stat: written,
        text: typeof data === "string" ? data : Buffer.from(data).toString("utf8"),
      });
  } catch (e) {
    if (e instanceof MtlsError) throw e;
    throw fileSystemError(path, "write", e);
  } finally {
    await fs.rm(temp, { force: true });
    ownTemps.delete(temp);
  }
}

/** link(2) fails with EEXIST instead of replacing: the no-overwrite rule holds even in a race. */
async function linkNoClobber(temp: string, path: string): Promise<void> {
  try {
    await fs.link(temp, path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === "EEXIST") throw new MtlsError("E_IO", `${path}: already exists; not overwritten`);
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
    // File systems without hard links: the tree lock already keeps other writers out.
    if (await exists(path)) throw new MtlsError("E_IO", `${path}: already exists; not overwritten`);
    await fs.rename(temp, path);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await handle.close();
  }
}

/**
 * Makes `dir` and its missing parents, one level at a time rather than with mkdir's recursive
 * flag: a failure then names the directory that could not be made and why (a recursive mkdir
 * under a read-only mount reports ENOENT, which sends the user looking for a missing file).
 */
export async function ensureDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    let stat: Stats | undefined;
    try {
      stat = await fs.stat(d);
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw fileSystemError(d, "read", e);
    }
    if (stat !== undefined) {
      if (!stat.isDirectory())
        throw new MtlsError(
          "E_FILE_SYSTEM",
          `${d}: not a directory (${fileKind(stat)})`,
          "move it aside, or give --out another directory",
        );
      break;
    }
    missing.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of missing) {
    try {
      await fs.mkdir(d, { mode: DIR_MODE });
    } catch (e) {
      if (errnoCode(e) === "EEXIST") continue; // made by someone else meanwhile: their mode is kept
      throw fileSystemError(d, "create the directory", e);
    }
    // A umask of 077 would make the new directories 0700 and hide the 0644 certs from the
    // plugin's or gateway's user: give every directory we made 0755, as the seed's tree has.
    try {
      await fs.chmod(d, DIR_MODE);
    } catch (e) {
      throw fileSystemError(d, "change the mode of", e);
    }
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return false;
    throw e;
  }
}

/**
 * Refuses a symlink on the way from `root` down to `path` (root itself may be one: `--out` may
 * name a linked tree). A leaf directory replaced by a link would send our reads and writes
 * wherever its owner likes.
 */
export async function assertNoSymlinkBelow(root: string, path: string): Promise<void> {
  const rel = relative(resolve(root), resolve(path));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return;
  let at = resolve(root);
  for (const part of rel.split(sep)) {
    at = join(at, part);
    let stat: Stats;
    try {
      stat = await fs.lstat(at);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return;
      throw fileSystemError(at, "read", e);
    }
    if (stat.isSymbolicLink()) throw symlinkRefused(at);
  }
}

/**
 * Removes temp files left by a killed run: regular files named as writeFileAtomically names its
 * temps. Anything else with such a name (a directory, a link, a FIFO) is not ours: it is left
 * where it is and returned in `notOurs`, so one leaf's owner cannot stop every writing command
 * (a directory would make rm fail). Call only while holding the tree lock.
 */
export async function removeLeftoverTemps(dir: string): Promise<Leftovers> {
  return removeTemps(tempsIn(dir, 0));
}

/**
 * removeLeftoverTemps in `dir` and the directories below it, `depth` levels down (the tree's
 * deepest is `.backup/<time>/plugins/<name>/`); symlinks are not followed.
 */
export async function removeLeftoverTempsBelow(dir: string, depth = 4): Promise<Leftovers> {
  return removeTemps(tempsIn(dir, depth));
}

/**
 * The temp-named entries of `dir` and of its sub-directories `depth` levels down, each
 * directory's own before those below it. Listed synchronously, one readdir per directory: every
 * writing command walks the whole tree under its lock before anything else runs, and in a tree
 * of 2,000 leaves the thread pool's round trips cost five times the listing itself
 * (`renew NAME` there should cost what one leaf costs: docs/performance.md).
 */
function tempsIn(dir: string, depth: number): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const here = entries.filter((e) => TEMP_PATTERN.test(e.name)).map((e) => join(dir, e.name));
  if (depth === 0) return here;
  // Dirent types come from lstat's view: a link to a directory is not a directory, never followed.
  const below = entries
    .filter((e) => e.isDirectory() && !TEMP_PATTERN.test(e.name))
    .flatMap((e) => tempsIn(join(dir, e.name), depth - 1));
  return [...here, ...below];
}

async function removeTemps(found: readonly string[]): Promise<Leftovers> {
  const leftovers: Leftovers = { removed: [], notOurs: [] };
  await Promise.all(
    found.map(async (p) => {
      const stat = await fs.lstat(p).catch(() => undefined);
      if (stat === undefined) return;
      if (!stat.isFile()) {
        leftovers.notOurs.push(
          `${p}: named like an mtls-certs temp file, but ${fileKind(stat)}: not ours, left as it is (remove it if nobody you trust put it there)`,
        );
        return;
      }
      // unlink(2) removes the name only: a file swapped in for it meanwhile is just as well gone.
      await fs.rm(p, { force: true }).catch(() => undefined);
      leftovers.removed.push(p);
    }),
  );
  return leftovers;
}

export interface Leftovers {
  readonly removed: string[];
  /** One line per file named like a temp that is not a regular file. */
  readonly notOurs: string[];
}

/** Lists the sub-directories of `dir` (no error when it does not exist). */
export async function listDirectories(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw e;
  }
}
