/**
 * `mtls-certs verify`: the checks a TLS peer makes on a certificate, with the strict rules of
 * Python 3.13's default context (VERIFY_X509_STRICT, as OpenSSL's `-x509_strict`) and the
 * security level 2 key sizes Debian/Ubuntu's OpenSSL and Python's default ciphers enforce.
 * Unlike a peer, it does not stop at the first failure: every problem is one line with its fix.
 */
import { dirname, join } from "node:path";
import { promises as fs } from "node:fs";
import { readBytes } from "../store/write.js";
import { treeCrlFile } from "../store/ca-store.js";
import type { TreePaths } from "../store/paths.js";
import { DEFAULT_OUT } from "../defaults.js";
import { MtlsError, errnoCode } from "../errors.js";
import { judgeChain, parseCerts, type VerifyPurpose, type VerifyReport } from "../pki/chain-verdict.js";
import { parseCrls } from "../pki/crl-verdict.js";

export type {
  ChainLink,
  VerifyProblem,
  VerifyProblemCode,
  VerifyPurpose,
  VerifyReport,
} from "../pki/chain-verdict.js";

export interface VerifyOptions {
  /** The tree a name (`gateway`, a plugin, a server, `ca`) is looked up in. Default `certs/mcp`. */
  out?: string;
  /** Trust anchors (PEM, one or more certs). Default: the `ca.crt` beside the certificate, as the tree lays it out. */
  ca?: string;
  /** The name or IP address the client connects to; checked against the SANs. */
  host?: string;
  /** What the certificate is used as. Default: server when `host` is given, else what its extendedKeyUsage says. */
  purpose?: VerifyPurpose;
  /**
   * A CRL file (PEM, one or more lists, or DER); the issuer's list in it fails a revoked
   * certificate. Default for a name in the tree: the tree's own (ca/bundle.crl during a CA
   * rotation, else ca/ca.crl) when it has one; for a file, none.
   */
  crl?: string;
  /** The clock. Default: now. */
  now?: Date;
}

/** The same checks on PEM strings, for certificates that never touched the disk (in-memory mode). */
export interface VerifyPemOptions extends Omit<VerifyOptions, "ca" | "crl"> {
  /** The certificate, optionally followed by its intermediates. */
  certPem: string;
  /** Trust anchors. */
  caPem: string;
  crlPem?: string | Buffer;
}

/**
 * Verifies the certificate in `target`: a file (PEM, optionally followed by intermediates; or
 * DER), or the name of a certificate in the tree, as `fingerprint` and `revoke` take it.
 */
export async function verifyCertificate(target: string, o: VerifyOptions = {}): Promise<VerifyReport> {
  const { file, tree } = await certificateFile(target, o.out);
  const caFile = o.ca ?? join(dirname(file), "ca.crt");
  const certBytes = await readInput(file, "certificate");
  const caBytes = await readInput(
    caFile,
    "CA file",
    o.ca === undefined ? `no --ca given, and no ca.crt beside ${file}: pass --ca FILE` : undefined,
  );
  // A name in the tree is checked against the tree's CRL, as the proxies in front of it are.
  const crlFile = o.crl ?? (tree === undefined ? undefined : await treeCrlFile(tree));
  const crlBytes = crlFile === undefined ? undefined : await readInput(crlFile, "CRL");
  return verifyBytes({ file, caFile, crlFile, cert: certBytes, ca: caBytes, crl: crlBytes }, o);
}

/** The bytes of the cert (and intermediates), the trust anchors and the CRL file, with their names. */
interface VerifyInput {
  file: string;
  caFile: string;
  crlFile: string | undefined;
  cert: Buffer;
  ca: Buffer;
  crl: Buffer | undefined;
}

/** What verifyCertificate and verifyPem share once the bytes are there. */
function verifyBytes(i: VerifyInput, o: Pick<VerifyOptions, "host" | "purpose" | "now">): Promise<VerifyReport> {
  const now = o.now ?? new Date();
  const certs = parseCerts(i.cert, i.file, now);
  const anchors = parseCerts(i.ca, i.caFile, now);
  const crls = i.crl === undefined ? undefined : parseCrls(i.crl, i.crlFile ?? "the CRL");
  const crlFile = i.crlFile ?? null;
  return judgeChain({
    file: i.file,
    caFile: i.caFile,
    crlFile,
    certs,
    anchors,
    crls,
    host: o.host,
    purpose: o.purpose,
    now,
  });
}

/** Verifies PEM strings: what `verifyCertificate` does once the files are read. */
export async function verifyPem(o: VerifyPemOptions): Promise<VerifyReport> {
  const crl = o.crlPem === undefined ? undefined : Buffer.from(o.crlPem);
  const input = { file: "certPem", caFile: "caPem", crlFile: crl && "crlPem", crl };
  return verifyBytes({ ...input, cert: Buffer.from(o.certPem), ca: Buffer.from(o.caPem) }, o);
}

/** Exit 1 when a problem was found. */
export function verifyFailed(report: VerifyReport): boolean {
  return !report.ok;
}

/** A file wins over a name, as everywhere: only a bare word that is no file is looked up. */
async function certificateFile(
  target: string,
  out: string | undefined,
): Promise<{ file: string; tree: TreePaths | undefined }> {
  if (
    /[\\/]/.test(target) ||
    (await fs.stat(target).then(
      () => true,
      () => false,
    ))
  )
    return { file: target, tree: undefined };
  const { findCertificate } = await import("../store/cert-target.js");
  const { treePaths } = await import("../store/paths.js");
  const tree = treePaths(out ?? DEFAULT_OUT);
  return { file: (await findCertificate(tree, target)).certPath, tree };
}

async function readInput(path: string, what: string, missingHint?: string): Promise<Buffer> {
  try {
    const bytes = await readBytes(path);
    if (bytes === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    return bytes;
  } catch (e) {
    // A FIFO, a directory, permission denied: readBytes already named the file and the reason.
    if (e instanceof MtlsError && e.code !== "E_IO") throw e;
    const code = errnoCode(e);
    throw new MtlsError(
      "E_NOT_FOUND",
      `${path}: cannot read the ${what} (${code === "ENOENT" ? "no such file" : (code ?? "error")})`,
      missingHint,
    );
  }
}
