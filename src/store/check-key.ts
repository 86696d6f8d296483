/**
 * `check`'s look at a key file and the files beside it that hold the key: present, the key-mode
 * rule (key-mode.ts), never a link, and the key matched to its cert from its private part.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { promises as fs, type Stats } from "node:fs";
import { MtlsError, errnoCode } from "../errors.js";
import type { Role } from "../pki/profiles.js";
import type { CheckEntry } from "../report/check-report.js";
import { privateKeyPemMatches } from "../pki/key-match.js";
import { encryptedKeyProblem } from "../pki/keys.js";
import { keyModeProblem } from "./key-mode.js";
import { readKeyText } from "./write.js";

/** What a key's read refuses that someone put there (a FIFO, a hard link, a huge file): check exits 2. */
const PLANTED_CODES: ReadonlySet<string> = new Set(["E_NOT_REGULAR_FILE", "E_HARDLINK", "E_TOO_LARGE"]);

/** The key exists, matches, and only who the key-mode rule allows may read it (key-mode.ts). */
export async function checkKey(
  path: string,
  cert: NodeCert,
  entry: CheckEntry,
  optional = false,
  role?: Role,
): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.lstat(path);
  } catch {
    if (!optional) entry.problems.push(`${path}: key missing`);
    return;
  }
  // A link in place of a key could point at the CA key (or anything): named, never followed.
  if (stat.isSymbolicLink()) {
    entry.problems.push(`${path}: is a symbolic link, not a key file; replace it with the key itself`);
    entry.plantedFile = true;
    return;
  }
  const modeProblem = keyModeProblem(path, stat, { role });
  if (modeProblem) entry.problems.push(modeProblem);
  let matches: boolean;
  try {
    const pem = (await readKeyText(path)) ?? "";
    if (pem.includes("ENCRYPTED")) {
      // Cannot be compared without the passphrase (`verify` can), but its envelope can be checked.
      const problem = encryptedKeyProblem(pem);
      if (problem) entry.problems.push(`${path}: an encrypted key that no passphrase opens: ${problem}`);
      return;
    }
    // From the key's private part: the public part a key file carries can be forged (key-match.ts).
    matches = privateKeyPemMatches(cert, pem, path);
  } catch (e) {
    const errno = errnoCode(e instanceof Error ? e.cause : undefined);
    if (errno === "EACCES" || errno === "EPERM") {
      entry.keyUnreadable = { path, ownerUid: stat.uid };
      return;
    }
    entry.problems.push(e instanceof MtlsError ? e.message : `${path}: not a readable private key`);
    if (e instanceof MtlsError && PLANTED_CODES.has(e.code)) entry.plantedFile = true;
    return;
  }
  if (!matches) entry.problems.push(`${path}: does not match the certificate`);
}

/**
 * A file beside the key that holds it too (client.pem, HAProxy's haproxy.pem): the same mode
 * rule as the key, and never a link. Absent is fine: they are written on demand.
 */
export async function checkKeyBearingFile(path: string, entry: CheckEntry, role: Role): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.lstat(path);
  } catch {
    return;
  }
  if (stat.isSymbolicLink() || !stat.isFile()) {
    entry.problems.push(
      stat.isSymbolicLink()
        ? `${path}: is a symbolic link, not a file; replace it with the file`
        : `${path}: not a regular file`,
    );
    entry.plantedFile = true;
  } else if (stat.nlink > 1) {
    entry.problems.push(`${path}: has ${stat.nlink} names (a hard link); remove it and export it again`);
    entry.plantedFile = true;
  } else {
    const problem = keyModeProblem(path, stat, { role });
    if (problem) entry.problems.push(problem);
  }
}
