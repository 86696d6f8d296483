import { X509Certificate as NodeCert, createPrivateKey, type KeyObject } from "node:crypto";
import { promises as fs } from "node:fs";
import { join, relative } from "node:path";
import { rebuildStaleBundles } from "../../store/leaf-bundles.js";
import type { LedgerBook } from "../../store/ledger.js";
import type { LeafFiles, TreePaths } from "../../store/paths.js";
import { KEY_MODE, exists, listDirectories, readKeyText, readText, writeFileAtomically } from "../../store/write.js";

/**
 * `.backup/<UTC time>/` inside the tree, made on the first file it keeps. Directories 0700 and
 * files 0600: a backup holds keys, and a cert next to them reveals nothing but also needs nothing.
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

  /** Copies a leaf's cert, key (and client.pem) before they are replaced. */
  async keep(files: LeafFiles): Promise<void> {
    await this.copy(backupSubdir(this.tree, files), [files.cert, files.key, files.combined]);
  }

  /** Copies only a leaf's cert: one signed from a CSR has no key of ours to keep. */
  async keepCert(files: LeafFiles): Promise<void> {
    await this.copy(backupSubdir(this.tree, files), [files.cert]);
  }

  /** Copies files into `<backup>/<subdir>/`. */
  async copy(subdir: string, paths: ReadonlyArray<string | undefined>): Promise<void> {
    this.ready ??= this.create();
    await this.ready;
    const dir = join(this.path, subdir);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const path of paths) {
      if (path === undefined) continue;
      const content = await readText(path);
      if (content !== undefined)
        await writeFileAtomically(join(dir, path.slice(path.lastIndexOf("/") + 1)), content, { mode: KEY_MODE });
    }
  }

  private async create(): Promise<void> {
    await fs.mkdir(this.tree.backupDir, { recursive: true, mode: 0o700 });
    // Two runs in one second would share a folder: the second one gets its own.
    if (await exists(this.path)) this.path = `${this.path}-${process.pid}`;
    await fs.mkdir(this.path, { mode: 0o700 });
    this.used = true;
  }
}

/** Where a leaf's files go in a backup folder; the https cert lives outside the tree (certs/cert.pem). */
function backupSubdir(tree: TreePaths, files: LeafFiles): string {
  return files.role === "https" ? "https" : relative(tree.root, files.dir);
}

/**
 * A renew killed between writing a leaf's new key and its new cert leaves the new key beside the
 * old cert (no two renames swap a pair at once). The run that did it backed the old pair up
 * first, in the newest backup folder: put the old key back, so the leaf is its old pair again and
 * this run renews it as due. A key found in the leaf directory is never signed to "complete" the
 * pair: whoever can write that directory could have put it there. client.pem, haproxy.pem and
 * fullchain.crt are made again from the pair when they no longer hold it. Returns one line per
 * file repaired.
 */
export async function restoreInterrupted(
  tree: TreePaths,
  leaves: readonly LeafFiles[],
  passphrase: string | undefined,
  /** What the tree issued: a bundle is rebuilt only when it holds one of this leaf's certs. */
  book: LedgerBook,
): Promise<string[]> {
  const folders = await listDirectories(tree.backupDir);
  const newest = folders.sort().at(-1);
  if (newest === undefined) return [];
  const lines: string[] = [];
  for (const files of leaves) {
    const saved = join(tree.backupDir, newest, backupSubdir(tree, files));
    if (!(await exists(saved))) continue; // the last run did not touch this leaf
    // A link at the key's place is never followed (renew names it); nor is one stat'ed below.
    const [certPem, keyPem] = await Promise.all([readText(files.cert), readKeyText(files.key)]);
    if (certPem === undefined || keyPem === undefined) continue;
    const cert = parseQuietly(() => new NodeCert(certPem));
    const key = parseQuietly(() => openKey(keyPem, passphrase));
    if (cert === undefined || key === undefined) continue; // renew and check name what is wrong
    let pairKey = keyPem;
    let pairKeyObject = key;
    // The key's mode and group (0640 and a group for a shared key) stay, and client.pem gets them.
    const { mode, gid } = await fs.lstat(files.key);
    const keyFile = { mode: mode & 0o777, group: gid === process.getgid?.() ? undefined : gid, replace: true };
    if (!cert.checkPrivateKey(key)) {
      const oldKeyPem = await readText(join(saved, files.key.slice(files.key.lastIndexOf("/") + 1)));
      const oldKey = oldKeyPem === undefined ? undefined : parseQuietly(() => openKey(oldKeyPem, passphrase));
      if (oldKeyPem === undefined || oldKey === undefined || !cert.checkPrivateKey(oldKey)) continue;
      await writeFileAtomically(files.key, oldKeyPem, keyFile);
      pairKey = oldKeyPem;
      pairKeyObject = oldKey;
      lines.push(
        `restored ${relative(tree.root, files.key)} from ${relative(tree.root, saved)}: a killed renew had left a new key beside the old cert`,
      );
    }
    if (files.combined !== undefined && (await readText(files.combined)) !== certPem + pairKey) {
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
  return lines;
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
