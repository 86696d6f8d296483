/**
 * Files in a leaf's directory made from its cert and key, which must follow the pair whenever it
 * changes: a proxy serves what the file holds, not what server.crt holds. Decided per file:
 * - haproxy.pem (servers, `export haproxy`): the served chain, then the key in the clear. HAProxy
 *   serves it, so renew rebuilds it from the new pair (else the old, maybe revoked cert stays in
 *   service), keeping its mode and group; `check` names one that no longer holds the pair.
 * - fullchain.crt (servers under an intermediate, `export nginx|caddy`): the served chain, what
 *   nginx and Caddy present. Rebuilt and checked the same way; no key, so 0644.
 * - client.pem (clients): cert, chain and key, written with the pair by leaf-write.ts writeLeaf; a
 *   killed renew's stale one is made again by renew/backup.ts. Not here.
 * - the ca.crt copy: the CA's file, not the pair's (leaf-write.ts writeCaCopy, renew's writeCaCopies).
 * - PKCS#12 files, Kubernetes/Istio Secrets, env and proxy config files: written to a path the
 *   user chose (-o), which renew cannot know, a .p12 under a password mtls-certs never keeps. Not
 *   rebuilt: the docs say to export them again after a renewal.
 */
import { X509Certificate as NodeCert, createPrivateKey, type KeyObject } from "node:crypto";
import { promises as fs } from "node:fs";
import { MtlsError } from "../errors.js";
import { privateKeyMatches } from "../pki/key-match.js";
import { isSelfSigned } from "../pki/issued-by.js";
import { mayChangeGroupTo, widestKeyMode, type KeyFileStat } from "./key-mode.js";
import { sameSpki } from "./leaf-key.js";
import { LedgerBook } from "./ledger-book.js";
import { readLedger } from "./ledger.js";
import { withLock } from "./lock.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readKnown, refusalError, textOrThrow, type FileRead, type KnownFiles } from "./file-facts.js";
import { CERT_FILE, KEY_FILE } from "./leaf-file.js";
import { CERT_MODE, exists, readKeyText, readCertText, symlinkRefused, writeFileAtomically } from "./write.js";

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/** A file derived from a leaf's pair, and whether it holds the key. */
export interface LeafBundle {
  readonly path: string;
  readonly withKey: boolean;
  /** The export that makes it, for hints. */
  readonly export: string;
}

export function bundlesOf(files: LeafFiles): LeafBundle[] {
  const bundles: LeafBundle[] = [];
  if (files.haproxyBundle) bundles.push({ path: files.haproxyBundle, withKey: true, export: "haproxy" });
  if (files.fullChain) bundles.push({ path: files.fullChain, withKey: false, export: "nginx (or caddy)" });
  return bundles;
}

/** The intermediate CA(s) of a CA file (its certs that are not self-signed), each ending in a newline. */
export function intermediatesOf(caPem: string): string[] {
  return (caPem.match(CERT_BLOCK) ?? []).filter((pem) => !isSelfSigned(new NodeCert(pem))).map((pem) => pem + "\n");
}

/**
 * What a server presents: its cert, then the intermediate CA(s) of its CA file when there are any,
 * since clients that trust only the root need them to build the chain.
 */
export function servedChainOf(certPem: string, caPem: string): string {
  // A leaf made under an intermediate carries it already (tree.ts servedChain): not twice.
  const chain = intermediatesOf(caPem).filter((pem) => !certPem.includes(pem.trim()));
  return chain.length === 0 ? certPem : certPem.trimEnd() + "\n" + chain.join("");
}

/** HAProxy's one file: the served chain, then the key (in the clear: HAProxy cannot open an encrypted one). */
export function haproxyBundleOf(certPem: string, caPem: string, clearKeyPem: string): string {
  return servedChainOf(certPem, caPem).trimEnd() + "\n" + clearKeyPem.trimEnd() + "\n";
}

/** The CA file a peer of this leaf verifies against: its own ca.crt copy when present, else the tree's. */
export async function leafCaFile(tree: TreePaths, files: LeafFiles): Promise<string> {
  if (files.caCopy && (await exists(files.caCopy))) return files.caCopy;
  return (await exists(tree.caBundle)) ? tree.caBundle : tree.caCert;
}

/** What a bundle holds instead of `cert` (and its key); undefined when it holds that pair. */
function pairProblem(text: string, cert: NodeCert, withKey: boolean): string | undefined {
  const held = firstCert(text);
  if (held === undefined) return "holds no readable certificate";
  if (!held.raw.equals(cert.raw))
    return `holds the cert with serial ${held.serialNumber}, not the leaf's current one (serial ${cert.serialNumber})`;
  if (!withKey) return undefined;
  const key = firstKey(text);
  if (key === undefined) return "holds no private key in the clear";
  return privateKeyMatches(cert, key) ? undefined : "its private key is not the cert's";
}

function firstCert(text: string): NodeCert | undefined {
  const pem = text.match(CERT_BLOCK)?.[0];
  try {
    return pem === undefined ? undefined : new NodeCert(pem);
  } catch {
    return undefined;
  }
}

function firstKey(text: string): KeyObject | undefined {
  const pem = KEY_BLOCK.exec(text)?.[0];
  if (pem === undefined || pem.includes("ENCRYPTED")) return undefined;
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

/**
 * `check`: what is wrong with one bundle beside the leaf, read once (file-facts.ts): not the file
 * export writes, or no longer the leaf's current pair (a proxy keeps serving what it holds: the
 * old cert, expired or revoked soon). One that cannot be read is named as every reader refuses it.
 */
export function staleBundleProblem(
  files: LeafFiles,
  bundle: LeafBundle,
  read: FileRead,
  cert: NodeCert,
): string | undefined {
  if (read.found === "missing") return undefined;
  const fix = `run \`mtls-certs export ${bundle.export} --server ${files.name}\` to rebuild it from the pair`;
  const kind =
    read.found === "link"
      ? "a symbolic link"
      : read.found === "refused" && read.refusal.code === "E_NOT_REGULAR_FILE"
        ? read.stat.kind
        : undefined;
  if (kind !== undefined) return `${bundle.path}: ${kind}, not the file export writes; remove it and ${fix}`;
  // A hard link, too large, unreadable: named with its leaf, not the end of the report.
  if (read.found !== "read") return read.refusal.message;
  const problem = pairProblem(read.text, cert, bundle.withKey);
  return problem && `${bundle.path}: stale: ${problem}; ${fix}`;
}

/**
 * renew (after a new pair) and its repair of a killed run: each bundle beside the leaf that no
 * longer holds the pair is made again from it, atomically, keeping its mode and group as the
 * key-mode rule allows (renewedKeyFile). `clearKeyPem`: the key in the clear; `known`: the leaf's
 * files as renew read and wrote them (not opened again, writes recorded). Returns what it rewrote.
 */
export async function rebuildStaleBundles(
  tree: TreePaths,
  files: LeafFiles,
  clearKeyPem: string,
  book: LedgerBook,
  warnings: string[],
  known?: KnownFiles,
): Promise<string[]> {
  const bundles = bundlesOf(files);
  if (bundles.length === 0) return [];
  const certPem = textOrThrow(readKnown(files.cert, CERT_FILE, known));
  if (certPem === undefined) return [];
  const cert = new NodeCert(certPem);
  const caPem = textOrThrow(readKnown(await leafCaFile(tree, files), {}, known)) ?? "";
  const rebuilt: string[] = [];
  for (const bundle of bundles) {
    // Its one read decides (the descriptor's fstat, not a second look by name).
    const read = readKnown(bundle.path, KEY_FILE, known);
    if (read.found === "missing") continue;
    const kind = read.found === "link" ? "a symbolic link" : read.found === "refused" ? read.stat.kind : undefined;
    if (kind !== undefined && kind !== "a regular file") {
      // A link or FIFO in place of the bundle is not ours to write through; `check` names it.
      warnings.push(`${bundle.path}: ${kind}, left as it is: it is not rebuilt with the renewed pair`);
      continue;
    }
    if (read.found !== "read") throw refusalError(read.refusal); // a second name, too large: as every reader
    const { text } = read;
    if (pairProblem(text, cert, bundle.withKey) === undefined) continue;
    // The user's own file at that name (another cert, another key) is theirs, as export holds it.
    if (!writtenForLeaf(files, text, bundle.withKey, cert, book)) {
      warnings.push(
        `${bundle.path}: does not hold a ${files.role} ${files.name} cert this tree issued with its key; left as it is (move it away, or \`mtls-certs export ${bundle.export} --server ${files.name} --force\`)`,
      );
      continue;
    }
    const keyFile = bundle.withKey ? keyLikeMode(bundle.path, read.stat, files, warnings) : undefined;
    await writeFileAtomically(
      bundle.path,
      bundle.withKey ? haproxyBundleOf(certPem, caPem, clearKeyPem) : servedChainOf(certPem, caPem),
      { mode: keyFile?.mode ?? CERT_MODE, group: keyFile?.group, replace: true, known },
    );
    rebuilt.push(bundle.path);
  }
  return rebuilt;
}

/**
 * `export`: writes a bundle beside the leaf under the tree lock, only when its bytes change. An
 * existing file is replaced only when it is one export wrote for this leaf (see writtenForLeaf), or
 * with `force`: else exit 2 naming it, so a user's own haproxy.pem is never silently lost.
 * Returns the files written.
 */
export async function writeLeafBundle(
  tree: TreePaths,
  files: LeafFiles,
  path: string,
  text: string,
  o: { mode: number; group?: number; force?: boolean },
): Promise<string[]> {
  const withKey = path === files.haproxyBundle;
  return withLock(tree.lock, async () => {
    // Not through a link: a planted haproxy.pem → /etc/shadow is refused (exit 2), not replaced.
    const current = await readKeyText(path);
    // Same bytes: written again only to give it the key's mode and group (the key got --key-group since).
    if (current === text && (await hasMode(path, o))) return [];
    if (
      current !== undefined &&
      !o.force &&
      !writtenForLeaf(files, current, withKey, await currentCert(files), await bookOf(tree))
    )
      throw new MtlsError(
        "E_USAGE",
        `${path}: already exists and does not hold a ${files.role} ${files.name} cert this tree issued${withKey ? " with its key" : ""}; not overwritten`,
        "move it away, or pass --force to replace it",
      );
    await writeFileAtomically(path, text, { mode: o.mode, group: o.group, replace: current !== undefined });
    return [path];
  });
}

async function hasMode(path: string, o: { mode: number; group?: number }): Promise<boolean> {
  const stat = await fs.lstat(path);
  return (stat.mode & 0o777) === o.mode && (o.group === undefined || stat.gid === o.group);
}

/**
 * A file export wrote for this leaf: its first cert is the leaf's (and, for haproxy.pem, its key is
 * that cert's), either with the leaf's current key (a re-export, or a renewal with --reuse-key) or
 * one the ledger recorded for this leaf (a cert since renewed with a new key: the file is stale,
 * and rebuilding it is the point). Anything else (another cert, no key, unreadable) is the user's.
 */
function writtenForLeaf(
  files: LeafFiles,
  text: string,
  withKey: boolean,
  cert: NodeCert | undefined,
  book: LedgerBook | undefined,
): boolean {
  const held = firstCert(text);
  if (held === undefined) return false;
  if (withKey) {
    const key = firstKey(text);
    if (key === undefined || !privateKeyMatches(held, key)) return false;
  }
  if (cert !== undefined && sameSpki(cert.publicKey, held.publicKey)) return true;
  const entry = book?.entryFor(held);
  return entry !== undefined && entry.role === files.role && entry.name === files.name;
}

async function currentCert(files: LeafFiles): Promise<NodeCert | undefined> {
  const pem = await readCertText(files.cert);
  return pem === undefined ? undefined : new NodeCert(pem);
}

/** The ledger on disk (export runs outside renew's book); undefined for a tree not adopted yet. */
async function bookOf(tree: TreePaths): Promise<LedgerBook | undefined> {
  const ledger = await readLedger(tree);
  return ledger && new LedgerBook(ledger);
}

/** The mode and group a bundle holding the leaf's key gets from `export`: the key's own. */
export async function bundleModeOfKey(files: LeafFiles, notes: string[]): Promise<{ mode: number; group?: number }> {
  const stat = await fs.lstat(files.key);
  // The key was read without following links before this; its mode is not taken from a link's target.
  if (stat.isSymbolicLink()) throw symlinkRefused(files.key);
  return keyLikeMode(files.haproxyBundle ?? files.key, stat, files, notes);
}

/**
 * A file that holds a key takes the mode and group of `stat` (the key it copies, or the bundle it
 * replaces), never wider than the key-mode rule allows it (0600, or 0640 in a group given on
 * purpose): a key readable by the HAProxy container's group (--key-group) stays readable in the
 * bundle. A group this user may not set is dropped with the group's read, and a note says so.
 */
function keyLikeMode(
  /** The file written, for the note. */
  path: string,
  stat: KeyFileStat,
  files: LeafFiles,
  notes: string[],
): { mode: number; group: number | undefined } {
  const mode = stat.mode & widestKeyMode(stat, { role: files.role });
  if (stat.gid === process.getgid?.()) return { mode, group: undefined };
  if (mayChangeGroupTo(stat.gid)) return { mode, group: stat.gid };
  if (mode & 0o070)
    notes.push(
      `${path}: group ${stat.gid} is not set on the new file (only root or a member of that group may); it is readable by its owner only: run chgrp as root`,
    );
  return { mode: mode & 0o700, group: undefined };
}
