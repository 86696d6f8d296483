/**
 * What `revoke`, `fingerprint` and `export p12` take as their argument: a certificate file, or
 * the name of a leaf in the tree (`gateway`, a plugin, a named server or client), or `ca`.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { promises as fs } from "node:fs";
import { resolve } from "node:path";
import { MtlsError } from "../errors.js";
import { certificateOf } from "../pki/node-facts.js";
import type { Role } from "../pki/profiles.js";
import { listTreeLeaves } from "./leaf-list.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readCertText } from "./write.js";

export interface CertTarget {
  readonly certPath: string;
  /** The key next to the cert when the target is a leaf of the tree; else undefined. */
  readonly keyPath: string | undefined;
  readonly role: Role | undefined;
  readonly name: string;
  readonly pem: string;
  /** The certificate, parsed: a file that is not a PEM certificate is refused (exit 2). */
  readonly cert: NodeCert;
  /** The leaf's files when the target is a leaf of the tree. */
  readonly files?: LeafFiles;
}

/** A file wins over a name: `./gateway` is a file, `gateway` is the tree's gateway cert. */
export async function findCertificate(tree: TreePaths, target: string): Promise<CertTarget> {
  const leaves = await listTreeLeaves(tree);
  const stat = await fs.stat(target).catch(() => undefined);
  if (stat?.isFile()) {
    const pem = await readCert(target, target);
    const leaf = leaves.find((l) => l.cert === resolve(target));
    return leaf
      ? fromLeaf(leaf, pem)
      : { certPath: target, keyPath: undefined, role: undefined, name: target, pem, cert: parse(pem, target) };
  }
  if (target === "ca") {
    const pem = await readCert(tree.caCert, target);
    return { certPath: tree.caCert, keyPath: tree.caKey, role: "ca", name: "ca", pem, cert: parse(pem, tree.caCert) };
  }
  const named = leaves.filter((l) => l.name === target);
  if (named.length === 0) {
    throw new MtlsError(
      "E_NOT_FOUND",
      `${JSON.stringify(target)}: neither a certificate file nor a certificate in ${tree.root}`,
      "give a file path, or a name that `mtls-certs check` lists",
    );
  }
  if (named.length > 1) {
    throw new MtlsError(
      "E_USAGE",
      `${JSON.stringify(target)}: ${named.length} certificates have this name (${named.map((l) => l.cert).join(", ")})`,
      "give the certificate file instead",
    );
  }
  const leaf = named[0]!;
  return fromLeaf(leaf, await readCert(leaf.cert, target));
}

function fromLeaf(leaf: LeafFiles, pem: string): CertTarget {
  return {
    certPath: leaf.cert,
    keyPath: leaf.key,
    role: leaf.role,
    name: leaf.name,
    pem,
    cert: parse(pem, leaf.cert),
    files: leaf,
  };
}

function parse(pem: string, file: string): NodeCert {
  return certificateOf(pem, file);
}

/**
 * Through readCertText: regular files only, opened non-blocking, so a FIFO planted as a leaf's cert
 * is refused instead of hanging the run; a directory or an unreadable file is named as such; and
 * 1 MiB at most, as every cert read is: a planted 2 GB "cert" is refused before it is read.
 */
async function readCert(path: string, target: string): Promise<string> {
  const pem = await readCertText(path);
  if (pem === undefined)
    throw new MtlsError(
      "E_NOT_FOUND",
      `${JSON.stringify(target)}: ${path} is missing`,
      "issue it first, or give a certificate file",
    );
  return pem;
}
