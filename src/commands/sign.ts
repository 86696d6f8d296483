/**
 * `mtls-certs sign <csr>`: a leaf for a key that never leaves its host. The CSR contributes its
 * key, and for server and client (with --csr-sans) its DNS/IP/e-mail SANs after the same checks
 * the issuing commands apply; subject, profile and every other extension are the role's own.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import { resolve } from "node:path";
import { DEFAULT_DAYS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { readCsr } from "../pki/csr.js";
import { assertNameConstraintsPlan } from "../pki/constraints.js";
import { capWarning, signCertificate, toPem, validityFor } from "../pki/issue.js";
import { checkDnsName, checkIp, checkName } from "../pki/names.js";
import { emailSan, extraSans, nameRefusalError, requested } from "../pki/name-policy.js";
import { uniqueSans, type San } from "../pki/profiles.js";
import { refusedNames } from "../store/leaf-names.js";
import { clientRequest, gatewayRequest, pluginRequest, serverRequest } from "../store/leaf-requests.js";
import { loadSigningCa } from "../store/ca-store.js";
import { ledgerEntry } from "../store/ledger.js";
import { reconcileLedger } from "../store/ledger-adoption.js";
import { checkOutputFile } from "../store/output-file.js";
import type { TreePaths } from "../store/paths.js";
import { describeCert, type CertResult } from "../store/cert-result.js";
import { resolveTree, withExistingTree } from "../store/tree-access.js";
import { writeSignedCert } from "../store/leaf-write.js";
import type { LeafRequest, TreeOptions } from "../store/issue-types.js";
import { CERT_FILE } from "../store/leaf-file.js";
import { exists, readBytes, writeFileAtomically, CERT_MODE } from "../store/write.js";

export const SIGN_ROLES = ["server", "client", "plugin", "gateway"] as const;
export type SignRole = (typeof SIGN_ROLES)[number];

export interface SignOptions extends TreeOptions {
  role: SignRole;
  /** The leaf's name (server, client, plugin); the gateway has none. */
  name?: string;
  /** Extra DNS/IP SANs, as `server` and `plugin` take them. */
  san?: readonly string[];
  ip?: readonly string[];
  /** The client's CN (`--cn`), as `client` takes it. */
  cn?: string;
  /** Take the CSR's own SANs (server and client only), each checked as --san/--ip are. */
  csrSans?: boolean;
  /** Write the cert here instead of into the tree (still recorded in the ledger). */
  output?: string;
  force?: boolean;
}

export interface SignReport {
  readonly root: string;
  readonly csr: string;
  readonly certificates: CertResult[];
  readonly warnings: string[];
  /** A CSR's key is never ours: there is no key file, and renew signs the same key again. */
  readonly keyFile: null;
}

/** The roles whose CSR SANs may be taken: a plugin's and the gateway's names are the tree's. */
const CSR_SAN_ROLES: ReadonlySet<SignRole> = new Set(["server", "client"]);

export async function signCsr(csrPath: string, o: SignOptions): Promise<SignReport> {
  const file = resolve(csrPath);
  const csr = await readCsr(await readRegularFile(file, csrPath), csrPath);
  if (o.csrSans && !CSR_SAN_ROLES.has(o.role))
    throw new MtlsError(
      "E_USAGE",
      `--csr-sans: a ${o.role}'s names are the tree's, never the request's`,
      "give the names with --san/--ip (plugin), or drop --csr-sans",
    );
  const csrSans = o.csrSans ? csr.sans.map((s) => checkedCsrSan(s, csrPath, o.role)) : [];
  const tree = resolveTree(o);
  const request = requestFor(tree, o);
  const planned: LeafRequest = { ...request, sans: uniqueSans([...request.sans, ...csrSans]) };
  const output =
    o.output === undefined ? undefined : await checkOutputFile(o.output, { tree: tree.root, force: o.force });

  return withExistingTree(o, async (locked) => {
    const now = o.now ?? new Date();
    const files = planned.files;
    if ((await exists(files.cert)) || (await exists(files.key)))
      throw new MtlsError(
        "E_USAGE",
        `${files.dir}: ${files.role} ${files.name} already has a certificate or key in the tree`,
        `renew it (\`mtls-certs renew --force ${files.name}\`), or sign under another name`,
      );
    const ca = await loadSigningCa(locked, { now, passphrase: o.caPassphrase });
    assertNameConstraintsPlan({ existingCa: ca, caExtensions: undefined, planned: [planned], caFile: locked.caCert });
    const reconciled = await reconcileLedger(locked, now, [files]);
    // The name policy (issue 23 §4): a CSR names no wildcard, no other leaf's name, no address
    // "any", no e-mail but the one --cn gives, and at most 100 SANs.
    const [refusals = []] = refusedNames(reconciled.book, [{ role: files.role, name: files.name, sans: planned.sans }]);
    if (refusals.length > 0) throw nameRefusalError(refusals);
    const validity = validityFor(
      { days: o.days ?? DEFAULT_DAYS, now, notBefore: o.notBefore, notAfter: o.notAfter },
      ca.cert.notAfter,
    );
    const warnings: string[] = [];
    const capped = capWarning(output?.path ?? files.cert, validity);
    if (capped) warnings.push(capped);
    const cert = await signCertificate({
      profile: planned.profile,
      subject: planned.subject,
      sans: planned.sans,
      key: csr.key,
      issuer: ca,
      validity,
    });
    const node = output
      ? await writeOutput(output.path, output.replace, toPem(cert))
      : await writeSignedCert(files, cert, ca);
    reconciled.book.issued(
      ledgerEntry(node, new NodeCert(ca.cert.toString("pem")), files.role, files.name, "csr", now),
      now,
    );
    await reconciled.book.save(locked);
    const certPath = output?.path ?? files.cert;
    return {
      root: locked.root,
      csr: file,
      certificates: [await describeCert(certPath, files.key, files.role, files.name, "created")],
      warnings,
      keyFile: null,
    };
  });
}

async function writeOutput(path: string, replace: boolean, pem: string): Promise<NodeCert> {
  await writeFileAtomically(path, pem, { mode: CERT_MODE, replace });
  return new NodeCert(pem);
}

/** The CSR's bytes (1 MiB at most); a directory, device or FIFO is refused before it is read (exit 2). */
async function readRegularFile(file: string, shown: string): Promise<Buffer> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readBytes(file, CERT_FILE);
  } catch (e) {
    if (!(e instanceof MtlsError) || e.code !== "E_NOT_REGULAR_FILE") throw e;
    throw new MtlsError("E_BAD_CSR", `${shown}: not a regular file`, "pass the CSR file made by `openssl req -new`");
  }
  if (bytes === undefined)
    throw new MtlsError(
      "E_NOT_FOUND",
      `${shown}: cannot read the CSR (ENOENT)`,
      "pass the CSR file made by `openssl req -new`",
    );
  return bytes;
}

/** The leaf the issuing command of this role would make (subject, profile, SANs from the options). */
function requestFor(tree: TreePaths, o: SignOptions): LeafRequest {
  const extra: San[] = extraSans(o);
  switch (o.role) {
    case "gateway":
      if (o.name !== undefined && o.name !== "gateway")
        throw new MtlsError("E_USAGE", `sign --role gateway: the gateway has no name (got ${o.name})`, "drop the name");
      return withExtra(gatewayRequest(tree), extra);
    case "server":
      return serverRequest(tree, checkName(needName(o), "server name"), extra);
    case "client":
      return withExtra(clientRequest(tree, checkName(needName(o), "client name"), o.cn ?? o.name), extra);
    case "plugin":
      return pluginRequest(tree, checkName(needName(o), "plugin name"), extra);
  }
}

function withExtra(request: LeafRequest, extra: readonly San[]): LeafRequest {
  return extra.length === 0 ? request : { ...request, sans: uniqueSans([...request.sans, ...extra]) };
}

function needName(o: SignOptions): string {
  if (o.name === undefined || o.name === "")
    throw new MtlsError("E_USAGE", `sign --role ${o.role}: a name is needed`, `e.g. --name api-client`);
  return o.name;
}

/** A SAN the CSR asks for, checked as the flag that would give it is; any other kind is refused. */
function checkedCsrSan(s: { type: string; value: string }, file: string, role: SignRole): San {
  const where = `${file}: SAN`;
  if (s.type === "dns") return requested({ type: "dns", value: checkDnsName(s.value, where) }, "csr", where);
  if (s.type === "ip") return requested({ type: "ip", value: checkIp(s.value, where) }, "csr", where);
  if (s.type === "email" && role === "client") {
    const email = emailSan(s.value, where);
    if (email) return requested(email, "csr", where);
  }
  throw new MtlsError(
    "E_BAD_SAN",
    `${where} ${s.type}:${s.value} is not a name a ${role} certificate carries`,
    "drop --csr-sans, or make the request with DNS/IP SANs only",
  );
}
