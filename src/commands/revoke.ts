/**
 * `mtls-certs revoke` and `mtls-certs crl`: the CA's certificate revocation list at
 * certs/mcp/ca/ca.crl (PEM, v2), signed by the CA that signs leaves. Every change re-signs the
 * whole list with the next CRL number; `crl` alone re-signs it with a fresh nextUpdate, which a
 * nightly job must do before peers that load the CRL start refusing every certificate.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { promises as fs } from "node:fs";
import { DEFAULT_CRL_DAYS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import {
  buildCrl,
  crlSignedBy,
  crlToPem,
  normalizeSerial,
  parseCrl,
  type ParsedCrl,
  type RevocationReason,
  type RevokedEntry,
} from "../pki/crl.js";
import { floorToSecond } from "../pki/issue.js";
import * as x509 from "../pki/x509.js";
import { loadPreviousCa, loadSigningCa, type LoadedCa } from "../store/ca-store.js";
import { reconcileLedger } from "../store/ledger-adoption.js";
import { findCertificate } from "../store/cert-target.js";
import type { TreePaths } from "../store/paths.js";
import { foreignLeftovers, resolveTree, withExistingTree } from "../store/tree-access.js";
import { CERT_MODE, exists, readText, writeFileAtomically } from "../store/write.js";
import { isIssuedBy } from "../pki/issued-by.js";

export interface CrlOptions {
  /** The tree's root. Default `certs/mcp`. */
  out?: string;
  /** Days until nextUpdate. Default 30. */
  crlDays?: number;
  /** Opens an encrypted CA key (the CRL is signed with it). */
  caPassphrase?: string;
  /** The clock. Default: now. */
  now?: Date;
  lockWaitMs?: number;
}

export interface RevokeOptions extends CrlOptions {
  /** Default `unspecified`. */
  reason?: RevocationReason;
}

/** The CRL after a command, for people and for `--json`. */
export interface CrlReport {
  crl: string;
  issuer: string;
  crlNumber: number;
  thisUpdate: string;
  nextUpdate: string;
  /** What `revoke` just added; null for `crl`, or when the cert was already on the list. */
  revoked: { cert: string; serial: string; subject: string; reason: RevocationReason } | null;
  /** The cert was already on the list: nothing changed. */
  alreadyRevoked: boolean;
  entries: Array<{ serial: string; revokedAt: string; reason: RevocationReason }>;
  warnings: string[];
}

/**
 * Adds a cert this tree's CAs signed to the CRL of the CA that issued it: the signing CA's
 * ca/ca.crl, or during a CA rotation the previous CA's ca/previous/ca.crl (the bundles still
 * trust that CA, so its certs must stay revocable). The ledger marks the cert revoked with the
 * reason and date. A cert another CA signed is exit 2.
 */
export async function revokeCertificate(target: string, o: RevokeOptions = {}): Promise<CrlReport> {
  await requireTree(o);
  return withExistingTree(o, async (tree) => {
    const now = o.now ?? new Date();
    const found = await findCertificate(tree, target);
    if (found.role === "ca")
      throw new MtlsError(
        "E_USAGE",
        `${found.certPath}: a CA cannot put itself on its own CRL`,
        "to retire the CA, rotate it with `mtls-certs renew --ca`",
      );
    const reconciled = await reconcileLedger(tree, now);
    const { cert } = found;
    // By leaf name, the cert revoked is one the CA recorded for that leaf, not whatever its
    // directory holds now: a copy of the gateway's cert planted in plugins/evil would have had
    // `revoke evil` revoke the gateway (issue 23: decisions come from the CA's records).
    if (found.files !== undefined && found.files.role !== "https") {
      const { role, name } = found.files;
      const owner = reconciled.book.entryFor(cert);
      if (owner !== undefined && (owner.role !== role || owner.name !== name))
        throw new MtlsError(
          "E_FOREIGN_TARGET",
          `${found.certPath}: the ledger has it as ${owner.role} ${owner.name}'s cert (serial ${owner.serial}), not ${role} ${name}'s; nothing was revoked`,
          `to revoke ${owner.role} ${owner.name}, name it; remove ${found.certPath} if nobody you trust put it there`,
        );
    }
    const ca = await loadSigningCa(tree, { now, passphrase: o.caPassphrase });
    const caCert = new NodeCert(ca.cert.toString("pem"));
    const previousPem = await readText(tree.previousCaCert);
    const byPrevious =
      !isIssuedBy(cert, caCert) && previousPem !== undefined && isIssuedBy(cert, new NodeCert(previousPem));
    if (!isIssuedBy(cert, caCert) && !byPrevious)
      throw new MtlsError(
        "E_NOT_SIGNED_BY_CA",
        `${found.certPath}: not signed by this tree's CA (${caCert.subject.split("\n").join(", ")}); its CRL cannot revoke it`,
        "revoke it with the CA that issued it",
      );
    const warnings: string[] = [...foreignLeftovers(tree)];
    const serial = normalizeSerial(cert.serialNumber);
    const revoked = {
      cert: found.certPath,
      serial,
      subject: cert.subject.split("\n").join(", "),
      reason: o.reason ?? "unspecified",
    };
    reconciled.book.revoked(cert, revoked.reason, floorToSecond(now));
    const issuer = byPrevious ? await loadPreviousCa(tree, o.caPassphrase) : ca;
    const path = byPrevious ? tree.previousCaCrl : tree.caCrl;
    const previous = byPrevious ? await readPreviousCaCrl(tree, issuer) : await readTreeCrl(tree, ca, warnings);
    let crl: ParsedCrl;
    let already = false;
    if (previous?.entries.some((e) => e.serial === serial)) {
      crl = previous;
      already = true;
    } else {
      const entries = [...(previous?.entries ?? []), { serial, revokedAt: floorToSecond(now), reason: revoked.reason }];
      crl = await signAndWrite(path, issuer, previous, entries, now, o);
    }
    // Each CA the bundles trust has its list, and proxies load both from ca/bundle.crl.
    if (previousPem !== undefined) await refreshRotationCrls(tree, ca, byPrevious ? undefined : issuer, now, o);
    await reconciled.book.save(tree);
    return report(path, crl, already ? null : revoked, already, warnings);
  });
}

/** The previous CA's own list (ca/previous/ca.crl), which only that CA may have signed. */
async function readPreviousCaCrl(tree: TreePaths, previousCa: LoadedCa): Promise<ParsedCrl | undefined> {
  const pem = await readText(tree.previousCaCrl);
  if (pem === undefined) return undefined;
  const parsed = parseCrl(pem, tree.previousCaCrl);
  if (await crlSignedBy(parsed.crl, previousCa.cert)) return parsed;
  throw new MtlsError(
    "E_DAMAGED",
    `${tree.previousCaCrl}: not signed by the previous CA (${tree.previousCaCert})`,
    "restore it from a backup, or move it aside: the next `mtls-certs crl` starts a new, empty one",
  );
}

/**
 * During a CA rotation: makes sure both CAs have a CRL (an empty one is signed where there is
 * none: nginx and HAProxy refuse every client when a CA of the chain has no CRL), and writes
 * ca/bundle.crl = the signing CA's list then the previous CA's, the one file proxies load.
 * `skip`: the CA whose list this command has just signed.
 */
async function refreshRotationCrls(
  tree: TreePaths,
  ca: LoadedCa,
  skip: LoadedCa | undefined,
  now: Date,
  o: CrlOptions,
): Promise<void> {
  if (!(await exists(tree.caCrl)) && skip !== ca) await signAndWrite(tree.caCrl, ca, undefined, [], now, o);
  if (!(await exists(tree.previousCaCrl))) {
    const previous = await loadPreviousCa(tree, o.caPassphrase);
    await signAndWrite(tree.previousCaCrl, previous, undefined, [], now, o);
  }
  await writeCrlBundle(tree);
}

/** ca/bundle.crl while a rotation is in progress (both lists, signing CA first); removed otherwise. */
export async function writeCrlBundle(tree: TreePaths): Promise<void> {
  const [current, previous] = await Promise.all([readText(tree.caCrl), readText(tree.previousCaCrl)]);
  if (current === undefined || previous === undefined || !(await exists(tree.previousCaCert))) {
    await fs.rm(tree.crlBundle, { force: true });
    return;
  }
  await writeFileAtomically(tree.crlBundle, current + previous, { mode: CERT_MODE, replace: true });
}

/** Re-signs the CRL with the same entries, the next number and a fresh nextUpdate. */
export async function refreshCrl(o: CrlOptions = {}): Promise<CrlReport> {
  await requireTree(o);
  return withExistingTree(o, async (tree) => {
    const now = o.now ?? new Date();
    const ca = await loadSigningCa(tree, { now, passphrase: o.caPassphrase });
    const warnings: string[] = [...foreignLeftovers(tree)];
    const previous = await readTreeCrl(tree, ca, warnings);
    const crl = await signAndWrite(tree.caCrl, ca, previous, previous?.entries ?? [], now, o);
    // During a rotation the previous CA's list is re-signed too: both stay fresh for proxies.
    if (await exists(tree.previousCaCert)) {
      const previousCa = await loadPreviousCa(tree, o.caPassphrase);
      const old = await readPreviousCaCrl(tree, previousCa);
      await signAndWrite(tree.previousCaCrl, previousCa, old, old?.entries ?? [], now, o);
      await writeCrlBundle(tree);
    }
    return report(tree.caCrl, crl, null, false, warnings);
  });
}

/** withTree would create the tree's directory: a CRL without a CA is a typo in --out. */
async function requireTree(o: CrlOptions): Promise<void> {
  const tree = resolveTree(o);
  if (!(await exists(tree.caCert)))
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: missing; there is no CA to sign a CRL`,
      "point --out at the tree, or run `mtls-certs ca` first",
    );
}

async function signAndWrite(
  path: string,
  ca: LoadedCa,
  previous: ParsedCrl | undefined,
  entries: readonly RevokedEntry[],
  now: Date,
  o: CrlOptions,
): Promise<ParsedCrl> {
  const crl = await buildCrl({
    issuer: ca,
    entries,
    number: (previous?.number ?? 0) + 1,
    now,
    days: o.crlDays ?? DEFAULT_CRL_DAYS,
  });
  const pem = crlToPem(crl);
  await writeFileAtomically(path, pem, { mode: CERT_MODE, replace: true });
  return parseCrl(pem, path);
}

/**
 * The CRL on disk. One the CA being rotated out signed (`renew --ca`) moves to
 * ca/previous/ca.crl, for peers that still trust that CA, and the new CA's list starts empty with
 * the next number. Any other signer (tampering, a foreign file) is refused.
 */
async function readTreeCrl(tree: TreePaths, ca: LoadedCa, warnings: string[]): Promise<ParsedCrl | undefined> {
  const pem = await readText(tree.caCrl);
  if (pem === undefined) return undefined;
  const parsed = parseCrl(pem, tree.caCrl);
  if (await crlSignedBy(parsed.crl, ca.cert)) return parsed;
  const previousCa = await readText(tree.previousCaCert);
  if (previousCa !== undefined && (await crlSignedBy(parsed.crl, new x509.X509Certificate(previousCa)))) {
    const moved = tree.previousCaCrl;
    await writeFileAtomically(moved, pem, { mode: CERT_MODE, replace: true });
    warnings.push(
      `${tree.caCrl} was the rotated-out CA's; kept as ${moved} (${parsed.entries.length} revoked) for peers that still trust that CA, and a new list started for ${ca.cert.subject}`,
    );
    return { ...parsed, entries: [] };
  }
  throw new MtlsError(
    "E_DAMAGED",
    `${tree.caCrl}: not signed by the CA that signs this tree's certificates (${ca.cert.subject})`,
    "restore it from a backup, or move it aside and run `mtls-certs crl` to start a new, empty one",
  );
}

function report(
  path: string,
  crl: ParsedCrl,
  revoked: CrlReport["revoked"],
  alreadyRevoked: boolean,
  warnings: string[],
): CrlReport {
  return {
    crl: path,
    issuer: crl.crl.issuer,
    crlNumber: crl.number,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate?.toISOString() ?? "",
    revoked,
    alreadyRevoked,
    entries: crl.entries.map((e) => ({ serial: e.serial, revokedAt: e.revokedAt.toISOString(), reason: e.reason })),
    warnings,
  };
}

export function renderCrlReport(r: CrlReport): string {
  const lines: string[] = [];
  if (r.alreadyRevoked) lines.push(`already revoked: ${r.crl} unchanged`);
  else if (r.revoked)
    lines.push(
      `revoked ${r.revoked.cert} (serial ${r.revoked.serial}, ${r.revoked.subject}, reason ${r.revoked.reason})`,
    );
  lines.push(`${r.crl}: CRL number ${r.crlNumber}, ${r.entries.length} revoked, next update ${r.nextUpdate}`);
  if (!r.alreadyRevoked)
    lines.push(
      "peers load the CRL when they start: reload them (nginx -s reload, restart the plugin) to refuse the revoked cert",
    );
  return lines.join("\n") + "\n";
}
