/**
 * What is on disk before a run writes: a leaf directory that is the tree's to write into, a leaf's
 * pair kept or to be made (a pair kept must work), and the CA present, to be made, or damaged.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { certificateOf } from "../pki/node-facts.js";
import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { MtlsError } from "../errors.js";
import { privateKeyMatches } from "../pki/key-match.js";
import { encryptedKeyProblem } from "../pki/keys.js";
import { assertDirectoriesOwned } from "./directory-ownership.js";
import { listTreeLeaves } from "./leaf-list.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { exists, assertNoSymlinkBelow, readKeyText, readCertText } from "./write.js";
import { plural } from "../human.js";

/**
 * A leaf's directory (and plugins/, servers/, clients/ above it) must be real directories in the
 * tree, the tree owner's alone (leaf-file.ts directoryOwnershipProblems): a link would send reads
 * and writes wherever the leaf's owner points it, and a directory another user can write is theirs.
 */
export async function assertLeafDirectory(files: LeafFiles): Promise<void> {
  if (files.role === "https") return; // certs/ outside the tree, the user's own folder
  const roleDir = files.role === "gateway" ? files.dir : dirname(files.dir);
  await assertNoSymlinkBelow(dirname(roleDir), files.dir);
  // Owned by another user, or writable by group or others: not the CA's to write into or read from.
  await assertDirectoriesOwned(dirname(roleDir), files.dir);
}

type LeafState = "kept" | "create";

export async function leafState(files: LeafFiles): Promise<LeafState> {
  await assertLeafDirectory(files);
  const [hasCert, hasKey] = await Promise.all([exists(files.cert), exists(files.key)]);
  if (hasCert && !hasKey) {
    throw new MtlsError(
      "E_CERT_WITHOUT_KEY",
      `${files.cert}: the certificate has no key (${files.key} is missing)`,
      `restore the key, or remove ${files.dir} to issue a new pair`,
    );
  }
  // A key without its cert is what a run killed between the two writes leaves: replace it.
  if (!hasCert) return "create";
  await assertPairUsable(files);
  return "kept";
}

/** A pair we keep must work: a truncated cert or a key of another pair is named, never kept silently. */
async function assertPairUsable(files: LeafFiles): Promise<void> {
  const [certPem = "", keyPem = ""] = await Promise.all([readCertText(files.cert), readKeyText(files.key)]);
  const hint = `restore it from a backup, or remove ${files.dir} to issue a new pair`;
  const cert = certificateOf(certPem, files.cert, hint);
  if (keyPem.includes("ENCRYPTED")) {
    // Opens only with its passphrase; its envelope can be checked without (as `check` does).
    const problem = encryptedKeyProblem(keyPem);
    if (problem)
      throw new MtlsError("E_DAMAGED", `${files.key}: an encrypted key that no passphrase opens: ${problem}`, hint);
    return;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new MtlsError("E_DAMAGED", `${files.key}: not a readable private key`, hint);
  }
  if (!privateKeyMatches(cert, key))
    throw new MtlsError("E_DAMAGED", `${files.key}: does not match ${files.cert}`, hint);
}

export async function caState(tree: TreePaths): Promise<"present" | "create"> {
  if (await exists(tree.caCert)) {
    await fs.rm(tree.caCreating, { force: true }); // killed after ca.crt was written: the CA is whole
    return "present";
  }
  if (await exists(tree.caCreating)) {
    // A run killed while creating the CA (the marker goes only once ca.crt is there): its key
    // never signed anything, so it is removed and the CA made again.
    await Promise.all(
      [tree.caKey, tree.intermediateKey, tree.intermediateCert, tree.caBundle].map((f) => fs.rm(f, { force: true })),
    );
    await fs.rm(tree.caCreating, { force: true });
  }
  const leaves = await listTreeLeaves(tree);
  const signed = (await Promise.all(leaves.map((l) => exists(l.cert)))).filter(Boolean).length;
  if (signed > 0) {
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: missing, but ${plural(signed, "certificate")} in ${tree.root} ${signed === 1 ? "was" : "were"} signed by a CA`,
      "restore ca/ from a backup; a new CA would not verify them (or remove the tree to start over)",
    );
  }
  // A key without its cert is a CA someone still has: never make a new one over it.
  for (const key of [tree.caKey, tree.intermediateKey]) {
    if (await exists(key))
      throw new MtlsError(
        "E_CA_DAMAGED",
        `${key}: present, but ${tree.caCert} is missing`,
        `restore ${tree.caCert} from a backup, or move ${key} out of the tree to start a new CA`,
      );
  }
  return "create";
}
