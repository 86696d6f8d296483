/**
 * Was this cert issued here? The CAs whose certs the ledger may hold, and the rule the exports
 * apply before a leaf's cert and key leave the tree (a Secret, a proxy's PEM, a PKCS#12). Apart
 * from the ledger's bookkeeping because exports only read: they never enter or change a record.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { MtlsError } from "../errors.js";
import { isIssuedBy, isSelfSigned } from "../pki/issued-by.js";
import { certificateOf, certsInPem } from "../pki/node-facts.js";
import { caPublicKeysOf, type CaPublicKey } from "./leaf-key.js";
import { LedgerBook } from "./ledger-book.js";
import { readLedger } from "./ledger.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { readText } from "./write.js";

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
  return new IssuedHere(tree).assert(files, pem, what);
}

/**
 * What one command holds the leaves it exports to: the ledger and the CA certs, each read once, on
 * first use, however many leaves it checks. An export of every plugin read ca/ledger.json and
 * ca/ca.crt once per leaf before: 501 times for 500 plugins (issue 24: one read of the tree).
 */
export class IssuedHere {
  private bookRead: Promise<LedgerBook | undefined> | undefined;
  private issuersRead: Promise<TreeIssuers> | undefined;
  private caKeysRead: Promise<CaPublicKey[]> | undefined;

  constructor(readonly tree: TreePaths) {}

  /** The ledger, read and indexed once; undefined when the tree has none yet. */
  private book(): Promise<LedgerBook | undefined> {
    this.bookRead ??= readLedger(this.tree).then((ledger) => ledger && new LedgerBook(ledger));
    return this.bookRead;
  }

  /** ca/ca.crt, ca/intermediate.crt and ca/previous/ca.crt as read, and every CA they hold. */
  cas(): Promise<TreeIssuers> {
    this.issuersRead ??= readTreeIssuers(this.tree);
    return this.issuersRead;
  }

  /** The CAs' public keys (leaf-key.ts), from the same read: no leaf's key may be one of them. */
  caPublicKeys(): Promise<CaPublicKey[]> {
    this.caKeysRead ??= this.cas().then((c) => caPublicKeysOf(this.tree, [c.caPem, c.intermediatePem, c.previousPem]));
    return this.caKeysRead;
  }

  /** assertIssuedHere's rule, against this command's one read of the ledger and the CAs. */
  async assert(files: LeafFiles, pem: string, what: string): Promise<void> {
    const book = await this.book();
    const cert = certificateOf(pem, files.cert, "restore it from a backup");
    if (files.role === "https" && isSelfSigned(cert)) return;
    if (book === undefined) {
      if ((await this.cas()).issuers.some((ca) => isIssuedBy(cert, ca))) return;
      throw new MtlsError(
        "E_FOREIGN",
        `${files.cert}: not signed by this tree's CA; ${what} refuses it`,
        `if nobody you trust put it there, remove ${files.cert} and its key, then issue the leaf again (\`mtls-certs ${files.role} ${files.name}\`); \`mtls-certs adopt\` records the tree's certificates`,
      );
    }
    const standing = book.standing(files.role, files.name, cert);
    if (standing.kind === "foreign")
      throw new MtlsError(
        "E_FOREIGN",
        `${files.cert}: ${standing.why}; ${what} refuses it`,
        `if nobody you trust put it there, remove ${files.cert} and its key, then issue the leaf again (\`mtls-certs ${files.role} ${files.name}\`)`,
      );
  }
}
