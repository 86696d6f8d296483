/**
 * The name policy (pki/name-policy.ts) applied to what a command is about to sign, with the tree's
 * ledger as the record of which leaf holds which name; and the notes a command owes for a cert it
 * kept, when a flag asked for something the kept cert does not have (issue 28 §3): "kept", exit 0
 * and nothing else reads as "done".
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import { judgeNames, type NameRefusal, type RequestedName } from "../pki/name-policy.js";
import { keyTypeOf, type KeyType } from "../pki/keys.js";
import { sansOf } from "../pki/node-facts.js";
import { formatSan, type Role, type San } from "../pki/profiles.js";
import { heldNames } from "./ledger.js";
import type { LedgerBook } from "./ledger-book.js";

export interface NamedLeaf {
  readonly role: Role;
  readonly name: string;
  readonly sans: readonly (San | RequestedName)[];
}

/** Refusals per leaf, in order: each leaf against the ledger's other leaves and the run's others. */
export function refusedNames(book: LedgerBook, leaves: readonly NamedLeaf[]): NameRefusal[][] {
  return judgeNames(leaves, heldNames(book.entries));
}

/** What the run was asked for, to compare with a kept cert. */
export interface AskedOf {
  readonly days: number | undefined;
  readonly keyType: KeyType | undefined;
}

const DAY_MS = 86_400_000;

/**
 * One note per flag that did not apply to a kept cert, each with the command that applies it. A
 * SAN from the command line (or a client's `--cn`) the cert lacks: `renew NAME --san …` re-issues
 * it now with it, and the ledger keeps it for every later renewal.
 */
export function keptCertNotes(leaf: NamedLeaf, cert: NodeCert, asked: AskedOf): string[] {
  const notes: string[] = [];
  const reissue = `applies to new certs; \`mtls-certs renew --force ${leaf.name}\` re-issues`;
  const lifetime = Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS);
  if (asked.days !== undefined && Math.abs(lifetime - asked.days) > 1)
    notes.push(`--days ${asked.days} did not apply to this kept cert (${lifetime} days): it ${reissue}`);
  const keyType = keyTypeOf(cert.publicKey);
  if (asked.keyType !== undefined && keyType !== asked.keyType)
    notes.push(
      `--key-type ${asked.keyType} did not apply to this kept cert (${keyType ?? "another key type"}): it ${reissue}`,
    );
  const have = new Set(sansOf(cert).map((s) => s.toLowerCase()));
  const lacking = leaf.sans.filter(
    (s) => "source" in s && s.source === "flag" && !have.has(formatSan(s).toLowerCase()),
  );
  if (lacking.length > 0) {
    const flags = lacking.map((s) => (s.type === "ip" ? `--ip ${s.value}` : `--san '${s.value}'`)).join(" ");
    notes.push(
      `${lacking.map(formatSan).join(", ")} did not apply: the cert is kept as it is; \`mtls-certs renew ${leaf.name} ${flags}\` re-issues it now with ${lacking.length === 1 ? "it" : "them"}, and every later renew keeps ${lacking.length === 1 ? "it" : "them"}`,
    );
  }
  const cn = leaf.sans.find((s) => "source" in s && s.source === "cn");
  if (leaf.role === "client" && cn && !have.has(formatSan(cn).toLowerCase()))
    notes.push(
      `--cn ${cn.value} did not apply: the cert is kept with ${cert.subject.split("\n").join(", ")}; remove ${leaf.name}'s directory (after \`mtls-certs revoke\`) and issue it again for another name`,
    );
  return notes;
}
