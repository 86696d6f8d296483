/**
 * `mtls-certs check`: one entry per certificate in the tree, CA first, with a status a CI
 * schedule can act on. Files are read and parsed concurrently with Node's own X509Certificate
 * (a fraction of a millisecond each; one `openssl x509` process costs ~26 ms).
 */
import { X509Certificate as NodeCert, createPrivateKey, type KeyObject } from "node:crypto";
import { promises as fs } from "node:fs";
import { DEFAULT_OUT, DEFAULT_RENEW_WITHIN_DAYS } from "../defaults.js";
import { MtlsError, errnoCode } from "../errors.js";
import type { Role } from "../pki/profiles.js";
import { treePaths, type LeafFiles, type TreePaths } from "../store/paths.js";
import { listTreeLeaves } from "../store/tree.js";
import { exists } from "../store/write.js";

export type CertStatus = "ok" | "expiring" | "expired" | "not-yet-valid" | "invalid" | "revoked";

/** One certificate in `check --json`. */
export interface CheckEntry {
  path: string;
  role: Role;
  name: string;
  subject: string | null;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** Whole days until notAfter, negative once expired; null when the cert is unreadable. */
  daysLeft: number | null;
  status: CertStatus;
  problems: string[];
}

export interface CheckReport {
  checkedAt: string;
  root: string;
  /** The window `expiring` was measured against, in days. */
  within: number;
  certificates: CheckEntry[];
}

export interface CheckOptions {
  out?: string;
  now?: Date;
  /** Days ahead that count as expiring. With it, `expiring` fails the check. */
  within?: number;
  /** Extra checks a leaf must pass (the config's SANs, a CRL): return problems found. */
  extraChecks?: (entry: CheckEntry, cert: NodeCert, files: LeafFiles) => string[] | Promise<string[]>;
}

const DAY_MS = 86_400_000;

export async function checkTree(o: CheckOptions = {}): Promise<CheckReport> {
  const now = o.now ?? new Date();
  const within = o.within ?? DEFAULT_RENEW_WITHIN_DAYS;
  const tree = treePaths(o.out ?? DEFAULT_OUT);
  if (!(await exists(tree.root))) {
    throw new MtlsError("E_NOT_FOUND", `${tree.root}: no certificate tree here`, "run `mtls-certs all` first, or point --out at the tree");
  }
  const ca = await readCa(tree, now, within);
  const leaves = await listTreeLeaves(tree);
  const entries = await Promise.all(leaves.map((files) => checkLeaf(files, ca, now, within, o)));
  return { checkedAt: now.toISOString(), root: tree.root, within, certificates: [ca.entry, ...entries] };
}

/** Exit 1 when a cert is unusable, or (with --within) expires inside the window. */
export function checkFailed(report: CheckReport, failOnExpiring: boolean): boolean {
  return report.certificates.some((c) => c.status !== "ok" && (c.status !== "expiring" || failOnExpiring));
}

interface CaForCheck {
  entry: CheckEntry;
  /** The certs leaves may be signed by (root, intermediate, a rotation's old CA). */
  issuers: NodeCert[];
  bundlePem: string | undefined;
}

async function readCa(tree: TreePaths, now: Date, within: number): Promise<CaForCheck> {
  const entry = blankEntry(tree.caCert, "ca", "ca");
  const pem = await readOptional(tree.caCert, entry);
  let issuers: NodeCert[] = [];
  let bundlePem: string | undefined;
  if (pem !== undefined) {
    const cert = parse(pem, entry);
    if (cert) {
      describe(entry, cert, now, within);
      if (!cert.ca) entry.problems.push("not a CA certificate (basicConstraints CA:FALSE)");
      if (!cert.verify(cert.publicKey)) entry.problems.push("the self-signature does not verify");
      await checkKey(tree.caKey, cert, entry);
      issuers = [cert];
      bundlePem = pem;
    }
  }
  const bundle = await fs.readFile(tree.caBundle, "utf8").catch(() => undefined);
  if (bundle !== undefined) {
    bundlePem = bundle;
    issuers = splitPem(bundle).flatMap((p) => {
      try {
        return [new NodeCert(p)];
      } catch {
        entry.problems.push(`${tree.caBundle}: holds a block that is not a certificate`);
        return [];
      }
    });
  }
  settle(entry);
  return { entry, issuers, bundlePem };
}

async function checkLeaf(files: LeafFiles, ca: CaForCheck, now: Date, within: number, o: CheckOptions): Promise<CheckEntry> {
  const entry = blankEntry(files.cert, files.role, files.name);
  const pem = await readOptional(files.cert, entry);
  const cert = pem === undefined ? undefined : parse(pem, entry);
  if (cert) {
    describe(entry, cert, now, within);
    await checkKey(files.key, cert, entry);
    if (ca.issuers.length > 0 && !ca.issuers.some((issuer) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
      entry.problems.push("not signed by this tree's CA");
    }
    if (files.caCopy && ca.bundlePem !== undefined) {
      const copy = await fs.readFile(files.caCopy, "utf8").catch(() => undefined);
      if (copy === undefined) entry.problems.push(`${files.caCopy}: missing (run the command that made this cert again to restore it)`);
      else if (copy !== ca.bundlePem) entry.problems.push(`${files.caCopy}: differs from the CA certificate`);
    }
    if (o.extraChecks) entry.problems.push(...(await o.extraChecks(entry, cert, files)));
  }
  settle(entry);
  return entry;
}

function blankEntry(path: string, role: Role, name: string): CheckEntry {
  return { path, role, name, subject: null, serial: null, notBefore: null, notAfter: null, daysLeft: null, status: "ok", problems: [] };
}

async function readOptional(path: string, entry: CheckEntry): Promise<string | undefined> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (e) {
    entry.problems.push(errnoCode(e) === "ENOENT" ? "missing" : `cannot be read (${errnoCode(e) ?? "error"})`);
    return undefined;
  }
}

function parse(pem: string, entry: CheckEntry): NodeCert | undefined {
  try {
    return new NodeCert(pem);
  } catch {
    entry.problems.push("not a PEM certificate");
    return undefined;
  }
}

function describe(entry: CheckEntry, cert: NodeCert, now: Date, within: number): void {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  entry.subject = cert.subject.split("\n").join(", ");
  entry.serial = cert.serialNumber;
  entry.notBefore = notBefore.toISOString();
  entry.notAfter = notAfter.toISOString();
  entry.daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (now > notAfter) entry.status = "expired";
  else if (now < notBefore) entry.status = "not-yet-valid";
  else if (notAfter.getTime() - now.getTime() <= within * DAY_MS) entry.status = "expiring";
}

async function checkKey(path: string, cert: NodeCert, entry: CheckEntry): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch {
    entry.problems.push(`${path}: key missing`);
    return;
  }
  if ((stat.mode & 0o077) !== 0) entry.problems.push(`${path}: readable by group or others (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600`);
  let key: KeyObject;
  try {
    const pem = await fs.readFile(path, "utf8");
    if (pem.includes("ENCRYPTED")) return; // cannot compare without the passphrase; `verify` can
    key = createPrivateKey(pem);
  } catch {
    entry.problems.push(`${path}: not a readable private key`);
    return;
  }
  if (!cert.checkPrivateKey(key)) entry.problems.push(`${path}: does not match the certificate`);
}

/** Problems make a cert invalid whatever its dates; revocation is named as such. */
function settle(entry: CheckEntry): void {
  if (entry.problems.some((p) => p.startsWith("revoked"))) entry.status = "revoked";
  else if (entry.problems.length > 0) entry.status = "invalid";
}

export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
