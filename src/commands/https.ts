/**
 * `mtls-certs https`: the gateway's own HTTPS cert for `make serve-ssl` (what `make certs`
 * makes): certs/cert.pem and certs/key.pem, outside the mcp tree.
 */
import { DEFAULT_HTTPS_DAYS, DEFAULT_KEY_TYPE } from "../defaults.js";
import { generateKey } from "../pki/keys.js";
import { validityFor } from "../pki/issue.js";
import { HTTPS_SANS, HTTPS_SUBJECT, PROFILES, uniqueSans } from "../pki/profiles.js";
import { loadSigningCa } from "../store/ca-store.js";
import { certsDirOf, httpsFiles } from "../store/paths.js";
import { describeCert, leafState, withTree, writeLeaf, type IssueReport, type LeafRequest, type TreeOptions } from "../store/tree.js";
import { extraSans, type ExtraSanOptions } from "./server.js";

/** `make certs` sets 640 so a container user in group 0 can read the key. */
export const HTTPS_KEY_MODE = 0o640;

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
  return withTree(o, async (tree) => {
    const now = o.now ?? new Date();
    const files = httpsFiles(o.dir ?? certsDirOf(tree));
    const warnings: string[] = [];
    const group = o.group !== undefined && mayChangeGroupTo(o.group) ? o.group : undefined;
    if (o.group !== undefined && group === undefined) warnings.push(`${files.key}: not changed to group ${o.group} (only root or a member of that group may); run chgrp as root`);
    const request: LeafRequest = { files, profile: PROFILES.https, subject: HTTPS_SUBJECT, sans: uniqueSans([...HTTPS_SANS, ...extra]), keyMode: HTTPS_KEY_MODE, keyGroup: group };
    const state = await leafState(files);
    const ca = o.ca ? await loadSigningCa(tree, { now, passphrase: o.keyPassphrase }) : undefined;
    if (state === "kept") return { root: files.dir, certificates: [await describeCert(files.cert, files.key, "https", "https", "kept")], warnings };

    const keyType = o.keyType ?? DEFAULT_KEY_TYPE;
    o.onProgress?.(`generating 1 ${keyType} key`);
    const key = await generateKey(keyType);
    const validity = validityFor({ days: o.days ?? DEFAULT_HTTPS_DAYS, now, notBefore: o.notBefore, notAfter: o.notAfter }, ca?.cert.notAfter);
    if (validity.cappedAt) warnings.push(`${files.cert}: notAfter capped at the CA's notAfter ${validity.cappedAt.toISOString()}`);
    await writeLeaf(request, key, ca, validity, o);
    return { root: files.dir, certificates: [await describeCert(files.cert, files.key, "https", "https", "created")], warnings };
  });
}

/** chown(2) to a group: root may, others only to a group they belong to. */
function mayChangeGroupTo(gid: number): boolean {
  if (process.getuid?.() === 0) return true;
  return process.getgid?.() === gid || (process.getgroups?.() ?? []).includes(gid);
}
