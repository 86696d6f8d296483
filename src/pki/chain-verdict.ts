/**
 * The verdict of a strict TLS peer on a certificate chain: the chain built up to the trust
 * anchors, dates, the strict-peer policy (peer-policy.ts), the host, and the issuer's CRL. `verify`
 * judges files with it, `probe` the chain a running server presents: one verdict for both.
 * Unlike a peer, it does not stop at the first failure: every problem is one line with its fix.
 */
import { isIP } from "node:net";
import { MtlsError } from "../errors.js";
import { days, humanDate } from "../human.js";
import { parseCert, splitPemBlocks, type ParsedCert } from "./cert-facts.js";
import { crlProblems, type CrlProblemCode } from "./crl-verdict.js";
import { leafRoleProblems } from "./leaf-role-policy.js";
import { structureProblems } from "./peer-policy.js";
import { FILE_FIXES, type PolicyCode, type PolicyProblem } from "./policy-problem.js";
import { issuerPurposeProblems, leafPurposeProblems } from "./purpose-policy.js";
import type * as x509 from "./x509.js";

export type VerifyPurpose = "server" | "client";

/** Stable identifiers of what can fail; `--json` prints them. The strict-peer ones are PolicyCode's (policy-problem.ts). */
export type VerifyProblemCode =
  | PolicyCode
  | "unknown-issuer"
  | "bad-signature"
  | "expired"
  | "not-yet-valid"
  | "host-mismatch"
  | CrlProblemCode;

export interface VerifyProblem {
  readonly code: VerifyProblemCode;
  /** The subject of the certificate the problem is in. */
  readonly subject: string;
  /** What a peer refuses, in one line. */
  readonly message: string;
  /** What to do about it. */
  readonly fix: string;
}

export interface ChainLink {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly fingerprint: string;
  /** In the trust anchors (the --ca file). */
  readonly trusted: boolean;
}

export interface VerifyReport {
  readonly file: string;
  readonly ca: string;
  readonly host: string | null;
  readonly purpose: VerifyPurpose;
  readonly crl: string | null;
  readonly checkedAt: string;
  /** No problem found: a strict peer accepts this certificate for this purpose (and host). */
  readonly ok: boolean;
  /** Leaf first, trust anchor last (when one was found). */
  readonly chain: ChainLink[];
  readonly problems: VerifyProblem[];
  /** Notes that do not fail the check (e.g. a host matched only by the subject CN). */
  readonly warnings: string[];
}

const DAY_MS = 86_400_000;
/** A chain longer than this is a loop or an attack, not a PKI. */
const MAX_CHAIN = 10;

export function parseCerts(bytes: Buffer, file: string, now: Date): ParsedCert[] {
  const text = bytes.toString("latin1");
  const blocks = splitPemBlocks(text);
  try {
    if (blocks.length > 0) return blocks.map((b) => parseCert(b, now));
    if (!text.includes("-----BEGIN")) return [parseCert(bytes, now)];
  } catch {
    throw new MtlsError("E_DAMAGED", `${file}: holds a certificate that cannot be parsed`);
  }
  throw new MtlsError("E_DAMAGED", `${file}: holds no certificate`, "`mtls-certs inspect` tells what the file is");
}

export interface JudgeInput {
  file: string;
  caFile: string;
  crlFile: string | null;
  certs: ParsedCert[];
  anchors: ParsedCert[];
  crls: x509.X509Crl[] | undefined;
  host: string | undefined;
  purpose: VerifyPurpose | undefined;
  now: Date;
}

export async function judgeChain(input: JudgeInput): Promise<VerifyReport> {
  const [leaf, ...intermediates] = input.certs as [ParsedCert, ...ParsedCert[]];
  const purpose = input.purpose ?? (input.host !== undefined ? "server" : purposeOf(leaf));
  const problems: VerifyProblem[] = [];
  const warnings: string[] = [];
  const add = (code: VerifyProblemCode, cert: ParsedCert, message: string, fix: string) =>
    problems.push({ code, subject: cert.facts.subject, message, fix });

  const { chain, trustedFrom } = buildChain(leaf, intermediates, input.anchors, input.caFile, add);
  chain.forEach((cert, i) => {
    checkDates(cert, input.now, i === 0, add);
    const top = i === chain.length - 1;
    const at = { issuer: i > 0, top, anchor: top && trustedFrom !== undefined, casBelow: Math.max(0, i - 1) };
    const policy: PolicyProblem[] = [
      ...structureProblems(cert.facts, at, FILE_FIXES),
      ...(i === 0
        ? leafPurposeProblems(cert.facts, purpose, FILE_FIXES)
        : issuerPurposeProblems(cert.facts, purpose, FILE_FIXES)),
    ];
    if (i === 0) {
      const issuer = chain[1];
      policy.push(
        ...leafRoleProblems(
          cert.facts,
          { wantedSans: [], sanFix: "", issuerNotAfter: issuer?.facts.notAfter },
          FILE_FIXES,
        ),
      );
    }
    for (const p of policy) {
      // What a peer does not refuse (a v1 leaf, a leaf outliving its CA) is a warning here; `check` fails on it.
      if (p.refused) add(p.code, cert, p.message, p.fix);
      else warnings.push(`${cert.facts.subject}: ${p.message}; fix: ${p.fix}`);
    }
  });
  if (input.host !== undefined) checkHost(leaf, input.host, add, warnings);
  if (input.crls)
    for (const p of await crlProblems(input.crls, input.crlFile ?? "the CRL", leaf, chain[1], input.now))
      add(p.code, leaf, p.message, p.fix);

  return {
    file: input.file,
    ca: input.caFile,
    host: input.host ?? null,
    purpose,
    crl: input.crlFile,
    checkedAt: input.now.toISOString(),
    ok: problems.length === 0,
    chain: chain.map((c, i) => ({
      subject: c.facts.subject,
      issuer: c.facts.issuer,
      serial: c.facts.serial,
      notAfter: c.facts.notAfter,
      fingerprint: c.facts.fingerprint,
      trusted: trustedFrom !== undefined && i >= trustedFrom,
    })),
    problems,
    warnings,
  };
}

type AddProblem = (code: VerifyProblemCode, cert: ParsedCert, message: string, fix: string) => void;

function purposeOf(leaf: ParsedCert): VerifyPurpose {
  const eku = leaf.facts.extendedKeyUsage;
  return eku?.includes("clientAuth") && !eku.includes("serverAuth") ? "client" : "server";
}

function signedBy(cert: ParsedCert, issuer: ParsedCert): boolean {
  return cert.node.issuer === issuer.node.subject && cert.node.verify(issuer.node.publicKey);
}

/**
 * Leaf, then intermediates from the certificate file, up to a certificate of the CA file. Any
 * certificate of the CA file is an anchor, as with Python's VERIFY_X509_PARTIAL_CHAIN.
 */
function buildChain(
  leaf: ParsedCert,
  intermediates: ParsedCert[],
  anchors: ParsedCert[],
  caFile: string,
  add: AddProblem,
): { chain: ParsedCert[]; trustedFrom: number | undefined } {
  const chain = [leaf];
  for (let current = leaf; chain.length <= MAX_CHAIN; ) {
    if (anchors.some((a) => a.facts.fingerprint === current.facts.fingerprint))
      return { chain, trustedFrom: completeToRoot(chain, anchors) };
    const anchor = anchors.find((a) => signedBy(current, a));
    if (anchor) {
      chain.push(anchor);
      return { chain, trustedFrom: completeToRoot(chain, anchors) };
    }
    const next = intermediates.find((c) => !chain.includes(c) && signedBy(current, c));
    if (!next) {
      const sameName = [...anchors, ...intermediates].find((c) => c.node.subject === current.node.issuer);
      if (sameName) {
        add(
          "bad-signature",
          current,
          `not signed by "${sameName.facts.subject}" in ${caFile}: it comes from another CA with the same name`,
          `use the ca.crt of the tree that issued it, or issue it again from this CA (remove the leaf's directory and run mtls-certs again)`,
        );
      } else {
        add(
          "unknown-issuer",
          current,
          `issuer "${current.facts.issuer}" is not in ${caFile}: a peer trusting only that file refuses it`,
          `pass the issuing CA with --ca (for a tree, its ca/ca.crt), or issue the cert again from this CA`,
        );
      }
      return { chain, trustedFrom: undefined };
    }
    chain.push(next);
    current = next;
  }
  return { chain, trustedFrom: undefined };
}

/**
 * From the first trusted certificate on, follow the CA file up to its root (an intermediate and
 * its root in one ca.crt), as OpenSSL builds the whole chain before it judges trust: the root's
 * dates and extensions count too. Returns the index of the first trusted certificate.
 */
function completeToRoot(chain: ParsedCert[], anchors: ParsedCert[]): number {
  const trustedFrom = chain.length - 1;
  for (let top = chain[trustedFrom]!; !top.facts.selfSigned && chain.length <= MAX_CHAIN; ) {
    const issuer = anchors.find((a) => !chain.includes(a) && signedBy(top, a));
    if (!issuer) break;
    chain.push(issuer);
    top = issuer;
  }
  return trustedFrom;
}

function checkDates(cert: ParsedCert, now: Date, isLeaf: boolean, add: AddProblem): void {
  const f = cert.facts;
  const renew = isLeaf ? "renew it: `mtls-certs renew`" : "rotate the CA: `mtls-certs renew --ca`";
  if (f.validity === "expired")
    add(
      "expired",
      cert,
      `expired ${humanDate(f.notAfter)} (${days(Math.ceil((now.getTime() - Date.parse(f.notAfter)) / DAY_MS))} ago)`,
      renew,
    );
  if (f.validity === "not-yet-valid")
    add(
      "not-yet-valid",
      cert,
      `not valid before ${humanDate(f.notBefore)}`,
      "check the clock of this machine and of the one that issued it",
    );
}

function checkHost(leaf: ParsedCert, host: string, add: AddProblem, warnings: string[]): void {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const sans = leaf.facts.sans.length > 0 ? leaf.facts.sans.join(", ") : "none";
  if (isIP(bare) !== 0) {
    if (leaf.node.checkIP(bare) === undefined) {
      add("host-mismatch", leaf, `no SAN matches ${bare} (SANs: ${sans})`, addSanFix(`--ip ${bare}`, leaf));
    }
    return;
  }
  // Like OpenSSL and Python: the subject CN counts only when the cert has no DNS SAN at all.
  const matched = leaf.node.checkHost(bare);
  if (matched === undefined) {
    add("host-mismatch", leaf, `no SAN matches ${bare} (SANs: ${sans})`, addSanFix(`--san ${bare}`, leaf));
  } else if (!leaf.facts.sans.some((s) => s.startsWith("DNS:"))) {
    warnings.push(`${bare} matched only the subject CN; Go and browsers ignore the CN: add it with \`--san ${bare}\``);
  }
}

/**
 * The fix for a missing SAN, naming the cert's own plugin or server (from its subject, as the tree
 * names them): `renew NAME --san HOST` re-issues it now with the name, and the ledger keeps it for
 * every later renew (issue 28 §3). For a plugin, the host may instead go in its mcp.url, which
 * renew adds too. The gateway's client cert names no host: no hint to add one.
 */
function addSanFix(flag: string, leaf: ParsedCert): string {
  const cn = leaf.node.subject.match(/CN=([^\n,]*)/)?.[1] ?? "";
  if (cn === "mcp-gateway-client")
    return "this is the gateway's client cert, which names no host: verify the plugin's server cert with --host, or leave out --host";
  const plugin = cn.match(/^mcp-plugin-(.+)$/)?.[1];
  const server = /(^|\n)OU=Servers($|\n)/.test(leaf.node.subject) ? cn : undefined;
  const name = plugin ?? server;
  if (name === undefined)
    return `in the tree that issued it, \`mtls-certs renew NAME ${flag}\` re-issues it now with that name (every later renew keeps it)`;
  const again = `\`mtls-certs renew ${name} ${flag}\` re-issues it now with that name (every later renew keeps it)`;
  return plugin
    ? `${again}, or put the host in the mcp.url (or grpc.target) of plugin ${plugin} in the plugin config and run \`mtls-certs renew ${plugin}\``
    : again;
}
