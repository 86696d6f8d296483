/**
 * Was this cert issued here? The CAs whose certs the ledger may hold, and the rule the exports
 * apply before a leaf's cert and key leave the tree (a Secret, a proxy's PEM, a PKCS#12). Apart
 * from the ledger's bookkeeping because exports only read: they never enter or change a record.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { MtlsError } from "../errors.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";
import { certificateOf, certsInPem } from "../pki/node-facts.js";
import { LedgerBook } from "./ledger-book.js";
import { readLedger } from "./ledger.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readText } from "./write.js";

/** The CAs whose certs the ledger may hold: the root, the intermediate, a rotation's previous CA. */
export async function treeIssuers(tree: TreePaths): Promise<NodeCert[]> {
  return (await readTreeIssuers(tree)).issuers;
}

/** The CA files' texts as read (undefined: no such file), and every CA they hold. */
export interface TreeIssuers {
  readonly intermediatePem: string | undefined;
  readonly caPem: string | undefined;
  readonly previousPem: string | undefined;
  readonly issuers: NodeCert[];
}

export async function readTreeIssuers(tree: TreePaths): Promise<TreeIssuers> {
  const [intermediatePem, caPem, previousPem] = await Promise.all(
    [tree.intermediateCert, tree.caCert, tree.previousCaCert].map((p) => readText(p)),
  );
  const issuers: NodeCert[] = [];
  // Every CA of each file (ca/ca.crt holds two during a rotation); a damaged one: `check` names it.
  for (const pem of [intermediatePem, caPem, previousPem]) issuers.push(...certsInPem(pem ?? ""));
  return { intermediatePem, caPem, previousPem, issuers };
}

/**
 * For exports (p12, k8s, haproxy, env …): refuses a leaf cert the ledger did not record for its
 * directory, so a planted cert and key never end up in a Secret or a proxy's PEM. A tree without
 * a ledger (not adopted yet) has no record to hold it to: there the cert must at least be one of
 * the tree's CAs signed (a self-signed one planted in a Makefile tree is refused).
 */
export async function assertIssuedHere(tree: TreePaths, files: LeafFiles, pem: string, what: string): Promise<void> {
  const ledger = await readLedger(tree);
  const cert = certificateOf(pem, files.cert, "restore it from a backup");
  if (files.role === "https" && isSelfSigned(cert)) return;
  if (ledger === undefined) {
    if ((await treeIssuers(tree)).some((ca) => isIssuedBy(cert, ca))) return;
    throw new MtlsError(
      "E_FOREIGN",
      `${files.cert}: not signed by this tree's CA; ${what} refuses it`,
      `if nobody you trust put it there, remove ${files.cert} and its key, then issue the leaf again (\`mtls-certs ${files.role} ${files.name}\`); \`mtls-certs adopt\` records the tree's certificates`,
    );
  }
  const standing = new LedgerBook(ledger).standing(files.role, files.name, cert);
  if (standing.kind === "foreign")
    throw new MtlsError(
      "E_FOREIGN",
      `${files.cert}: ${standing.why}; ${what} refuses it`,
      `if nobody you trust put it there, remove ${files.cert} and its key, then issue the leaf again (\`mtls-certs ${files.role} ${files.name}\`)`,
    );
}
