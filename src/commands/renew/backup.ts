import {
  X509Certificate as NodeCert,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
} from "node:crypto";
import { promises as fs } from "node:fs";
import { join, relative } from "node:path";
import { GROUP_KEY_MODE, type KeyFileMode } from "../../store/key-mode.js";
import { privateKeyMatches } from "../../pki/key-match.js";
import { rebuildStaleBundles } from "../../store/leaf-bundles.js";
import { textOrThrow, readKnown, type KnownFiles } from "../../store/file-facts.js";
import { KEY_FILE, readChecked, symlinkRefused } from "../../store/leaf-file.js";
import { caPublicKeys } from "../../store/leaf-key.js";
import type { LedgerBook } from "../../store/ledger-book.js";
import type { LeafFiles, TreePaths } from "../../store/paths.js";
import { assertLeafDirectory } from "../../store/leaf-state.js";
import type { LeafRead } from "./leaf-read.js";
import { KEY_MODE, exists, listDirectories, readKeyText, writeFileAtomically } from "../../store/write.js";

/** Beside a backed-up key: the mode and group renew gave it (its decision, never a file's mode read back). */
const KEY_FILE_RECORD = "key-file.json";

/** The bytes of a leaf renew already read and checked (by descriptor): what the backup keeps. */
export interface LeafBytes {
  readonly certPem: string;
  /** Absent for a leaf signed from a CSR: no key of ours. */
  readonly keyPem?: string;
  /** The mode and group renew decided for this leaf's key (key-mode.ts renewedKeyFile). */
  readonly keyFile?: KeyFileMode;
}

/**
 * `.backup/<UTC time>/` inside the tree (whose root is its owner's alone), made on the first file
 * it keeps. Directories 0700 and files 0600: a backup holds keys. A leaf's files are kept from the
 * bytes renew already read and checked, never read again by name: between the two reads, whoever
 * can write the leaf's directory could swap its key for a link to the CA key.
 */
export class BackupFolder {
  path: string;
  used = false;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly tree: TreePaths,
    now: Date,
  ) {
    this.path = join(
      tree.backupDir,
      now
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
        .replace(/:/g, "-"),
    );
  }

  /** Keeps a leaf's cert and key (the bytes renew read) before they are replaced. */
  async keep(files: LeafFiles, bytes: LeafBytes): Promise<void> {
    const dir = await this.folder(backupSubdir(this.tree, files));
    await writeFileAtomically(join(dir, baseName(files.cert)), bytes.certPem, { mode: KEY_MODE });
    if (bytes.keyPem === undefined) return;
    await writeFileAtomically(join(dir, baseName(files.key)), bytes.keyPem, { mode: KEY_MODE });
    if (bytes.keyFile)
      await writeFileAtomically(join(dir, KEY_FILE_RECORD), JSON.stringify(bytes.keyFile) + "\n", { mode: KEY_MODE });
  }

  /**
   * Copies the CA's own files (ca/, its owner's alone) into `<backup>/<subdir>/`: as `known` holds
   * them when the run read them already (one read of each file), else read now.
   */
  async copy(subdir: string, paths: ReadonlyArray<string | undefined>, known?: KnownFiles): Promise<void> {
    const dir = await this.folder(subdir);
    for (const path of paths) {
      if (path === undefined) continue;
      // A CA cert is held as read through a link (as check reads it); the backup never copies
      // one through a link: refused with the error its read of the name (O_NOFOLLOW) gives.
      if ((await fs.lstat(path).catch(() => undefined))?.isSymbolicLink()) throw symlinkRefused(path);
      const content = textOrThrow(readKnown(path, { noFollow: true }, known));
      if (content !== undefined) await writeFileAtomically(join(dir, baseName(path)), content, { mode: KEY_MODE });
    }
  }

  private async folder(subdir: string): Promise<string> {
    this.ready ??= this.create();
    await this.ready;
    const dir = join(this.path, subdir);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  private async create(): Promise<void> {
    await fs.mkdir(this.tree.backupDir, { recursive: true, mode: 0o700 });
    // Two runs in one second would share a folder: the second one gets its own.
    if (await exists(this.path)) this.path = `${this.path}-${process.pid}`;
    await fs.mkdir(this.path, { mode: 0o700 });
    this.used = true;
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Where a leaf's files go in a backup folder; the https cert lives outside the tree (certs/cert.pem). */
function backupSubdir(tree: TreePaths, files: LeafFiles): string {
  return files.role === "https" ? "https" : relative(tree.root, files.dir);
}

/**
 * A renew killed between writing a leaf's new key and its new cert leaves the new key beside the
 * old cert (no two renames swap a pair at once). The run that did it backed the old pair up
 * first, in the newest backup folder: put the old key back, so the leaf is its old pair again and
 * this run renews it as due. What is put back is decided by the CA's records, not by the leaf's
 * directory: only a key whose SPKI the ledger recorded for the cert on disk (valid, this leaf's),
 * never a CA's key, at the mode and group renew recorded beside it in the backup (else 0600). A
 * key found in the leaf directory is never signed to "complete" the pair. client.pem, haproxy.pem
 * and fullchain.crt are made again from the pair when they no longer hold it. A leaf whose files
 * cannot be read is left to renew, which names it: one leaf never stops the others' repair.
 * Returns one line per file repaired.
 */
export async function restoreInterrupted(
  tree: TreePaths,
  leaves: Iterable<LeafRead>,
  passphrase: string | undefined,
  /** What the tree issued: a bundle is rebuilt only when it holds one of this leaf's certs. */
  book: LedgerBook,
): Promise<string[]> {
  const folders = await listDirectories(tree.backupDir);
  const newest = folders.sort().at(-1);
  if (newest === undefined) return [];
  const lines: string[] = [];
  for (const read of leaves) {
    const saved = join(tree.backupDir, newest, backupSubdir(tree, read.files));
    if (!(await exists(saved))) continue; // the last run did not touch this leaf
    const before = lines.length;
    try {
      await restoreLeaf(tree, read, saved, passphrase, book, lines);
    } catch {
      // renew reads the leaf next and names what is wrong with it (a link, a FIFO, a huge file).
      read.forget();
    }
    // Files the repair rewrote are new ones: the closing check reads them, not the run's first read.
    if (lines.length > before) read.forget();
  }
  return lines;
}

async function restoreLeaf(
  tree: TreePaths,
  read: LeafRead,
  saved: string,
  passphrase: string | undefined,
  book: LedgerBook,
  lines: string[],
): Promise<void> {
  // A directory another user owns or may write: nothing is put into it (renew names it).
  const { files } = read;
  await assertLeafDirectory(files);
  // The bytes this run read (and renews from): a second read of the names could differ.
  const certPem = read.certPem();
  const keyPem = (await read.key())?.bytes.toString("utf8");
  if (certPem === undefined || keyPem === undefined) return;
  const cert = parseQuietly(() => new NodeCert(certPem));
  const key = parseQuietly(() => openKey(keyPem, passphrase));
  if (cert === undefined || key === undefined) return; // renew and check name what is wrong
  let pairKey = keyPem;
  let pairKeyObject = key;
  const keyFile = await recordedKeyFile(saved);
  if (!privateKeyMatches(cert, key)) {
    const entry = book.entryFor(cert);
    // Only the cert the ledger recorded for this leaf, still valid: a CA's cert or an old one put
    // back in the leaf's place has no record here, and its "pair" is not restored.
    if (entry?.role !== files.role || entry.name !== files.name || entry.status !== "valid") return;
    const oldKeyPem = (await readChecked(join(saved, baseName(files.key)), KEY_FILE))?.bytes.toString("utf8");
    const oldKey = oldKeyPem === undefined ? undefined : parseQuietly(() => openKey(oldKeyPem, passphrase));
    if (oldKeyPem === undefined || oldKey === undefined) return;
    const oldPublic = createPublicKey(oldKey);
    const spki = createHash("sha256")
      .update(oldPublic.export({ type: "spki", format: "der" }))
      .digest("hex");
    // By the old key's private part too (key-match.ts): the public part it carries could be the cert's.
    if (spki !== entry.spkiSha256 || !privateKeyMatches(cert, oldKey)) return;
    if ((await caPublicKeys(tree)).some((ca) => privateKeyMatches(ca.key, oldKey))) return;
    await writeFileAtomically(files.key, oldKeyPem, keyFile);
    read.keyReplaced();
    pairKey = oldKeyPem;
    pairKeyObject = oldKey;
    lines.push(
      `restored ${relative(tree.root, files.key)} from ${relative(tree.root, saved)}: a killed renew had left a new key beside the old cert`,
    );
  }
  if (files.combined !== undefined && (await readKeyText(files.combined)) !== certPem + pairKey) {
    await writeFileAtomically(files.combined, certPem + pairKey, keyFile);
    lines.push(`rewrote ${relative(tree.root, files.combined)} from its cert and key (a killed renew left it stale)`);
  }
  // haproxy.pem and fullchain.crt (store/leaf-bundles.ts): a kill after the new cert left them old.
  const clearKey = pairKey.includes("ENCRYPTED")
    ? pairKeyObject.export({ type: "pkcs8", format: "pem" }).toString()
    : pairKey;
  for (const bundle of await rebuildStaleBundles(tree, files, clearKey, book, lines))
    lines.push(`rewrote ${relative(tree.root, bundle)} from its cert and key (a killed renew left it stale)`);
}

/**
 * The mode and group renew recorded for the key (0600, or 0640 in a group); 0600 when there is no
 * record or it says anything else. Read from the backup folder, the tree owner's own.
 */
async function recordedKeyFile(saved: string): Promise<{ mode: number; group: number | undefined; replace: true }> {
  const plain = { mode: KEY_MODE, group: undefined, replace: true } as const;
  const text = (await readChecked(join(saved, KEY_FILE_RECORD), KEY_FILE).catch(() => undefined))?.bytes;
  if (text === undefined) return plain;
  const record = parseQuietly(() => JSON.parse(text.toString("utf8")) as Partial<KeyFileMode>);
  if (record?.keyMode !== GROUP_KEY_MODE) return plain;
  const group = Number.isInteger(record.keyGroup) ? record.keyGroup : undefined;
  return { mode: GROUP_KEY_MODE, group, replace: true };
}

function openKey(pem: string, passphrase: string | undefined): KeyObject | undefined {
  if (pem.includes("ENCRYPTED") && passphrase === undefined) return undefined;
  return createPrivateKey({ key: pem, passphrase });
}

function parseQuietly<T>(parse: () => T | undefined): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}
