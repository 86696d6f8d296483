/**
 * Which leaf directories a tree holds: listed without following links (a leaf directory replaced
 * by a link is exit 2). The ledger, check, renew and revoke start from this list.
 */
import { join } from "node:path";
import { LEAF_DIRS, certsDirOf, httpsFiles, leafFiles, type LeafFiles, type TreePaths } from "./paths.js";
import { assertNoSymlinkBelow, exists, listDirectories, listSymlinks, symlinkRefused } from "./write.js";

/** Every leaf directory in the tree that holds a certificate or key. */
export async function listTreeLeaves(tree: TreePaths): Promise<LeafFiles[]> {
  const found: LeafFiles[] = [];
  const gateway = leafFiles(tree, "gateway", "gateway");
  await assertNoSymlinkBelow(tree.root, gateway.dir);
  if ((await exists(gateway.cert)) || (await exists(gateway.key))) found.push(gateway);
  for (const role of ["plugin", "server", "client"] as const) {
    const roleDir = join(tree.root, LEAF_DIRS[role]);
    await assertNoSymlinkBelow(tree.root, roleDir);
    // A leaf directory replaced by a link is named (exit 2), not skipped and not followed.
    for (const link of await listSymlinks(roleDir)) throw symlinkRefused(join(roleDir, link));
    for (const name of await listDirectories(roleDir)) found.push(leafFiles(tree, role, name));
  }
  return found;
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
