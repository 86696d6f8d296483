/**
 * The one rule for who may read a private key file, used when keys are written (`--key-group`,
 * `https --group`), renewed, narrowed back, and checked.
 *
 * A key is readable by its owner only (0600), or also by one group (0640) when that group was
 * given to it on purpose: the file is owned by root (PostgreSQL's rule for its server key), or its
 * group is not its owner's own group (`--key-group` / `https --group` set it), or it is the
 * gateway's HTTPS key (`make certs` makes it 640). A key is never writable by its group and never
 * open to others: those are always problems.
 *
 * Why a group at all: Docker Compose bind-mounts the tree into containers that run as another
 * user (the gateway image as 10001:10001, the plugin images as 1001 with group 0). A 0600 key
 * owned by the host user is "Permission denied" there; 0640 with the container's group is not.
 */
import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { MtlsError, errnoCode } from "../errors.js";
import type { Role } from "../pki/profiles.js";
import { directoryOwnershipProblems } from "./directory-ownership.js";
import { KEY_FILE, withChecked } from "./leaf-file.js";

/** Owner read/write only. */
export const KEY_MODE = 0o600;
/** Owner read/write, group read: a key shared with a container's group. */
export const GROUP_KEY_MODE = 0o640;

/** The part of fs.Stats the rule reads. */
export interface KeyFileStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Who is asking: the current process by default; tests pass their own. */
export interface KeyModeContext {
  /** The key's role: the https key's documented mode is 0640, whatever its group. */
  readonly role?: Role;
  readonly self?: { readonly uid: number; readonly gid: number };
}

function currentUser(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
}

/**
 * The owner's own group: ours when the key is ours; for another user, the group with the user's
 * number (the user-private-group convention of every mainstream Linux distribution).
 */
function ownGroupOf(uid: number, self: { uid: number; gid: number }): number {
  return uid === self.uid ? self.gid : uid;
}

/** True when a group-readable key is so on purpose (see the module comment). */
export function groupReadIntended(stat: KeyFileStat, ctx: KeyModeContext = {}): boolean {
  if (ctx.role === "ca" || ctx.role === "intermediate") return false;
  if (ctx.role === "https") return true;
  // PostgreSQL's rule, kept on purpose: only root may give a root-owned file its group, so any
  // group on a root-owned key was set by root (`--key-group 0` for the plugin images, which run
  // with group 0, is the very case this rule is for). Narrowing it to "not group 0" would flag
  // the documented Compose setup. The CA's keys are outside this rule (caKeyModeProblem).
  if (stat.uid === 0) return true;
  return stat.gid !== ownGroupOf(stat.uid, ctx.self ?? currentUser());
}

/** The widest mode the rule allows this key: 0640 or 0600. */
export function widestKeyMode(stat: KeyFileStat, ctx: KeyModeContext = {}): number {
  return groupReadIntended(stat, ctx) ? GROUP_KEY_MODE : KEY_MODE;
}

/** What is wrong with a key file's mode, or undefined when the rule allows it. */
export function keyModeProblem(path: string, stat: KeyFileStat, ctx: KeyModeContext = {}): string | undefined {
  if (ctx.role === "ca" || ctx.role === "intermediate") return caKeyModeProblem(path, stat);
  const mode = stat.mode & 0o777;
  const widest = widestKeyMode(stat, ctx);
  if ((mode & ~widest) === 0) return undefined;
  const octal = mode.toString(8);
  const fix = `run chmod ${widest.toString(8)}`;
  if (mode & 0o007) return `${path}: open to others (mode ${octal}); ${fix}`;
  if (mode & 0o030) return `${path}: writable by group (mode ${octal}); ${fix}`;
  if (mode & 0o100) return `${path}: executable (mode ${octal}); ${fix}`;
  return (
    `${path}: readable by its owner's own group ${stat.gid} (mode ${octal}); ${fix}, or give it ` +
    "the group of the container that reads it (mtls-certs … --key-group GID, as root)"
  );
}

/**
 * The CA's keys (ca.key, intermediate.key, previous/ca.key) are 0600 whoever owns them: no
 * container ever reads a CA key, so there is no group to share it with, and a CA key another
 * user has read signs whatever that user likes. OpenSSH's rule for a private key ("UNPROTECTED
 * PRIVATE KEY FILE"), not PostgreSQL's.
 */
export function caKeyModeProblem(path: string, stat: Pick<KeyFileStat, "mode">): string | undefined {
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  const how = mode & 0o044 ? "readable" : "writable";
  return `${path}: ${how} by group/others (mode ${mode.toString(8)}); run chmod 600 ${path}`;
}

/**
 * The directories from the tree root down to `dir` that others could use to swap the CA key:
 * leaf-file.ts directoryOwnershipProblems (a link below the root, another user's directory, one
 * writable by group or others). The root itself may be a link (`--out` naming a linked tree);
 * directories above it are the user's (/tmp is world-writable, sticky).
 */
export function unsafeDirectories(root: string, dir: string): Promise<string[]> {
  return directoryOwnershipProblems(root, dir);
}

/**
 * Refuses (exit 2, with the chmod that fixes it) to sign with a CA key others can read, or from a
 * tree or ca/ directory others can write: as OpenSSH refuses an unprotected private key instead of
 * warning. A missing key is not this rule's to report (the CA loader names it).
 */
export async function assertCaKeyProtected(root: string, keyPath: string): Promise<void> {
  const problems = await unsafeDirectories(root, dirname(keyPath));
  try {
    const stat = await fs.lstat(keyPath);
    const problem = stat.isFile() ? caKeyModeProblem(keyPath, stat) : undefined;
    if (problem) problems.push(problem);
  } catch (e) {
    if (errnoCode(e) !== "ENOENT")
      throw new MtlsError("E_IO", `${keyPath}: cannot read (${errnoCode(e) ?? String(e)})`);
  }
  if (problems.length > 0)
    throw new MtlsError(
      "E_UNSAFE_MODE",
      problems.join("\n"),
      "mtls-certs does not sign with a CA key others could read or replace (OpenSSH's rule for private keys); if others may have read it, rotate the CA (`mtls-certs renew --ca`) after the chmod",
    );
}

/** chown(2) to a group: root may, others only to a group they belong to. */
export function mayChangeGroupTo(gid: number): boolean {
  if (process.getuid?.() === 0) return true;
  return process.getgid?.() === gid || (process.getgroups?.() ?? []).includes(gid);
}

const MAX_GID = 2 ** 31 - 1;

/**
 * `--key-group GID|NAME`: a number, or a group name looked up in the group file (/etc/group, as
 * chgrp does on a system without a directory service). Refused (exit 2) when neither.
 */
export async function parseKeyGroup(value: string, where: string, groupFile = "/etc/group"): Promise<number> {
  if (/^\d+$/.test(value)) {
    const gid = Number(value);
    if (gid <= MAX_GID) return gid;
  } else if (/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(value)) {
    const gid = groupIdFromFile(await readGroupFile(groupFile), value);
    if (gid !== undefined) return gid;
    throw new MtlsError(
      "E_USAGE",
      `${where}: no group named ${JSON.stringify(value)} in ${groupFile}`,
      "give the numeric group id instead (the gateway image reads as 10001, the plugin images as 0)",
    );
  }
  throw new MtlsError(
    "E_USAGE",
    `${where}: ${JSON.stringify(value)} is not a group id or name`,
    `give a number from 0 to ${MAX_GID} or a group name, e.g. --key-group 0`,
  );
}

async function readGroupFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (e) {
    throw new MtlsError("E_USAGE", `${file}: cannot read (${errnoCode(e) ?? String(e)})`, "give a numeric group id");
  }
}

/** Pure: `name:x:gid:members` lines in, the gid of `name` out. */
export function groupIdFromFile(text: string, name: string): number | undefined {
  for (const line of text.split("\n")) {
    const [groupName, , gid] = line.split(":");
    if (groupName === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** The mode and group a new key file gets. */
export interface KeyFileMode {
  readonly keyMode: number;
  readonly keyGroup: number | undefined;
}

/**
 * A key asked to be in `gid`: 0640 in that group, set before its first byte. Refused before any
 * work when this user may not chgrp to it: a 0640 key left in the user's own group is what the
 * rule above calls a mistake, and the container still could not read it.
 */
export function sharedKeyFile(gid: number, flag: string): KeyFileMode {
  const self = currentUser();
  if (self.uid !== 0 && gid === self.gid)
    throw new MtlsError(
      "E_USAGE",
      `${flag} ${gid}: that is your own group; a 0640 key in it is what \`check\` reports as readable by your group`,
      "give the group of the container that reads the keys (e.g. 0 or 10001), as root",
    );
  if (!mayChangeGroupTo(gid))
    throw new MtlsError(
      "E_USAGE",
      `${flag} ${gid}: only root or a member of group ${gid} may give files that group`,
      "run mtls-certs as root (e.g. sudo), or pick a group you belong to",
    );
  return { keyMode: GROUP_KEY_MODE, keyGroup: gid };
}

/**
 * What a renewed key gets: the old key's group and 0640 when the rule says its group-read was on
 * purpose (and the https key's 0640 always); else 0600. When this user may not set the old group,
 * the key keeps 0640 only for https (its documented mode) and a warning says to chgrp it. `stat`
 * is the fstat of the descriptor the old key was read from, never a second look by its name.
 */
export function renewedKeyFile(path: string, stat: KeyFileStat, role: Role, warnings: string[]): KeyFileMode {
  const shared = (stat.mode & 0o040) !== 0 && groupReadIntended(stat, { role });
  if (role !== "https" && !shared) return { keyMode: KEY_MODE, keyGroup: undefined };
  if (stat.gid === process.getgid?.()) return { keyMode: GROUP_KEY_MODE, keyGroup: undefined };
  if (mayChangeGroupTo(stat.gid)) return { keyMode: GROUP_KEY_MODE, keyGroup: stat.gid };
  warnings.push(
    `${path}: the renewed key is not in group ${stat.gid} as the old one was (only root or a member of that group may set it); run chgrp as root`,
  );
  return role === "https"
    ? { keyMode: GROUP_KEY_MODE, keyGroup: undefined }
    : { keyMode: KEY_MODE, keyGroup: undefined };
}

/**
 * Gives keys that already exist the group asked for (`all --key-group 0` on a tree made before):
 * chgrp first, then 0640, so the key is never readable by a group it was not meant for.
 * Returns the files changed.
 */
export async function shareExistingKeys(paths: readonly string[], keyFile: KeyFileMode): Promise<string[]> {
  const changed: string[] = [];
  for (const path of paths) {
    // On the descriptor opened without following links: a client.pem or haproxy.pem planted as a
    // link to ca.key (or any file of the system) is refused, never given the group.
    const did = await withChecked(path, KEY_FILE, async ({ handle, stat }) => {
      const group = keyFile.keyGroup ?? stat.gid;
      if (stat.gid === group && (stat.mode & 0o777) === keyFile.keyMode) return false;
      if (stat.gid !== group) await handle.chown(-1, group);
      await handle.chmod(keyFile.keyMode);
      return true;
    });
    if (did) changed.push(path);
  }
  return changed;
}
