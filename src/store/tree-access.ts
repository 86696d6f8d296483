/**
 * Getting at a tree: where it is, that it exists, and its lock, held for the whole of a writing
 * run after the temp files a killed run left are removed (and what is named like them but is not
 * ours is kept aside as a warning).
 */
import { join } from "node:path";
import { DEFAULT_OUT } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { withLock } from "./lock.js";
import { LOCK_FILE, treePaths, type TreePaths } from "./paths.js";
import { ensureDirectory, exists, removeLeftoverTemps, removeLeftoverTempsBelow } from "./write.js";
import type { TreeOptions } from "./issue-types.js";

export function resolveTree(o: TreeOptions): TreePaths {
  return treePaths(o.out ?? DEFAULT_OUT);
}

/** Runs `work` holding the tree's lock, after removing temp files a killed run left. */
export async function withTree<T>(o: TreeOptions, work: (tree: TreePaths) => Promise<T>): Promise<T> {
  const tree = resolveTree(o);
  await ensureDirectory(tree.root);
  return lockedTree(tree, o, work);
}

/** For commands that work on a tree made before (check, renew, revoke): none is created. */
export async function withExistingTree<T>(o: TreeOptions, work: (tree: TreePaths) => Promise<T>): Promise<T> {
  const tree = resolveTree(o);
  await assertTreeExists(tree);
  return lockedTree(tree, o, work);
}

export async function assertTreeExists(tree: TreePaths): Promise<void> {
  if (!(await exists(tree.root)))
    throw new MtlsError(
      "E_NOT_FOUND",
      `${tree.root}: no certificate tree here`,
      "run `mtls-certs all` first, or point --out at the tree",
    );
}

async function lockedTree<T>(tree: TreePaths, o: TreeOptions, work: (tree: TreePaths) => Promise<T>): Promise<T> {
  return withLock(
    tree.lock,
    async () => {
      await removeLeftovers(tree);
      return work(tree);
    },
    {
      waitMs: o.lockWaitMs,
      onWait: (pid) => o.onProgress?.(`waiting for another mtls-certs (pid ${pid}) to finish with ${tree.root}`),
    },
  );
}

/**
 * Runs `work` holding a lock in `dir`, for files outside the tree (certs/cert.pem, certs/jwt/),
 * after removing temp files a killed run left there. The tree is neither locked nor created.
 */
export async function withOutputDirectory<T>(
  dir: string,
  o: Pick<TreeOptions, "lockWaitMs" | "onProgress">,
  work: () => Promise<T>,
): Promise<T> {
  await ensureDirectory(dir);
  return withLock(
    join(dir, LOCK_FILE),
    async () => {
      await removeLeftoverTemps(dir);
      return work();
    },
    {
      waitMs: o.lockWaitMs,
      onWait: (pid) => o.onProgress?.(`waiting for another mtls-certs (pid ${pid}) to finish with ${dir}`),
    },
  );
}

/** What removeLeftovers found named like our temp files that is not ours, per locked tree. */
const leftoversNotOurs = new WeakMap<TreePaths, string[]>();

/** Every directory of the tree: leaves, ca/previous/ and .backup/ (renew writes there too). */
async function removeLeftovers(tree: TreePaths): Promise<void> {
  leftoversNotOurs.set(tree, (await removeLeftoverTempsBelow(tree.root)).notOurs);
}

/**
 * Things named like our temp files that are not ours (a directory, a link, a FIFO), found when the
 * tree was locked: warnings for revoke and crl; renew fails the leaf they are in (exit 2), no other.
 */
export function foreignLeftovers(tree: TreePaths): readonly string[] {
  return leftoversNotOurs.get(tree) ?? [];
}
