/**
 * Who may write the directories a key lives in: the tree root down to a leaf or ca/, each looked
 * at without following a link. Beside leaf-file.ts, whose reads of the files in them it guards.
 */
import { lstatSync, statSync, type Stats } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { MtlsError, errnoCode, fileSystemError } from "../errors.js";
import { fileKind } from "./leaf-file.js";

/**
 * What is wrong with a directory the CA key lives in (the tree root, ca/, ca/previous/): who may
 * write it may rename the CA key and cert away and put their own in their place, and every leaf
 * signed after that is theirs. Others-writable is always refused. Group-writable too (OpenSSH's
 * StrictModes), except in the owner's user-private group (gid equal to a non-root uid, the
 * convention of every mainstream Linux distribution, where a login umask of 002 makes every
 * `mkdir` group-writable): only the owner is in that group, the exception Debian's OpenSSH makes.
 * Root's group 0 is no private group here: the plugin images run with group 0.
 */
export function directoryModeProblem(dir: string, stat: Pick<Stats, "mode" | "uid" | "gid">): string | undefined {
  const mode = stat.mode & 0o777;
  const octal = mode.toString(8);
  if (mode & 0o002) return `${dir}: writable by others (mode ${octal}); run chmod o-w ${dir}`;
  const privateGroup = stat.uid !== 0 && stat.gid === stat.uid;
  if (mode & 0o020 && !privateGroup)
    return `${dir}: writable by group ${stat.gid} (mode ${octal}); run chmod g-w ${dir}`;
  return undefined;
}

/**
 * OpenSSH's StrictModes for the directories the CA reads from and writes into. "Another user" is
 * anyone but root and the owner of the tree root (--out, or a stack's *_path root), not the uid
 * running the command: `sudo mtls-certs renew` on a user's tree is normal. Every directory from
 * the tree root down to `dir` (the root's own link is followed, none below it) must be a real
 * directory owned by root or the tree's owner, and not writable by group or others (the owner's
 * private group aside, directoryModeProblem). A leaf directory a container may write (a
 * read-write Compose mount owned by its uid) is its owner's: the CA writes no key into it and
 * takes nothing from it. Returns one problem per directory, each with the chown or chmod that
 * fixes it; none for a directory not made yet (the CA makes it, its own).
 */
export async function directoryOwnershipProblems(root: string, dir: string): Promise<string[]> {
  return directoryOwnershipProblemsSync(root, dir);
}

/**
 * What a walk looked at, by "stat PATH" / "lstat PATH": a read of many leaves (store/inventory.ts)
 * looks at the tree root and plugins/ once, not once per leaf.
 */
export type DirectoryLooks = Map<string, Stats | Error>;

/** directoryOwnershipProblems with synchronous lstats (a few per leaf), optionally remembered in `looks`. */
export function directoryOwnershipProblemsSync(root: string, dir: string, looks?: DirectoryLooks): string[] {
  const look = (kind: "stat" | "lstat", path: string): Stats => {
    const key = `${kind} ${path}`;
    let found = looks?.get(key);
    if (found === undefined) {
      try {
        found = kind === "stat" ? statSync(path) : lstatSync(path);
      } catch (e) {
        found = e instanceof Error ? e : new Error(String(e));
      }
      looks?.set(key, found);
    }
    if (found instanceof Error) throw found;
    return found;
  };
  const top = resolve(root);
  let owner: number;
  try {
    owner = look("stat", top).uid;
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw fileSystemError(top, "read", e);
  }
  const rel = relative(top, resolve(dir));
  const below = rel === "" || rel.startsWith("..") || isAbsolute(rel) ? [] : rel.split(sep);
  const problems: string[] = [];
  let at = top;
  for (const part of ["", ...below]) {
    at = part === "" ? top : join(at, part);
    let stat: Stats;
    try {
      stat = look(part === "" ? "stat" : "lstat", at);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") break;
      throw fileSystemError(at, "read", e);
    }
    if (stat.isSymbolicLink()) {
      problems.push(`${at}: is a symbolic link; mtls-certs does not follow links below the tree root`);
      break;
    }
    if (!stat.isDirectory()) {
      problems.push(`${at}: not a directory (${fileKind(stat)})`);
      break;
    }
    if (stat.uid !== 0 && stat.uid !== owner)
      problems.push(
        `${at}: owned by uid ${stat.uid}, not by the tree's owner (uid ${owner}) or root: the CA writes no key into it and takes nothing from it; run chown ${owner} ${at} (a container reads its key through --key-group, and needs no write access)`,
      );
    const mode = directoryModeProblem(at, stat);
    if (mode) problems.push(mode);
  }
  return problems;
}

/** directoryOwnershipProblems as a refusal (exit 2) naming every directory and its fix. */
export async function assertDirectoriesOwned(root: string, dir: string): Promise<void> {
  const problems = await directoryOwnershipProblems(root, dir);
  if (problems.length > 0)
    throw new MtlsError(
      "E_UNSAFE_DIRECTORY",
      problems.join("\n"),
      "a leaf directory is the CA's to write and the container's to read: give it back to the tree's owner (chown, chmod g-w,o-w) and mount it read-only",
    );
}
