/**
 * The judge of the tree's CAs as read into the inventory (inventory.ts): each CA's entry (dates,
 * key, the strict-peer policy, who signed it, the directories its key lives in, the bundle), then
 * what the CA's own policy says of the leaves: its CRL (issue 7) and its name constraints (issue
 * 10). No file is opened here. Most trees have neither a CRL nor constraints, and then nothing
 * here loads an ASN.1 library.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import type { San } from "../pki/profiles.js";
import { structureProblems } from "../pki/peer-policy.js";
import { treeFixes } from "../pki/policy-problem.js";
import { INTERMEDIATE_FIXES, addPolicy, blankEntry, caWindow, policyOf, settle } from "../pki/check-verdict.js";
import { isIssuedBy } from "../pki/issued-by.js";
import { splitPemBlocks } from "../pki/pem.js";
import type { CheckEntry, SignedBy } from "../pki/check-entry.js";
import { textOrThrow } from "./file-facts.js";
import type { CaFacts, TreeInventory } from "./inventory.js";
import { judgeCertFile, judgeKey, type LeafIssuers, type LeafVerdict } from "./leaf-verdict.js";
import { revocationStatusOf } from "./revocation-status.js";

/** The DER of the nameConstraints OID (2.5.29.30): a cheap test before parsing a CA for them. */
const NAME_CONSTRAINTS_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x1e]);

export interface TreeCas extends LeafIssuers {
  /** CA first, then the intermediate, then a rotation's previous CA. */
  readonly entries: CheckEntry[];
  readonly issuers: Array<{ cert: NodeCert; signedBy: SignedBy }>;
  readonly bundlePem: string | undefined;
  /** The root CA's cert, when it reads as one: without it no leaf is verified. */
  readonly rootCert: NodeCert | undefined;
}

function judgeCa(ca: CaFacts, now: Date, within: number): CheckEntry {
  const entry = blankEntry(ca.cert.read.path, ca.role, ca.name);
  const cert = judgeCertFile(entry, ca.cert, now, within);
  if (cert) {
    // The CA being rotated out is judged no more: the rotation warning says how it leaves.
    if (ca.name !== "previous") {
      const root = ca.role === "ca";
      const fixes = root ? treeFixes("") : INTERMEDIATE_FIXES;
      addPolicy(
        entry,
        policyOf(cert, entry, (f) => structureProblems(f, { issuer: true, top: root, anchor: root }, fixes)),
      );
    }
    if (ca.key) judgeKey(entry, ca.key, ca.role, ca.keyOptional);
  }
  return entry;
}

export function judgeCas(inv: TreeInventory, now: Date, leafWithin: number): TreeCas {
  const within = caWindow(leafWithin);
  const { tree } = inv;
  const root = judgeCa(inv.root, now, within);
  // What every signing command refuses (key-mode.ts assertCaKeyProtected), reported: check only reads.
  root.problems.push(...inv.caDirectoryProblems);
  const rootCert = inv.root.cert.cert;
  const rootRead = inv.root.cert.read;
  const cas: TreeCas = { entries: [root], issuers: [], bundlePem: undefined, rootCert };
  let bundlePem: string | undefined;
  if (rootCert) {
    root.signedBy = rootCert.verify(rootCert.publicKey) ? "ca" : null;
    if (root.signedBy === null) root.problems.push("the self-signature does not verify");
    cas.issuers.push({ cert: rootCert, signedBy: "ca" });
    bundlePem = rootRead.found === "read" ? rootRead.text : undefined;
  }
  if (inv.intermediate) {
    const entry = judgeCa(inv.intermediate, now, within);
    cas.entries.push(entry);
    const cert = inv.intermediate.cert.cert;
    if (cert) {
      if (rootCert && isIssuedBy(cert, rootCert)) entry.signedBy = "ca";
      else entry.problems.push(`not signed by ${tree.caCert}`);
      cas.issuers.push({ cert, signedBy: "intermediate" });
    }
  }
  if (inv.previous) {
    const entry = judgeCa(inv.previous, now, within);
    entry.problems.push(...inv.previousDirectoryProblems);
    cas.entries.push(entry);
    const cert = inv.previous.cert.cert;
    if (cert) {
      entry.signedBy = "previous-ca";
      cas.issuers.push({ cert, signedBy: "previous-ca" });
    }
  }
  if (inv.bundle.found === "read") {
    const bundle = inv.bundle.text;
    bundlePem = bundle;
    const blocks = splitPemBlocks(bundle);
    for (const block of blocks) {
      try {
        new NodeCert(block);
      } catch {
        root.problems.push(`${tree.caBundle}: holds a block that is not a certificate`);
      }
    }
    if (blocks.length === 0) root.problems.push(`${tree.caBundle}: holds no certificate`);
  }
  for (const entry of cas.entries) settle(entry);
  return { ...cas, bundlePem };
}

const textOf = (ca: CaFacts | undefined): string | undefined =>
  ca?.cert.read.found === "read" ? ca.cert.read.text : undefined;

/**
 * Adds problems to the entries: on the signing CA when the CRL is damaged or past its
 * nextUpdate, "revoked …" on a leaf the CRL lists, and a leaf SAN outside the CA's name
 * constraints; sets `nameConstraints` on a constrained CA's entry.
 */
export async function judgeCaPolicy(
  inv: TreeInventory,
  now: Date,
  cas: readonly CheckEntry[],
  leaves: readonly LeafVerdict[],
): Promise<void> {
  const { tree } = inv;
  const caTexts = [
    { path: tree.caCert, pem: textOf(inv.root) },
    { path: tree.intermediateCert, pem: textOf(inv.intermediate) },
  ];
  const constrained = caTexts.flatMap(({ path, pem }) =>
    pem !== undefined && parseNode(pem)?.raw.includes(NAME_CONSTRAINTS_OID) ? [{ path, pem }] : [],
  );
  const crlPem = textOrThrow(inv.crl);
  if (crlPem !== undefined) {
    const status = await revocationStatusOf(
      tree,
      {
        crl: crlPem,
        signer: async () => textOf(inv.intermediate) ?? textOf(inv.root),
        previousCa: async () => textOf(inv.previous),
        previousCrl: async () => (inv.previousCrl === undefined ? undefined : textOrThrow(inv.previousCrl)),
      },
      now,
    );
    const signer = cas.find((e) => e.path === tree.intermediateCert) ?? cas.find((e) => e.path === tree.caCert);
    signer?.problems.push(...status.caProblems);
    for (const { entry } of leaves) {
      const problem = status.leafProblem(entry.serial);
      if (problem) entry.problems.push(problem);
    }
  }
  if (constrained.length > 0) await judgeNameConstraints(constrained, cas, leaves);
}

async function judgeNameConstraints(
  caCerts: ReadonlyArray<{ path: string; pem: string }>,
  cas: readonly CheckEntry[],
  leaves: readonly LeafVerdict[],
): Promise<void> {
  const { describeNameConstraints, readNameConstraints, sanViolation } = await import("../pki/constraints.js");
  const x509 = await import("../pki/x509.js");
  const sets = caCerts.flatMap(({ path, pem }) => {
    const set = readNameConstraints(new x509.X509Certificate(pem));
    const entry = cas.find((e) => e.path === path);
    if (set && entry) entry.nameConstraints = describeNameConstraints(set);
    return set ? [set] : [];
  });
  for (const { entry, sans } of leaves) {
    for (const text of sans) {
      const san = toSan(text);
      const why = san && sets.map((set) => sanViolation(set, san)).find((w) => w !== undefined);
      if (why)
        entry.problems.push(
          `SAN ${text} is outside the CA's name constraints (${why}); peers that honour them refuse it`,
        );
    }
  }
}

function toSan(text: string): San | undefined {
  if (text.startsWith("DNS:")) return { type: "dns", value: text.slice(4) };
  if (text.startsWith("IP:")) return { type: "ip", value: text.slice(3) };
  return undefined;
}

function parseNode(pem: string): NodeCert | undefined {
  try {
    return new NodeCert(pem);
  } catch {
    return undefined;
  }
}
