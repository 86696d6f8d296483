import { promises as fs } from "node:fs";
import { join, relative } from "node:path";
import type { LeafFiles, TreePaths } from "../../store/paths.js";
import { KEY_MODE, exists, readText, writeFileAtomically } from "../../store/write.js";

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
    // The https cert lives outside the tree (certs/cert.pem): its copies go to https/.
    const subdir = files.role === "https" ? "https" : relative(this.tree.root, files.dir);
    await this.copy(subdir, [files.cert, files.key, files.combined]);
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
