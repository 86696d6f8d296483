/**
 * Where `export … -o FILE` and `key decrypt -o FILE` may write: never over an existing file
 * unless asked (`--force`), and never inside a tree's ca/ directory, which holds the CA key and
 * is never mounted into a leaf's container (a file written there would sit next to the CA key,
 * and a replaced one could be the CA's own). A CA key decrypted goes into no tree at all, and a
 * missing directory is said (exit 2) unless the command makes it (exports do).
 */
import type { KeyObject } from "node:crypto";
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
  /** Missing directories are made when the file is written (exports); otherwise a missing one is exit 2. */
  makeDirectory?: boolean;
}

/** Checks an output path; returns it absolute, with whether an existing file is to be replaced. */
export async function checkOutputFile(
  path: string,
  o: OutputFileOptions = {},
): Promise<{ path: string; replace: boolean }> {
  const flag = o.flag ?? "--output";
  const file = resolve(path);
  if (!o.makeDirectory) await requireDirectory(dirname(file), flag, path);
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

/** The directory a file goes into must be there: a typo in `-o` is said, not an ENOENT from the write. */
async function requireDirectory(dir: string, flag: string, path: string): Promise<void> {
  let stats: import("node:fs").Stats;
  try {
    stats = await fs.stat(dir);
  } catch (e) {
    const code = errnoCode(e);
    if (code !== "ENOENT" && code !== "ENOTDIR")
      throw new MtlsError("E_IO", `${dir}: cannot read (${code ?? String(e)})`);
    throw new MtlsError(
      "E_USAGE",
      `${flag} ${path}: the directory ${dir} does not exist`,
      `create it first (mkdir -p ${dir}), or name a file in an existing directory`,
    );
  }
  if (!stats.isDirectory())
    throw new MtlsError("E_USAGE", `${flag} ${path}: ${dir} is not a directory`, "name a file in a directory");
}

/**
 * A CA's private key in the clear (`key decrypt` of ca.key or intermediate.key) goes nowhere inside
 * a tree, not only outside ca/: the tree's leaf directories are what containers mount. The key is
 * a CA's when its private part makes the public key of a CA cert of a tree holding the input or the
 * output (never by the public part the key file carries: key-match.ts).
 */
export async function assertCaKeyOutsideTrees(
  privateKey: KeyObject,
  input: string,
  output: string,
  flag = "--output",
): Promise<void> {
  const outputTrees = await treesAround(output);
  if (outputTrees.length === 0) return;
  const { caPublicKeys } = await import("./leaf-key.js");
  const { privateKeyMatches } = await import("../pki/key-match.js");
  for (const tree of new Set([...(await treesAround(input)), ...outputTrees])) {
    const ca = (await caPublicKeys(treePaths(tree))).find((c) => privateKeyMatches(c.key, privateKey));
    if (ca)
      throw new MtlsError(
        "E_USAGE",
        `${flag} ${output}: inside the tree ${outputTrees[0]}, and the key is the private key of ${ca.file}`,
        "a CA key in the clear never goes into a tree, whose leaf directories containers mount: write it outside, e.g. to a directory only root reads",
      );
  }
}

/** The real roots of the trees (directories with ca/ca.crt) that hold `path`, innermost first. */
async function treesAround(path: string): Promise<string[]> {
  const trees: string[] = [];
  for (let d = await realDirectory(dirname(resolve(path))); ; d = dirname(d)) {
    try {
      if ((await fs.lstat(treePaths(d).caCert)).isFile()) trees.push(d);
    } catch {
      // not a tree's root
    }
    if (d === dirname(d)) return trees;
  }
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
