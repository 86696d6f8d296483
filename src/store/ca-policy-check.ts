/**
 * What `check` learns from the CA's own policy: its CRL (issue 7) and its name constraints
 * (issue 10). Most trees have neither, and then nothing here loads an ASN.1 library.
 */
import { X509Certificate as NodeCert } from "node:crypto";
import type { San } from "../pki/profiles.js";
import type { TreePaths } from "./paths.js";
import { readText } from "./write.js";
import { sansOf } from "../pki/node-facts.js";
import type { CheckEntry } from "../report/check-report.js";

/** The DER of the nameConstraints OID (2.5.29.30): a cheap test before parsing a CA for them. */
const NAME_CONSTRAINTS_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x1e]);

/**
 * Adds problems to the entries: on the signing CA when the CRL is damaged or past its
 * nextUpdate, "revoked …" on a leaf the CRL lists, and a leaf SAN outside the CA's name
 * constraints; sets `nameConstraints` on a constrained CA's entry.
 */
export async function checkCaPolicy(
  tree: TreePaths,
  now: Date,
  cas: readonly CheckEntry[],
  leaves: readonly CheckEntry[],
): Promise<void> {
  const caPaths = [tree.caCert, tree.intermediateCert];
  // A CA cert that cannot be read is already its entry's problem (check-read.ts readCaCert), not a crash here.
  const [crlPem, ...caPems] = await Promise.all([
    readText(tree.caCrl),
    ...caPaths.map((p) => readText(p).catch(() => undefined)),
  ]);
  const constrained = caPaths.flatMap((path, i) => {
    const pem = caPems[i];
    return pem !== undefined && parseNode(pem)?.raw.includes(NAME_CONSTRAINTS_OID) ? [{ path, pem }] : [];
  });
  if (crlPem !== undefined) {
    const { readRevocationStatus } = await import("./revocation-status.js");
    const status = await readRevocationStatus(tree, now);
    const signer = cas.find((e) => e.path === tree.intermediateCert) ?? cas.find((e) => e.path === tree.caCert);
    signer?.problems.push(...status.caProblems);
    for (const leaf of leaves) {
      const problem = status.leafProblem(leaf.serial);
      if (problem) leaf.problems.push(problem);
    }
  }
  if (constrained.length > 0) await checkNameConstraints(constrained, cas, leaves);
}

async function checkNameConstraints(
  caCerts: ReadonlyArray<{ path: string; pem: string }>,
  cas: readonly CheckEntry[],
  leaves: readonly CheckEntry[],
): Promise<void> {
  const { describeNameConstraints, readNameConstraints, sanViolation } = await import("../pki/constraints.js");
  const x509 = await import("../pki/x509.js");
  const sets = caCerts.flatMap(({ path, pem }) => {
    const set = readNameConstraints(new x509.X509Certificate(pem));
    const entry = cas.find((e) => e.path === path);
    if (set && entry) entry.nameConstraints = describeNameConstraints(set);
    return set ? [set] : [];
  });
  await Promise.all(
    leaves.map(async (leaf) => {
      const pem = await readText(leaf.path).catch(() => undefined);
      const cert = pem === undefined ? undefined : parseNode(pem);
      if (!cert) return;
      for (const text of sansOf(cert)) {
        const san = toSan(text);
        const why = san && sets.map((set) => sanViolation(set, san)).find((w) => w !== undefined);
        if (why)
          leaf.problems.push(
            `SAN ${text} is outside the CA's name constraints (${why}); peers that honour them refuse it`,
          );
      }
    }),
  );
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
