/**
 * Plans and writes certificates into the tree: the CA when missing, then every leaf asked for.
 * Everything that can be refused is checked before the first byte is written; then all the keys
 * the run needs are generated at once (the CA's first), and each leaf is signed as soon as its
 * key and the CA are ready. Existing files are kept byte for byte.
 */
import { X509Certificate as NodeCert, createPublicKey } from "node:crypto";
import { promises as fs } from "node:fs";
import { DEFAULT_CA_DAYS, DEFAULT_DAYS, DEFAULT_INTERMEDIATE_DAYS, DEFAULT_KEY_TYPE } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { nameRefusalError } from "../pki/name-policy.js";
import { keptCertNotes, refusedNames } from "./leaf-names.js";
import { generateKey, type KeyPair, keyTypeOf } from "../pki/keys.js";
import { capWarning, signCertificate, toPem, validityFor } from "../pki/issue.js";
import { createLimiter } from "../pki/limiter.js";
import { assertNameConstraintsPlan } from "../pki/constraints.js";
import { PROFILES, caSubject, formatSan, intermediateSubject } from "../pki/profiles.js";
import { loadSigningCa, type LoadedCa } from "./ca-store.js";
import { assertCaKeyProtected, shareExistingKeys, sharedKeyFile } from "./key-mode.js";
import { ledgerEntry } from "./ledger.js";
import { adoptionLines, reconcileLedger } from "./ledger-adoption.js";
import { privateKeyFiles, type TreePaths } from "./paths.js";
import { CERT_MODE, KEY_MODE, ensureDirectory, exists, readText, writeFileAtomically } from "./write.js";
import type { FailedLeaf, IssueReport, LeafRequest, TreeOptions } from "./issue-types.js";
import { foreignLeftovers, withTree } from "./tree-access.js";
import { caState, leafState } from "./leaf-state.js";
import { describeCert, type CertResult } from "./cert-result.js";
import { writeCaCopy, writeKey, writeLeaf } from "./leaf-write.js";

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
