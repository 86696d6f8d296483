/**
 * One leaf directory read once, as plain data (store/inventory.ts reads the rest of the tree):
 * its directories' ownership and modes, its cert parsed, its key opened once without following
 * links and matched to the cert from its private part (the key's text is dropped once matched),
 * the files beside it that hold the key, its ca.crt copy and the bundles export made from the
 * pair. Each file is opened at most once; what it means is store/leaf-verdict.ts's to say.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { MtlsError } from "../errors.js";
import { privateKeyPemMatches } from "../pki/key-match.js";
import { encryptedKeyProblem } from "../pki/keys.js";
import { whyNotACertificate } from "../pki/node-facts.js";
import { dirname } from "node:path";
import { directoryOwnershipProblemsSync, type DirectoryLooks } from "./directory-ownership.js";
import { CERT_FILE, KEY_FILE } from "./leaf-file.js";
import { lstatFacts, readKnown, type FileRead, type KnownFiles, type StatFacts } from "./file-facts.js";
import { bundlesOf, type LeafBundle } from "./leaf-bundles.js";
import { privateKeyFiles, type LeafFiles } from "./paths.js";

/** A certificate file read and parsed. */
export interface CertFacts {
  readonly read: FileRead;
  /** The certificate, when the file reads as one. */
  readonly cert: NodeCert | undefined;
  /** Why the text is not a certificate, when it was read but does not parse. */
  readonly notACertificate: string | undefined;
}

/** A private key file: opened once without following links, fstat'ed, matched, its text dropped. */
export interface KeyFacts {
  readonly path: string;
  /** How the open went: "unreadable" is EACCES/EPERM (this user may not read it). */
  readonly found: "missing" | "link" | "unreadable" | "refused" | "read";
  /** The descriptor's fstat (the lstat when it could not be opened), for the key-mode rule. */
  readonly stat: StatFacts | undefined;
  /** Why it was refused (a FIFO, a second name, too large, not a key), as every reader refuses it. */
  readonly refusal: { readonly message: string; readonly code: string } | undefined;
  /** An encrypted key: its envelope's problem, if any (it cannot be matched without the passphrase). */
  readonly encrypted: { readonly problem: string | undefined } | undefined;
  /** Read and not encrypted: whether its private part is the cert's key. */
  readonly matches: boolean | undefined;
  /** The key's text, kept only when asked: the CA's, which a command that signs uses (one read). */
  readonly text?: string;
}

/** A file beside the key that holds it too (client.pem, haproxy.pem): its lstat, never followed. */
export interface KeyBearingFacts {
  readonly path: string;
  readonly stat: StatFacts | undefined;
}

export interface LeafFacts {
  readonly files: LeafFiles;
  /** Its directories (and plugins/, servers/, clients/ above) owned by another user, or writable by others. */
  readonly directoryProblems: readonly string[];
  readonly cert: CertFacts;
  /** Read only when the cert parsed: a key is matched to its cert, and nothing else here is judged without one. */
  readonly key: KeyFacts | undefined;
  readonly keyBearing: readonly KeyBearingFacts[];
  readonly caCopy: FileRead | undefined;
  readonly bundles: ReadonlyArray<{ readonly bundle: LeafBundle; readonly read: FileRead }>;
}

export function readCertFacts(path: string, known?: KnownFiles): CertFacts {
  const read = readKnown(path, CERT_FILE, known);
  if (read.found !== "read") return { read, cert: undefined, notACertificate: undefined };
  try {
    return { read, cert: new NodeCert(read.text), notACertificate: undefined };
  } catch (e) {
    return { read, cert: undefined, notACertificate: whyNotACertificate(read.text, e) };
  }
}

/** Opens the key once (O_NOFOLLOW, KEY_FILE's refusals) and matches it to `cert` from its private part. */
export function readKeyFacts(path: string, cert: NodeCert, keepText = false, known?: KnownFiles): KeyFacts {
  const read = readKnown(path, KEY_FILE, known);
  const none = { stat: undefined, refusal: undefined, encrypted: undefined, matches: undefined };
  switch (read.found) {
    case "missing":
      return { path, found: "missing", ...none };
    case "link":
      return { path, found: "link", ...none };
    case "unopened": {
      const errno = read.refusal.errno;
      // Whose it is, for "run as the tree's owner": from the name, since no descriptor was had.
      const stat = lstatFacts(path);
      if (errno === "EACCES" || errno === "EPERM") return { path, found: "unreadable", ...none, stat };
      return { path, found: "refused", ...none, stat, refusal: read.refusal };
    }
    case "refused":
      return { path, found: "refused", ...none, stat: read.stat, refusal: read.refusal };
    case "read": {
      const facts = { path, found: "read" as const, ...none, stat: read.stat, ...(keepText && { text: read.text }) };
      if (read.text.includes("ENCRYPTED")) return { ...facts, encrypted: { problem: encryptedKeyProblem(read.text) } };
      try {
        // From the key's private part: the public part a key file carries can be forged (key-match.ts).
        return { ...facts, matches: privateKeyPemMatches(cert, read.text, path) };
      } catch (e) {
        const refusal = e instanceof MtlsError ? e : undefined;
        return {
          ...facts,
          found: "refused",
          refusal: { message: refusal?.message ?? `${path}: not a readable private key`, code: refusal?.code ?? "" },
        };
      }
    }
  }
}

/** What tree.ts assertLeafDirectory would refuse about a leaf's directories, as problems. */
function leafDirectoryProblems(files: LeafFiles, looks: DirectoryLooks): string[] {
  if (files.role === "https") return [];
  const roleDir = files.role === "gateway" ? files.dir : dirname(files.dir);
  return directoryOwnershipProblemsSync(dirname(roleDir), files.dir, looks);
}

/**
 * One leaf's files, each opened at most once. Synchronous, as file-facts.ts says why; `looks`
 * remembers the directories above the leaf for the next leaf of the same read.
 */
function readLeafFacts(files: LeafFiles, looks: DirectoryLooks = new Map(), known?: KnownFiles): LeafFacts {
  const directoryProblems = leafDirectoryProblems(files, looks);
  const cert = readCertFacts(files.cert, known);
  const leaf = { files, directoryProblems, cert };
  if (cert.cert === undefined) return { ...leaf, key: undefined, keyBearing: [], caCopy: undefined, bundles: [] };
  return {
    ...leaf,
    key: readKeyFacts(files.key, cert.cert, false, known),
    // Absent is fine for these: they are written on demand.
    keyBearing: privateKeyFiles(files)
      .filter((p) => p !== files.key)
      .map((path) => ({ path, stat: lstatFacts(path) })),
    caCopy: files.caCopy === undefined ? undefined : readKnown(files.caCopy, {}, known),
    bundles: bundlesOf(files).map((bundle) => ({ bundle, read: readKnown(bundle.path, KEY_FILE, known) })),
  };
}

/**
 * The files readLeafFacts would open, opened the same way into `known`, nothing judged (no key is
 * matched): a command that works on the leaf first (renew) and has it judged afterwards.
 * Returns the cert's read.
 */
export function readLeafFiles(files: LeafFiles, known: KnownFiles): FileRead {
  const cert = readKnown(files.cert, CERT_FILE, known);
  if (cert.found !== "read") return cert;
  try {
    new NodeCert(cert.text);
  } catch {
    return cert;
  }
  readKnown(files.key, KEY_FILE, known);
  if (files.caCopy !== undefined) readKnown(files.caCopy, {}, known);
  for (const bundle of bundlesOf(files)) readKnown(bundle.path, KEY_FILE, known);
  return cert;
}

/**
 * Leaves read per turn of the event loop. A leaf's reads are synchronous (file-facts.ts says why),
 * so a tree of hundreds yields between slices: a signal's cleanup or a progress tick never waits
 * for the whole tree.
 */
export const LEAVES_PER_TURN = 64;

/** Each leaf's facts, in order (a worker thread reads its slice the same way). */
export async function readLeavesFacts(leaves: readonly LeafFiles[], known?: KnownFiles): Promise<LeafFacts[]> {
  const looks: DirectoryLooks = new Map();
  const facts: LeafFacts[] = [];
  for (const [i, files] of leaves.entries()) {
    if (i > 0 && i % LEAVES_PER_TURN === 0) await new Promise(setImmediate);
    facts.push(readLeafFacts(files, looks, known));
  }
  return facts;
}
