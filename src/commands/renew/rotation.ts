import { X509Certificate as NodeCert } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CA_DAYS } from "../../defaults.js";
import { MtlsError } from "../../errors.js";
import { signCertificate, toPem, validityFor } from "../../pki/issue.js";
import { isIssuedBy } from "../../pki/issued-by.js";
import { certsInPem } from "../../pki/node-facts.js";
import * as x509 from "../../pki/x509.js";
import { encryptPrivateKeyPem, generateKey, keyTypeOf } from "../../pki/keys.js";
import { PROFILES } from "../../pki/profiles.js";
import { parseCertificate, type LoadedCa } from "../../store/ca-store.js";
import { assertCaKeyProtected } from "../../store/key-mode.js";
import type { LeafFiles, TreePaths } from "../../store/paths.js";
import { listIssuedLeaves } from "../../store/leaf-list.js";
import { withExistingTree } from "../../store/tree-access.js";
import type { TreeOptions } from "../../store/issue-types.js";
import { textOrThrow, readKnown, type KnownFiles } from "../../store/file-facts.js";
import { CERT_FILE, KEY_FILE } from "../../store/leaf-file.js";
import { CERT_MODE, KEY_MODE, exists, readCertText, writeFileAtomically } from "../../store/write.js";
import { BackupFolder } from "./backup.js";
import { writeCaCopies } from "./execute.js";
import type { CaRotation } from "../../report/renew-types.js";
import type { RenewOptions } from "./types.js";
import { plural } from "../../human.js";

/** Extensions the pipeline makes from the CA profile and key; any other one on the CA (nameConstraints) stays. */
const PIPELINE_EXTENSIONS = new Set(["2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35", "2.5.29.17"]);

/**
 * `renew --ca`: a new CA key and cert with the next generation's name (nameConstraints and the
 * other extensions stay); the old pair moves to ca/previous/; new + old goes into ca/ca.crt,
 * ca/bundle.crt and every ca.crt copy, so leaves of either CA verify on every peer during the
 * change-over, whichever file it reads as trust. ca/'s files and the copies are taken from `known`
 * as the run read them at its start (store/inventory.ts, leaf-read.ts), each other one read once
 * into it; what the rotation writes is recorded there, so nothing it read or wrote is opened again.
 */
export async function rotateCa(
  tree: TreePaths,
  leaves: readonly LeafFiles[],
  o: RenewOptions,
  now: Date,
  backup: BackupFolder,
  known: KnownFiles,
): Promise<{ ca: LoadedCa | undefined; report: CaRotation }> {
  if (await exists(tree.intermediateCert)) {
    throw new MtlsError(
      "E_USAGE",
      `${tree.intermediateCert}: renew --ca rotates a root that signs leaves itself; this tree signs with an intermediate`,
      "make a new tree with `mtls-certs ca --intermediate --out DIR` and move the leaves over",
    );
  }
  // A refusal held from the first read is thrown as a read by name would throw it (file-facts.ts).
  const oldPem = textOrThrow(readKnown(tree.caCert, CERT_FILE, known));
  if (oldPem === undefined)
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: missing`,
      "run `mtls-certs ca` to create a CA; there is nothing to rotate",
    );
  // The old key still signs its CRL from ca/previous/: the rule for signing with a CA key holds.
  await assertCaKeyProtected(tree.root, tree.caKey);
  const oldKeyPem = textOrThrow(readKnown(tree.caKey, KEY_FILE, known));
  if (oldKeyPem === undefined)
    throw new MtlsError(
      "E_CA_DAMAGED",
      `${tree.caKey}: missing, but ${tree.caCert} exists`,
      "restore the key from a backup before rotating",
    );
  if (oldKeyPem.includes("ENCRYPTED") && o.caPassphrase === undefined) {
    throw new MtlsError(
      "E_PASSPHRASE",
      `${tree.caKey}: the CA key is encrypted`,
      "pass --ca-passphrase-env VAR so the new CA key is encrypted too",
    );
  }
  const previousPem = textOrThrow(readKnown(tree.previousCaCert, CERT_FILE, known));
  // A run killed after saving the old CA left previous == current: carry on from there.
  if (previousPem !== undefined && previousPem !== oldPem) {
    throw new MtlsError(
      "E_USAGE",
      `${tree.previousCaCert}: a CA rotation is already in progress`,
      "finish it first: `mtls-certs renew` the leaves, then `mtls-certs ca --finish-rotation`",
    );
  }
  const old = parseCertificate(oldPem, tree.caCert);
  const oldNode = new NodeCert(oldPem);
  const previous = { cert: tree.previousCaCert, serial: oldNode.serialNumber, notAfter: old.notAfter.toISOString() };
  const copies = leaves.filter((l) => l.caCopy !== undefined).length;
  if (o.dryRun)
    return {
      ca: undefined,
      report: { action: "would-rotate", previous, current: null, bundle: tree.caBundle, copies },
    };

  const keyType = o.keyType ?? keyTypeOf(oldNode.publicKey) ?? "rsa4096";
  o.onProgress?.(`generating a ${keyType} key for the new CA`);
  const key = await generateKey(keyType);
  const cert = await signCertificate({
    profile: PROFILES.ca,
    subject: nextGenerationName(old.subjectName),
    key,
    validity: validityFor({ days: o.caDays ?? DEFAULT_CA_DAYS, now }),
    extensions: old.extensions.filter((e) => !PIPELINE_EXTENSIONS.has(e.type)),
  });
  const pem = toPem(cert);
  // ca/ca.crt is the only trust file the gateway's tooling mounts (and renders mcp-ca-secret
  // from), so until `ca --finish-rotation` it holds both CAs, as ca/bundle.crt and every copy do.
  // The signing CA first: what readers of the first cert (`openssl x509 -CA`, cert-manager's
  // tls.crt) take. The generations have different names (nextGenerationName), so a peer finds a
  // leaf's issuer by name even when the leaf has no authority key id (the Makefile's v1 certs).
  const bundlePem = pem + oldPem;
  // Order matters for a crash: the old CA is saved before anything points away from it.
  await backup.copy("ca", [tree.caCert, tree.caKey], known);
  await fs.mkdir(tree.previousCaDir, { recursive: true, mode: 0o700 });
  if (previousPem === undefined) {
    await writeFileAtomically(tree.previousCaKey, oldKeyPem, { mode: KEY_MODE, known });
    await writeFileAtomically(tree.previousCaCert, oldPem, { mode: CERT_MODE, known });
  }
  await writeFileAtomically(tree.caBundle, bundlePem, { mode: CERT_MODE, replace: true, known });
  const keyPem =
    o.caPassphrase === undefined ? key.privateKeyPem : encryptPrivateKeyPem(key.privateKeyPem, o.caPassphrase);
  await writeFileAtomically(tree.caKey, keyPem, { mode: KEY_MODE, replace: true, known });
  await writeFileAtomically(tree.caCert, bundlePem, { mode: CERT_MODE, replace: true, known });
  const ca: LoadedCa = { cert, key, bundlePem, rootPem: pem };
  await writeCaCopies(leaves, bundlePem, known);
  const node = new NodeCert(pem);
  return {
    ca: o.keepLeaves ? undefined : ca,
    report: {
      action: "rotated",
      previous,
      current: {
        cert: tree.caCert,
        serial: node.serialNumber,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
      },
      bundle: tree.caBundle,
      copies,
    },
  };
}

export interface FinishRotationOptions extends TreeOptions {
  /** Finish even though some leaves are still signed by the previous CA (they stop verifying). */
  force?: boolean;
}

export interface FinishRotationReport {
  root: string;
  /** The CA no longer trusted, and where its files went. */
  removed: { serial: string; notAfter: string; backup: string };
  /** How many ca.crt copies now hold the new CA alone. */
  copies: number;
  /** Leaves still signed by the removed CA (only with force): they no longer verify. */
  orphaned: string[];
}

/** `ca --finish-rotation`: drops the previous CA from ca/bundle.crt and every ca.crt copy. */
export async function finishCaRotation(o: FinishRotationOptions = {}): Promise<FinishRotationReport> {
  return withExistingTree(o, async (tree) => {
    // Read once: the backup below copies previous/ca.crt from this read.
    const known: KnownFiles = new Map();
    const previousPem = textOrThrow(readKnown(tree.previousCaCert, {}, known));
    if (previousPem === undefined)
      throw new MtlsError(
        "E_USAGE",
        `${tree.previousCaCert}: no CA rotation in progress`,
        "start one with `mtls-certs renew --ca`",
      );
    const caFile = textOrThrow(readKnown(tree.caCert, {}, known));
    if (caFile === undefined)
      throw new MtlsError("E_CA_MISSING", `${tree.caCert}: missing`, "restore ca/ from a backup");
    const previous = new NodeCert(previousPem);
    // ca/ca.crt holds the signing CA first, then the previous one: keep the signing CA alone.
    const current = certsInPem(caFile).find((c) => !c.raw.equals(previous.raw)) ?? new NodeCert(caFile);
    const currentPem = current.toString();
    const leaves = await listIssuedLeaves(tree);
    const orphaned: string[] = [];
    for (const files of leaves) {
      const pem = await readCertText(files.cert);
      if (pem === undefined) continue;
      const cert = new NodeCert(pem);
      if (!isIssuedBy(cert, current) && isIssuedBy(cert, previous)) orphaned.push(files.cert);
    }
    if (orphaned.length > 0 && !o.force) {
      throw new MtlsError(
        "E_ROTATION_PENDING",
        `${plural(orphaned.length, "certificate is", "certificates are")} still signed by the previous CA and would stop verifying: ${orphaned.join(", ")}`,
        "run `mtls-certs renew` (it re-issues them under the new CA), deploy them, then finish the rotation",
      );
    }
    const backup = new BackupFolder(tree, o.now ?? new Date());
    await backup.copy(join("ca", "previous"), [tree.previousCaCert, tree.previousCaKey, tree.previousCaCrl], known);
    await writeCaCopies(leaves, currentPem);
    await writeFileAtomically(tree.caCert, currentPem, { mode: CERT_MODE, replace: true });
    await fs.rm(tree.caBundle, { force: true });
    await fs.rm(tree.crlBundle, { force: true });
    await fs.rm(tree.previousCaDir, { recursive: true, force: true });
    return {
      root: tree.root,
      removed: {
        serial: previous.serialNumber,
        notAfter: new Date(previous.validTo).toISOString(),
        backup: join(backup.path, "ca", "previous"),
      },
      copies: leaves.filter((l) => l.caCopy !== undefined).length,
      orphaned,
    };
  });
}

/**
 * The rotated CA's subject: the old one with its CN's generation counted up (`ContextForge-CA` →
 * `ContextForge-CA G2` → `… G3`). Two CAs of one name in one trust file make OpenSSL take the
 * first for a leaf without an authority key id, and fail it ("certificate signature failure").
 */
export function nextGenerationName(old: x509.Name): x509.Name {
  const rdns = old.toJSON();
  let renamed = false;
  const next = rdns.map((rdn) => {
    const cns = rdn.CN;
    if (renamed || cns === undefined || cns.length === 0) return rdn;
    renamed = true;
    const [cn = "", ...rest] = cns;
    const match = / G(\d+)$/.exec(cn);
    const base = match ? cn.slice(0, match.index) : cn;
    return { ...rdn, CN: [`${base} G${match ? Number(match[1]) + 1 : 2}`, ...rest] };
  });
  return new x509.Name(renamed ? next : [...next, { CN: ["G2"] }]);
}
