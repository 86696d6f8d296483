/**
 * A file of the tree read once, as plain data: its text and the fstat facts of the very
 * descriptor it came from, or why it was not read. The open, the fstat and the capped read are
 * leaf-file.ts's; unlike openChecked, a refusal keeps the descriptor's facts (a FIFO's mode is
 * still a key-mode problem) and is returned, not thrown: `check` reports what it found.
 */
import { constants, promises as fs, type Stats } from "node:fs";
import { MtlsError, errnoCode, fileSystemError, type ErrorCode } from "../errors.js";
import { fileKind, readCapped, refusalOf, symlinkRefused, type OpenOptions } from "./leaf-file.js";

/** The facts of an fstat (or lstat) the rules read: key-mode, directories, hard links. */
export interface StatFacts {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly size: number;
  /** "a regular file", or what else it is ("a FIFO", "a directory", "a symbolic link"). */
  readonly kind: string;
}

/** Why a file was not read, as the error every other command would raise says it. */
export interface ReadRefusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string | undefined;
  /** The system error behind it (EACCES …), when there was one. */
  readonly errno: string | undefined;
}

export type FileRead =
  | { readonly path: string; readonly found: "missing" }
  /** Refused for being a symbolic link (only where links are not followed). */
  | { readonly path: string; readonly found: "link"; readonly refusal: ReadRefusal }
  /** Could not be opened (EACCES …): no descriptor, no facts. */
  | { readonly path: string; readonly found: "unopened"; readonly refusal: ReadRefusal }
  /** Opened, but not what may be read (not a regular file, a second name, too large). */
  | { readonly path: string; readonly found: "refused"; readonly stat: StatFacts; readonly refusal: ReadRefusal }
  | { readonly path: string; readonly found: "read"; readonly stat: StatFacts; readonly text: string };

export function statFacts(stat: Stats): StatFacts {
  return {
    mode: stat.mode,
    uid: stat.uid,
    gid: stat.gid,
    nlink: stat.nlink,
    size: stat.size,
    kind: stat.isFile() ? "a regular file" : fileKind(stat),
  };
}

function refusalFrom(e: MtlsError): ReadRefusal {
  return { code: e.code, message: e.message, hint: e.hint, errno: errnoCode(e.cause) };
}

/** The refusal as the error a command that needs the file throws. */
export function refusalError(refusal: ReadRefusal): MtlsError {
  return new MtlsError(refusal.code, refusal.message, refusal.hint);
}

/** Opens `path` once (O_NONBLOCK; O_NOFOLLOW with `noFollow`), fstats the descriptor, reads it capped. */
export async function readFileFacts(path: string, o: OpenOptions = {}): Promise<FileRead> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK | (o.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT") return { path, found: "missing" };
    if (code === "ELOOP" && o.noFollow) return { path, found: "link", refusal: refusalFrom(symlinkRefused(path)) };
    return { path, found: "unopened", refusal: refusalFrom(fileSystemError(path, "read", e)) };
  }
  try {
    const stat = await handle.stat();
    const facts = statFacts(stat);
    const refused = refusalOf(path, stat, o);
    if (refused) return { path, found: "refused", stat: facts, refusal: refusalFrom(refused) };
    try {
      const bytes = await readCapped({ path, handle, stat }, o.maxBytes);
      return { path, found: "read", stat: facts, text: bytes.toString("utf8") };
    } catch (e) {
      // Grown past the cap since the fstat, or a read error: refused with what it was.
      const error = e instanceof MtlsError ? e : fileSystemError(path, "read", e);
      return { path, found: "refused", stat: facts, refusal: refusalFrom(error) };
    }
  } catch (e) {
    return { path, found: "unopened", refusal: refusalFrom(fileSystemError(path, "read", e)) };
  } finally {
    await handle.close();
  }
}

/** The text of a read file; undefined when missing; the refusal thrown otherwise (as readText does). */
export function textOrThrow(read: FileRead): string | undefined {
  if (read.found === "read") return read.text;
  if (read.found === "missing") return undefined;
  throw refusalError(read.refusal);
}
