/**
 * `mtls-certs https`: the gateway's own HTTPS cert for `make serve-ssl` (what `make certs`
 * makes): certs/cert.pem and certs/key.pem, outside the mcp tree.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { promises as fs } from "node:fs";
import { DEFAULT_HTTPS_DAYS, DEFAULT_KEY_TYPE } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { generateKey } from "../pki/keys.js";
import { capWarning, validityFor } from "../pki/issue.js";
import { extraSans, type ExtraSanOptions } from "../pki/name-policy.js";
import { HTTPS_SANS, HTTPS_SUBJECT, PROFILES, uniqueSans, type San } from "../pki/profiles.js";
import { loadSigningCa, type LoadedCa } from "../store/ca-store.js";
import { ledgerEntry } from "../store/ledger.js";
import { adoptionLines, reconcileLedger } from "../store/ledger-adoption.js";
import { certsDirOf, httpsFiles, type LeafFiles } from "../store/paths.js";
import { describeCert } from "../store/cert-result.js";
import { leafState } from "../store/leaf-state.js";
import { resolveTree, withOutputDirectory, withTree } from "../store/tree-access.js";
import { writeLeaf } from "../store/leaf-write.js";
import type { IssueReport, LeafRequest, TreeOptions } from "../store/issue-types.js";
import { exists } from "../store/write.js";
import { GROUP_KEY_MODE, mayChangeGroupTo } from "../store/key-mode.js";

export interface HttpsOptions extends TreeOptions, ExtraSanOptions {
  /** Where cert.pem and key.pem go. Default: the parent of `out` (certs/). */
  dir?: string;
  /** Group of key.pem (`--group`, e.g. 0 for containers); skipped with a warning where not permitted. */
  group?: number;
  /** Sign with the tree's CA (it must exist) instead of self-signing as the Makefile does. */
  ca?: boolean;
}

/** Validity defaults to 365 days (DEFAULT_HTTPS_DAYS), not the mcp certs' 825. */
export async function issueHttps(o: HttpsOptions = {}): Promise<IssueReport> {
  const extra = extraSans(o);
  const tree = resolveTree(o);
  const files = httpsFiles(o.dir ?? certsDirOf(tree));
  const issue = (ca: LoadedCa | undefined): Promise<IssueReport> =>
    withOutputDirectory(files.dir, o, () => issueInto(files, extra, ca, o));
  if (!o.ca) return issue(undefined);
  // Checked before withTree, which would create an empty tree for a CA that is not there.
  if (!(await exists(tree.caCert)))
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: missing; --ca signs with the tree's CA`,
      "run `mtls-certs ca` first, or leave out --ca for a self-signed cert",
    );
  // Lock order: the tree, then the output directory (unless they are one).
  return withTree(o, async () => {
    const ca = await loadSigningCa(tree, { now: o.now, passphrase: o.caPassphrase });
    const now = o.now ?? new Date();
    const reconciled = await reconcileLedger(tree, now);
    const report = await (files.dir === tree.root ? issueInto(files, extra, ca, o) : issue(ca));
    if (report.certificates[0]?.action === "created") {
      const cert = new NodeCert(await fs.readFile(files.cert));
      const issuer = new NodeCert(ca.cert.toString("pem"));
      reconciled.book.issued(ledgerEntry(cert, issuer, "https", "https", "issued", now), now);
    }
    await reconciled.book.save(tree);
    return { ...report, adopted: adoptionLines(reconciled) };
  });
}

async function issueInto(
  files: LeafFiles,
  extra: readonly San[],
  ca: LoadedCa | undefined,
  o: HttpsOptions,
): Promise<IssueReport> {
  const now = o.now ?? new Date();
  const warnings: string[] = [];
  const group = o.group !== undefined && mayChangeGroupTo(o.group) ? o.group : undefined;
  if (o.group !== undefined && group === undefined)
    warnings.push(
      `${files.key}: not changed to group ${o.group} (only root or a member of that group may); run chgrp as root`,
    );
  const request: LeafRequest = {
    files,
    profile: PROFILES.https,
    subject: HTTPS_SUBJECT,
    sans: uniqueSans([...HTTPS_SANS, ...extra]),
    keyMode: GROUP_KEY_MODE,
    keyGroup: group,
  };
  if ((await leafState(files)) === "kept")
    return {
      root: files.dir,
      certificates: [await describeCert(files.cert, files.key, "https", "https", "kept")],
      warnings,
    };

  const keyType = o.keyType ?? DEFAULT_KEY_TYPE;
  o.onProgress?.(`generating 1 ${keyType} key`);
  const key = await generateKey(keyType);
  const validity = validityFor(
    { days: o.days ?? DEFAULT_HTTPS_DAYS, now, notBefore: o.notBefore, notAfter: o.notAfter },
    ca?.cert.notAfter,
  );
  const capped = capWarning(files.cert, validity);
  if (capped) warnings.push(capped);
  await writeLeaf(request, key, ca, validity, o);
  return {
    root: files.dir,
    certificates: [await describeCert(files.cert, files.key, "https", "https", "created")],
    warnings,
  };
}
