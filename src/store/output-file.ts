/**
 * Where `export … -o FILE` and `key decrypt -o FILE` may write: never over an existing file
 * unless asked (`--force`), and never inside a tree's ca/ directory, which holds the CA key and
 * is never mounted into a leaf's container (a file written there would sit next to the CA key,
 * and a replaced one could be the CA's own).
 */
import { promises as fs } from "node:fs";
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from "node:path";
import { errnoCode, MtlsError } from "../errors.js";
import { treePaths } from "./paths.js";

export interface OutputFileOptions {
  /** The tree whose ca/ is off limits. Any directory holding a CA key (ca.key) is refused as well. */
  tree?: string;
  /** Replace an existing file. */
  force?: boolean;
  /** The flag that named the file, for messages. */
  flag?: string;
}

/** Checks an output path; returns it absolute, with whether an existing file is to be replaced. */
export async function checkOutputFile(
  path: string,
  o: OutputFileOptions = {},
): Promise<{ path: string; replace: boolean }> {
  const flag = o.flag ?? "--output";
  const file = resolve(path);
  const dir = await realDirectory(dirname(file));
  const caDirs = [o.tree === undefined ? undefined : await realDirectory(treePaths(o.tree).caDir)];
  if (caDirs.some((ca) => ca !== undefined && within(dir, ca)) || (await holdsCaKey(dir)))
    throw new MtlsError(
      "E_USAGE",
      `${flag} ${path}: inside the tree's ca/ directory, next to the CA key; exports are never written there`,
      `write it outside ca/, e.g. ${flag} ./${basename(file)}`,
    );
  let existing: import("node:fs").Stats | undefined;
  try {
    existing = await fs.lstat(file);
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw new MtlsError("E_IO", `${file}: cannot read (${errnoCode(e) ?? String(e)})`);
  }
  if (existing?.isDirectory())
    throw new MtlsError("E_USAGE", `${flag} ${path}: is a directory`, `name a file: ${flag} ${join(path, "…")}`);
  if (existing && !o.force)
    throw new MtlsError(
      "E_USAGE",
      `${flag} ${path}: already exists; not overwritten`,
      "pass --force to replace it, or name another file",
    );
  return { path: file, replace: Boolean(existing) };
}

/** The real path of `dir`, or of its nearest existing ancestor joined with the rest (symlinks resolved). */
export async function realDirectory(dir: string): Promise<string> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      return join(await fs.realpath(d), ...missing.reverse());
    } catch {
      if (d === dirname(d)) return resolve(dir);
      missing.push(basename(d));
    }
  }
}

function within(dir: string, parent: string): boolean {
  const rel = relative(parent, dir);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

async function holdsCaKey(dir: string): Promise<boolean> {
  for (const name of ["ca.key", "intermediate.key"]) {
    try {
      await fs.lstat(join(dir, name));
      return true;
    } catch {
      // not there
    }
  }
  return false;
}
