/**
 * A file of the tree read once, as plain data: its text and the fstat facts of the very
 * descriptor it came from, or why it was not read. The open, the fstat and the capped read are
 * leaf-file.ts's rules; unlike openChecked, a refusal keeps the descriptor's facts (a FIFO's mode is
 * still a key-mode problem) and is returned, not thrown: `check` reports what it found.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from "node:fs";
import { MtlsError, errnoCode, fileSystemError, type ErrorCode } from "../errors.js";
import {
  RECORD_MAX_BYTES,
  fileKind,
  refusalOf,
  socketRefusal,
  symlinkRefused,
  tooLarge,
  type OpenOptions,
} from "./leaf-file.js";

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

/**
 * Opens `path` once (O_NONBLOCK; O_NOFOLLOW with `noFollow`), fstats the descriptor, reads it
 * capped, closes it. Synchronous: a tree's files are a few kB each, and the five system calls
 * cost less than one round trip each through libuv's thread pool (check reads thousands; a FIFO
 * or device never blocks it: O_NONBLOCK, and the fstat refuses it before any read).
 */
export function readFileFacts(path: string, o: OpenOptions = {}): FileRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (o.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT") return { path, found: "missing" };
    if (code === "ELOOP" && o.noFollow) return { path, found: "link", refusal: refusalFrom(symlinkRefused(path)) };
    const socket = socketRefusal(path, e, o);
    if (socket) return { path, found: "refused", stat: statFacts(socket.stat), refusal: refusalFrom(socket.refusal) };
    return { path, found: "unopened", refusal: refusalFrom(fileSystemError(path, "read", e)) };
  }
  try {
    const stat = fstatSync(fd);
    const facts = statFacts(stat);
    const refused = refusalOf(path, stat, o);
    if (refused) return { path, found: "refused", stat: facts, refusal: refusalFrom(refused) };
    const read = readAllCapped(fd, path, stat.size, o.maxBytes ?? RECORD_MAX_BYTES);
    if (read instanceof MtlsError) return { path, found: "refused", stat: facts, refusal: refusalFrom(read) };
    return { path, found: "read", stat: facts, text: read.toString("utf8") };
  } catch (e) {
    return { path, found: "unopened", refusal: refusalFrom(fileSystemError(path, "read", e)) };
  } finally {
    closeSync(fd);
  }
}

/** The descriptor's bytes, at most `max` (a file grown past it since the fstat is refused). */
function readAllCapped(fd: number, path: string, size: number, max: number): Buffer | MtlsError {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(size - total + 1, 1024), 64 * 1024, max + 1 - total));
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      return fileSystemError(path, "read", e);
    }
    if (bytesRead === 0) return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > max) return tooLarge(path, max);
  }
}

/** lstat facts of `path` (never followed), or undefined when it is not there (or cannot be looked at). */
export function lstatFacts(path: string): StatFacts | undefined {
  try {
    return statFacts(lstatSync(path));
  } catch {
    return undefined;
  }
}

/** The text of a read file; undefined when missing; the refusal thrown otherwise (as readText does). */
export function textOrThrow(read: FileRead): string | undefined {
  if (read.found === "read") return read.text;
  if (read.found === "missing") return undefined;
  throw refusalError(read.refusal);
}

/**
 * The files of the tree a run already holds, by path: what it read at its start (the leaves', and
 * ca/'s when the inventory is given the map), or wrote itself (renew: write.ts records the written
 * text and the fstat of its descriptor). A file found here is not opened again; one not found is
 * read and added.
 */
export type KnownFiles = Map<string, FileRead>;

/** `path` from `known` when held there, else read once (and kept there when `known` is given). */
export function readKnown(path: string, o: OpenOptions, known: KnownFiles | undefined): FileRead {
  const held = known?.get(path);
  if (held !== undefined) return held;
  const read = readFileFacts(path, o);
  known?.set(path, read);
  return read;
}
