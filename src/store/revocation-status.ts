/**
 * What a tree's CRLs say, for `check`, `renew` and the ledger: whether ca/ca.crl is readable,
 * signed by the CA that signs leaves and not past its nextUpdate, and which leaf serials it (or,
 * during a CA rotation, ca/previous/ca.crl) revokes. Reads; `revoke` and `crl` write.
 */
import { join } from "node:path";
import { crlSignedBy, normalizeSerial, parseCrl, type ParsedCrl } from "../pki/crl.js";
import * as x509 from "../pki/x509.js";
import type { TreePaths } from "./paths.js";
import { readText } from "./write.js";

/**
 * What `check` adds: a problem on the CA when the CRL is damaged, signed by another key or past
 * its nextUpdate, and a "revoked …" problem on each leaf whose serial the CRL lists.
 */
export interface RevocationStatus {
  caProblems: string[];
  leafProblem(serial: string | null): string | undefined;
}

/** The texts the status is made from; a file absent is undefined (the CRL's sources are reads). */
export interface RevocationTexts {
  /** ca/ca.crl. */
  readonly crl: string | undefined;
  /** The cert that signs leaves (ca/intermediate.crt, else ca/ca.crt). */
  readonly signer: () => Promise<string | undefined>;
  /** ca/previous/ca.crt, asked for only when the CRL is not the signer's. */
  readonly previousCa: () => Promise<string | undefined>;
  /** ca/previous/ca.crl. */
  readonly previousCrl: () => Promise<string | undefined>;
}

export async function readRevocationStatus(tree: TreePaths, now: Date): Promise<RevocationStatus> {
  return revocationStatusOf(
    tree,
    {
      crl: await readText(tree.caCrl),
      signer: async () => (await readText(tree.intermediateCert)) ?? (await readText(tree.caCert)),
      previousCa: () => readText(tree.previousCaCert),
      previousCrl: () => readText(join(tree.previousCaDir, "ca.crl")),
    },
    now,
  );
}

/** readRevocationStatus from texts already read (check's one read of the tree). */
export async function revocationStatusOf(
  tree: TreePaths,
  texts: RevocationTexts,
  now: Date,
): Promise<RevocationStatus> {
  const none: RevocationStatus = { caProblems: [], leafProblem: () => undefined };
  const pem = texts.crl;
  if (pem === undefined) return none;
  let parsed: ParsedCrl;
  try {
    parsed = parseCrl(pem, tree.caCrl);
  } catch (e) {
    return { ...none, caProblems: [e instanceof Error ? e.message : String(e)] };
  }
  const caProblems: string[] = [];
  const signerPem = await texts.signer();
  const signer = signerPem === undefined ? undefined : tryParse(signerPem);
  if (signer && !(await crlSignedBy(parsed.crl, signer))) {
    const previousPem = await texts.previousCa();
    const previous = previousPem === undefined ? undefined : tryParse(previousPem);
    caProblems.push(
      previous && (await crlSignedBy(parsed.crl, previous))
        ? `${tree.caCrl}: still the rotated-out CA's list; peers checking the new CA's certs find no CRL for it: run \`mtls-certs crl\``
        : `${tree.caCrl}: not signed by the CA that signs this tree's certificates`,
    );
  }
  if (parsed.nextUpdate && now > parsed.nextUpdate) {
    caProblems.push(
      `${tree.caCrl}: past its nextUpdate ${parsed.nextUpdate.toISOString()}; peers that load it refuse every certificate: run \`mtls-certs crl\``,
    );
  }
  // After a CA rotation, leaves the old CA signed are still revoked by its list in ca/previous/.
  const previousListPath = join(tree.previousCaDir, "ca.crl");
  const previousList = await texts.previousCrl();
  const lists = [{ path: tree.caCrl, entries: parsed.entries }];
  if (previousList !== undefined) {
    try {
      lists.push({ path: previousListPath, entries: parseCrl(previousList, previousListPath).entries });
    } catch (e) {
      caProblems.push(e instanceof Error ? e.message : String(e));
    }
  }
  const bySerial = new Map(
    lists.flatMap(({ path, entries }) => entries.map((e) => [e.serial, { ...e, path }] as const)),
  );
  return {
    caProblems,
    leafProblem(serial) {
      const entry = serial === null ? undefined : bySerial.get(normalizeSerial(serial));
      return entry && `revoked ${entry.revokedAt.toISOString()} (reason ${entry.reason}) in ${entry.path}`;
    },
  };
}

function tryParse(pem: string): x509.X509Certificate | undefined {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    return undefined;
  }
}
