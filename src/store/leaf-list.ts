/**
 * Which leaf directories a tree holds: listed without following links (a leaf directory replaced
 * by a link is exit 2). The ledger, check, renew and revoke start from this list.
 */
import { promises as fs, type Dirent } from "node:fs";
import { join } from "node:path";
import { LEAF_DIRS, certsDirOf, httpsFiles, leafFiles, type LeafFiles, type TreePaths } from "./paths.js";
import { assertNoSymlinkBelow, exists, symlinkRefused } from "./write.js";
import { errnoCode } from "../errors.js";

/** Every leaf directory in the tree that holds a certificate or key. */
export async function listTreeLeaves(tree: TreePaths): Promise<LeafFiles[]> {
  const found: LeafFiles[] = [];
  const gateway = leafFiles(tree, "gateway", "gateway");
  await assertNoSymlinkBelow(tree.root, gateway.dir);
  if ((await exists(gateway.cert)) || (await exists(gateway.key))) found.push(gateway);
  for (const role of ["plugin", "server", "client"] as const) {
    const roleDir = join(tree.root, LEAF_DIRS[role]);
    await assertNoSymlinkBelow(tree.root, roleDir);
    const { directories, links } = await listRoleDirectory(roleDir);
    // A leaf directory replaced by a link is named (exit 2), not skipped and not followed.
    for (const link of links) throw symlinkRefused(join(roleDir, link));
    for (const name of directories) found.push(leafFiles(tree, role, name));
  }
  return found;
}

/**
 * plugins/, servers/ or clients/ in one readdir: its leaf directories (sorted, no dot-names) and
 * the links among its entries. Nothing when it does not exist.
 */
async function listRoleDirectory(dir: string): Promise<{ directories: string[]; links: string[] }> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return { directories: [], links: [] };
    throw e;
  }
  return {
    directories: entries
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort(),
    links: entries.filter((e) => e.isSymbolicLink()).map((e) => e.name),
  };
}

/**
 * Every leaf `check` and `renew` look after: the tree's, plus the gateway's own HTTPS cert where
 * `https` puts it by default (certs/cert.pem next to certs/mcp), when it is there.
 */
export async function listIssuedLeaves(tree: TreePaths): Promise<LeafFiles[]> {
  const https = httpsFiles(certsDirOf(tree));
  const [leaves, hasHttps] = await Promise.all([listTreeLeaves(tree), exists(https.cert)]);
  return hasHttps ? [...leaves, https] : leaves;
}
