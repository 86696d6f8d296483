/**
 * Plans and writes certificates into the tree: the CA when missing, then every leaf asked for.
 * Everything that can be refused is checked before the first byte is written; then all the keys
 * the run needs are generated at once (the CA's first), and each leaf is signed as soon as its
 * key and the CA are ready. Existing files are kept byte for byte.
 */
import { X509Certificate as NodeCert, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { certificateOf } from "../pki/node-facts.js";
import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import type * as x509 from "../pki/x509.js";
import {
  DEFAULT_CA_DAYS,
  DEFAULT_DAYS,
  DEFAULT_INTERMEDIATE_DAYS,
  DEFAULT_KEY_TYPE,
  DEFAULT_OUT,
} from "../defaults.js";
import { MtlsError, type ErrorCode } from "../errors.js";
import { privateKeyMatches } from "../pki/key-match.js";
import { nameRefusalError } from "../pki/name-policy.js";
import { keptCertNotes, refusedNames } from "./leaf-names.js";
import {
  encryptPrivateKeyPem,
  encryptedKeyProblem,
  generateKey,
  type KeyPair,
  type KeyType,
  keyTypeOf,
} from "../pki/keys.js";
import { capWarning, signCertificate, toPem, validityFor, type Validity } from "../pki/issue.js";
import { createLimiter } from "../pki/limiter.js";
import { assertNameConstraintsPlan } from "../pki/constraints.js";
import {
  PROFILES,
  caSubject,
  formatSan,
  intermediateSubject,
  type CaSubjectOptions,
  type Profile,
  type Role,
  type San,
  type Subject,
} from "../pki/profiles.js";
import { loadSigningCa, type LoadedCa } from "./ca-store.js";
import { assertCaKeyProtected, shareExistingKeys, sharedKeyFile } from "./key-mode.js";
import { assertDirectoriesOwned } from "./leaf-file.js";
import { ledgerEntry } from "./ledger.js";
import { adoptionLines, reconcileLedger } from "./ledger-adoption.js";
import { listTreeLeaves } from "./leaf-list.js";
import { withLock } from "./lock.js";
import { LOCK_FILE, privateKeyFiles, treePaths, type LeafFiles, type TreePaths } from "./paths.js";
import {
  CERT_MODE,
  KEY_MODE,
  ensureDirectory,
  exists,
  assertNoSymlinkBelow,
  readKeyText,
  readCertText,
  readText,
  removeLeftoverTemps,
  removeLeftoverTempsBelow,
  writeFileAtomically,
} from "./write.js";
import { plural } from "../human.js";

/** Options every command that writes the tree takes; the names match the CLI flags. */
export interface TreeOptions {
  /** The tree's root. Default `certs/mcp`, relative to the current directory. */
  out?: string;
  /** Validity of new leaf certificates in days. Default 825 (MCP_CERT_DAYS). */
  days?: number;
  /** Validity of a new (or rotated) CA in days. Default 3650 (MCP_CA_DAYS); an intermediate gets 1825. */
  caDays?: number;
  /** Key type of new keys. Default rsa4096. */
  keyType?: KeyType;
  /** The clock. Default: now. */
  now?: Date;
  /** Explicit validity for new leaves, for test fixtures; wins over `now`/`days`. */
  notBefore?: Date;
  notAfter?: Date;
  /** How many keys to generate at once. Default: the number of cores. */
  jobs?: number;
  /** Encrypts new leaf keys with this passphrase (and opens encrypted leaf keys). */
  keyPassphrase?: string;
  /** Encrypts a new CA (and intermediate) key, and opens an encrypted one: never the leaves' passphrase. */
  caPassphrase?: string;
  /** Subject of a new CA. */
  caSubject?: CaSubjectOptions;
  /** Extensions a new CA gets (nameConstraints). */
  caExtensions?: readonly x509.Extension[];
  /** A new CA also gets an intermediate (pathlen 0) that signs every leaf (`ca --intermediate`). */
  intermediate?: boolean;
  /** How long to wait for another run's lock, in ms. */
  lockWaitMs?: number;
  /**
   * Group of the leaf keys (`--key-group`, env MTLS_CERTS_KEY_GROUP): 0640 in that group from the
   * first byte, so a container user in it can read them. Never the CA's key.
   */
  keyGroup?: number;
  /** The gateway's key's group when it differs (`--gateway-key-group`): its image reads as 10001. */
  gatewayKeyGroup?: number;
  /** Progress for people; never key material. */
  onProgress?: (message: string) => void;
}

/** One certificate a leaf command asks for. */
export interface LeafRequest {
  readonly files: LeafFiles;
  readonly profile: Profile;
  /** Names for a new cert, or an existing cert's exact name (renewal keeps it byte for byte). */
  readonly subject: Subject | x509.Name;
  readonly sans: readonly San[];
  /** Extensions beyond the profile's, e.g. ones an existing cert carries that renewal keeps. */
  readonly extensions?: readonly x509.Extension[];
  /** 0600 unless the role needs otherwise (https: 0640, for a container's group 0). */
  readonly keyMode?: number;
  /** Group of the key file, set before its first byte is written (`https --group`). */
  readonly keyGroup?: number;
}

export type CertAction = "created" | "kept" | "renewed";

/** What a command did to one certificate: the unit of every `--json` result. */
export interface CertResult {
  readonly role: Role;
  readonly name: string;
  readonly action: CertAction;
  readonly cert: string;
  readonly key: string;
  readonly subject: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint: string;
  readonly sans: readonly string[];
  /** What `all` found about a kept cert: policy problems and drift, each with its fix (issue 15). */
  readonly notes?: readonly string[];
}

export interface IssueReport {
  readonly root: string;
  readonly certificates: CertResult[];
  readonly warnings: string[];
  /** `all` on an existing tree: how many kept certs need attention, and the one command to run next. */
  readonly attention?: number;
  /** `all`: certs that `check` would report expiring (not failing) right after, and its window in days. */
  readonly expiring?: { readonly count: number; readonly within: number };
  readonly next?: string | null;
  /** What the issuance ledger adopted on this run, one line per cert (ledger.ts adoptionLines). */
  readonly adopted?: string[];
  /** Named like our temp files but not ours (foreignLeftovers): also in `warnings`; `all` exits 2 after the run. */
  readonly leftovers?: readonly string[];
  /** Leaves not signed (a name the name policy refused), each with why: the run exits 2. */
  readonly failed?: FailedLeaf[];
}

/** A leaf a run did not sign, and why (as renew's `failed`). */
export interface FailedLeaf {
  readonly role: Role;
  readonly name: string;
  readonly cert: string;
  readonly error: { code: ErrorCode; message: string; hint: string | null };
}

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

export { listIssuedLeaves, listTreeLeaves } from "./leaf-list.js";

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

async function caState(tree: TreePaths): Promise<"present" | "create"> {
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

/**
 * Ensures the CA exists, then issues every requested leaf that is missing. The CA and each leaf
 * already on disk are kept as they are.
 */
export async function issueIntoTree(o: TreeOptions, asked: readonly LeafRequest[]): Promise<IssueReport> {
  // A key group this user may not set is refused before the tree is even locked.
  const requests = asked.map((r) => withAskedKeyGroup(r, o));
  return withTree(o, async (tree) => {
    const now = o.now ?? new Date();
    const keyType = o.keyType ?? DEFAULT_KEY_TYPE;
    const warnings: string[] = [...foreignLeftovers(tree)];
    // Plan everything first: a refusal must come before anything is written.
    const needCa = (await caState(tree)) === "create";
    // A new CA key is not written into a tree others could swap it out of (an existing one is
    // checked where it is loaded, ca-store.ts).
    if (needCa) await assertCaKeyProtected(tree.root, tree.caKey);
    const states = await Promise.all(requests.map((r) => leafState(r.files)));
    const existingCa = needCa ? undefined : await loadSigningCa(tree, { now, passphrase: o.caPassphrase });
    const hasIntermediate = !needCa && (await exists(tree.intermediateCert));
    // An ECDSA tree getting an RSA leaf by default is legal but rarely meant: say what was picked and why.
    if (o.keyType === undefined && existingCa && states.includes("create")) {
      const caKeyType = keyTypeOf(createPublicKey(existingCa.cert.toString("pem")));
      if (caKeyType?.startsWith("ecdsa"))
        warnings.push(
          `new keys are ${keyType}, the default (no --key-type given), while the CA's key is ${caKeyType}; pass --key-type ${caKeyType} for keys like the CA's`,
        );
    }
    if (o.intermediate && !needCa && !hasIntermediate) {
      throw new MtlsError(
        "E_USAGE",
        `${tree.caCert}: the tree already has a CA without an intermediate`,
        "an intermediate would change every ca.crt copy; make a new tree with `mtls-certs ca --intermediate --out DIR`",
      );
    }
    // The ledger is read (and a ledgerless tree adopted) before anything is written; it is
    // written once, after the leaves, with whatever this run issued (also when a leaf failed).
    const reconciled = await reconcileLedger(
      tree,
      now,
      requests.map((r) => r.files),
    );
    const book = reconciled.book;
    // The name policy (issue 23 §4): a leaf with a name it may not have is not signed; the
    // others are. Judged against the ledger's other leaves and this run's other new leaves.
    const creating = requests.filter((_, i) => states[i] === "create");
    const refusals = refusedNames(
      book,
      creating.map((r) => ({ role: r.files.role, name: r.files.name, sans: r.sans })),
    );
    const failed: FailedLeaf[] = [];
    const refused = new Set<LeafRequest>();
    creating.forEach((r, i) => {
      const found = refusals[i] ?? [];
      if (found.length === 0) return;
      refused.add(r);
      const error = nameRefusalError(found);
      failed.push({
        role: r.files.role,
        name: r.files.name,
        cert: r.files.cert,
        error: { code: error.code, message: error.message, hint: error.hint ?? null },
      });
    });
    const signing = (i: number) => states[i] === "create" && !refused.has(requests[i]!);

    // Name constraints (issue 10): a SAN outside them is refused before any key is made.
    assertNameConstraintsPlan({
      existingCa,
      caExtensions: o.caExtensions,
      planned: requests.filter((_, i) => signing(i)),
      caFile: tree.caCert,
    });

    const limit = createLimiter(o.jobs);
    const caKey = needCa ? limit(() => generateKey(keyType)) : undefined;
    const intermediateKey = needCa && o.intermediate ? limit(() => generateKey(keyType)) : undefined;
    const leafKeys = states.map((_, i) => (signing(i) ? limit(() => generateKey(keyType)) : undefined));
    for (const p of [caKey, intermediateKey, ...leafKeys]) p?.catch(() => undefined); // observed below; no unhandled rejection
    const toMake = leafKeys.filter(Boolean).length + (needCa ? 1 : 0) + (intermediateKey ? 1 : 0);
    if (toMake > 0) o.onProgress?.(`generating ${toMake} ${keyType} key${toMake > 1 ? "s" : ""}`);

    const results: CertResult[] = [];
    const root = existingCa ?? (await createCa(tree, await caKey!, o, now));
    const ca = intermediateKey ? await createIntermediate(tree, root, await intermediateKey, o, now) : root;
    if (needCa) await fs.rm(tree.caCreating, { force: true }); // the CA is whole: its key is one to keep
    const issuerCert = new NodeCert(ca.cert.toString("pem"));
    results.push(await describeCert(tree.caCert, tree.caKey, "ca", "ca", existingCa ? "kept" : "created"));
    if (intermediateKey || hasIntermediate)
      results.push(
        await describeCert(
          tree.intermediateCert,
          tree.intermediateKey,
          "intermediate",
          "intermediate",
          existingCa ? "kept" : "created",
        ),
      );

    const leafResults = await Promise.all(
      requests.map(async (request, i) => {
        const key = leafKeys[i];
        if (refused.has(request)) return undefined;
        if (key === undefined) {
          await writeCaCopy(request.files, ca);
          const kept = await describeCert(
            request.files.cert,
            request.files.key,
            request.files.role,
            request.files.name,
            "kept",
          );
          const shared =
            request.keyGroup === undefined
              ? undefined
              : { keyMode: request.keyMode ?? KEY_MODE, keyGroup: request.keyGroup };
          // What was asked for, done: information under the cert, not a warning.
          const groupNotes = shared
            ? (await shareExistingKeys(privateKeyFiles(request.files), shared)).map(
                (path) => `${path}: existing key given group ${shared.keyGroup}, mode ${shared.keyMode.toString(8)}`,
              )
            : [];
          const notes = [
            ...groupNotes,
            ...keptCertNotes(
              { role: request.files.role, name: request.files.name, sans: request.sans },
              new NodeCert((await readText(request.files.cert)) ?? ""),
              { days: o.days, keyType: o.keyType },
            ),
          ];
          return notes.length > 0 ? { ...kept, notes } : kept;
        }
        const validity = validityFor(
          { days: o.days ?? DEFAULT_DAYS, now, notBefore: o.notBefore, notAfter: o.notAfter },
          ca.cert.notAfter,
        );
        const capped = capWarning(request.files.cert, validity);
        if (capped) warnings.push(capped);
        const cert = await writeLeaf(request, await key, ca, validity, o);
        const asked = request.sans.filter((s) => "source" in s && s.source === "flag").map(formatSan);
        book.issued(ledgerEntry(cert, issuerCert, request.files.role, request.files.name, "issued", now, asked), now);
        return describeCert(request.files.cert, request.files.key, request.files.role, request.files.name, "created");
      }),
    ).finally(() => book.save(tree));
    for (const r of leafResults) if (r) results.push(r);
    return {
      root: tree.root,
      certificates: results,
      warnings,
      adopted: adoptionLines(reconciled),
      leftovers: foreignLeftovers(tree),
      ...(failed.length > 0 ? { failed } : {}),
    };
  });
}

/**
 * The group the caller asked for this leaf's key (`--key-group`, `--gateway-key-group`), checked
 * now: a group this user may not set is refused before anything is written.
 */
function withAskedKeyGroup(request: LeafRequest, o: TreeOptions): LeafRequest {
  if (request.keyGroup !== undefined || request.files.role === "https") return request;
  const gatewayGroup = request.files.role === "gateway" ? o.gatewayKeyGroup : undefined;
  const gid = gatewayGroup ?? o.keyGroup;
  if (gid === undefined) return request;
  return { ...request, ...sharedKeyFile(gid, gatewayGroup !== undefined ? "--gateway-key-group" : "--key-group") };
}

async function createCa(tree: TreePaths, key: KeyPair, o: TreeOptions, now: Date): Promise<LoadedCa> {
  o.onProgress?.("signing the CA");
  const cert = await signCertificate({
    profile: PROFILES.ca,
    subject: caSubject(o.caSubject),
    key,
    validity: validityFor({ days: o.caDays ?? DEFAULT_CA_DAYS, now }),
    extensions: o.caExtensions,
  });
  await ensureDirectory(tree.caDir);
  await writeFileAtomically(tree.caCreating, `${process.pid}\n`, { mode: CERT_MODE });
  // No-clobber: the CA key is never replaced, even by a run racing this one.
  await writeKey(tree.caKey, key.privateKeyPem, o.caPassphrase, KEY_MODE, false);
  const pem = toPem(cert);
  await writeFileAtomically(tree.caCert, pem, { mode: CERT_MODE });
  return { cert, key, bundlePem: pem, rootPem: pem };
}

/**
 * The intermediate that signs every leaf, so the root key can be kept offline (seed 003's
 * enterprise chain). pathlen 0: it signs leaves only. Every ca.crt copy gets the chain
 * (intermediate, then root), written to ca/bundle.crt, so a peer that trusts the copy can
 * build the path from a leaf that carries no chain.
 */
async function createIntermediate(
  tree: TreePaths,
  root: LoadedCa,
  key: KeyPair,
  o: TreeOptions,
  now: Date,
): Promise<LoadedCa> {
  o.onProgress?.("signing the intermediate CA");
  const cert = await signCertificate({
    profile: PROFILES.intermediate,
    subject: intermediateSubject(o.caSubject),
    key,
    issuer: root,
    validity: validityFor({ days: DEFAULT_INTERMEDIATE_DAYS, now }, root.cert.notAfter),
    extensions: o.caExtensions,
  });
  await writeKey(tree.intermediateKey, key.privateKeyPem, o.caPassphrase, KEY_MODE, false);
  const pem = toPem(cert);
  await writeFileAtomically(tree.intermediateCert, pem, { mode: CERT_MODE });
  const bundlePem = pem + root.rootPem;
  await writeFileAtomically(tree.caBundle, bundlePem, { mode: CERT_MODE });
  return { cert, key, bundlePem, rootPem: root.rootPem };
}

/**
 * Writes a leaf's key, then its cert (a crash between leaves a key the next run replaces).
 * Without a CA the leaf is self-signed (`https` without `--ca`, as `make certs` makes it).
 */
export async function writeLeaf(
  request: LeafRequest,
  key: KeyPair,
  ca: LoadedCa | undefined,
  validity: Validity,
  o: TreeOptions,
  replace = false,
): Promise<NodeCert> {
  const cert = await signCertificate({
    profile: request.profile,
    subject: request.subject,
    sans: request.sans,
    key,
    issuer: ca,
    validity,
    extensions: request.extensions,
  });
  const { files } = request;
  await assertLeafDirectory(files);
  await ensureDirectory(files.dir);
  const keyPem = await writeKey(
    files.key,
    key.privateKeyPem,
    o.keyPassphrase,
    request.keyMode ?? KEY_MODE,
    true,
    request.keyGroup,
  );
  const chain = servedChain(ca);
  await writeFileAtomically(files.cert, toPem(cert) + chain, { mode: CERT_MODE, replace });
  if (files.combined)
    await writeFileAtomically(files.combined, toPem(cert) + chain + keyPem, {
      mode: request.keyMode ?? KEY_MODE,
      group: request.keyGroup,
      replace: true,
    });
  if (ca) await writeCaCopy(files, ca, replace);
  return new NodeCert(Buffer.from(cert.rawData));
}

/**
 * Writes a leaf signed for a key that is not ours (`sign <csr>`, and its renewal): the cert with
 * its served chain and the ca.crt copy; no key file, and no combined cert+key file.
 */
export async function writeSignedCert(
  files: LeafFiles,
  cert: x509.X509Certificate,
  ca: LoadedCa,
  replace = false,
): Promise<NodeCert> {
  await ensureDirectory(files.dir);
  await writeFileAtomically(files.cert, toPem(cert) + servedChain(ca), { mode: CERT_MODE, replace });
  await writeCaCopy(files, ca, replace);
  return new NodeCert(Buffer.from(cert.rawData));
}

/**
 * What follows the leaf in every file a server or client presents (server.crt, client.crt,
 * client.pem, certs/cert.pem). Under an intermediate it is the intermediate: the gateway's deploy
 * tooling trusts only ca/ca.crt (the root), browsers and curl likewise, so the peer must be sent
 * the intermediate to build the path (what Python's load_cert_chain and uvicorn's ssl_certfile
 * send: the whole file). The leaf stays first, so every reader of "the cert" still finds it.
 */
function servedChain(ca: LoadedCa | undefined): string {
  const signedByIntermediate = ca !== undefined && ca.cert.subject !== ca.cert.issuer;
  return signedByIntermediate ? toPem(ca.cert) : "";
}

async function writeKey(
  path: string,
  pem: string,
  passphrase: string | undefined,
  mode: number,
  replace: boolean,
  group?: number,
): Promise<string> {
  const content = passphrase === undefined ? pem : encryptPrivateKeyPem(pem, passphrase);
  await writeFileAtomically(path, content, { mode, replace, group });
  return content;
}

/** Writes the ca.crt copy when it is missing (or, with `replace`, when it differs). */
export async function writeCaCopy(files: LeafFiles, ca: LoadedCa, replace = false): Promise<void> {
  if (!files.caCopy) return;
  const current = await readText(files.caCopy);
  if (current === ca.bundlePem) return;
  if (current !== undefined && !replace) return; // `check` reports a copy that differs
  await writeFileAtomically(files.caCopy, ca.bundlePem, { mode: CERT_MODE, replace: current !== undefined });
}

/** The summary of a certificate on disk. */
export async function describeCert(
  certPath: string,
  keyPath: string,
  role: Role,
  name: string,
  action: CertAction,
): Promise<CertResult> {
  const pem = await readCertText(certPath);
  if (pem === undefined) throw new MtlsError("E_IO", `${certPath}: missing right after it was written`);
  const cert = new NodeCert(pem);
  return {
    role,
    name,
    action,
    cert: certPath,
    key: keyPath,
    subject: cert.subject.split("\n").join(", "),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprint: cert.fingerprint256,
    sans: (cert.subjectAltName ?? "").split(", ").filter(Boolean).map(normalizeSanText),
  };
}

/** Node prints "IP Address:1.2.3.4" and "email:x"; we print what openssl's -addext takes. */
function normalizeSanText(s: string): string {
  return s.replace(/^IP Address:/, "IP:");
}

export { formatSan };
