/**
 * `mtls-certs list` (what the issuance ledger holds) and `mtls-certs adopt` (enter the certs of a
 * tree made before the ledger: by the Makefile or an earlier mtls-certs).
 */
import { DEFAULT_OUT } from "../defaults.js";
import { escapeControlCharacters } from "../control-characters.js";
import { type LedgerEntry, readLedger } from "../store/ledger.js";
import { adoptionLines, reconcileLedger, type Adoption } from "../store/ledger-adoption.js";
import { treePaths } from "../store/paths.js";
import { assertTreeExists, withExistingTree } from "../store/tree-access.js";
import type { TreeOptions } from "../store/issue-types.js";

export interface LedgerListing {
  root: string;
  ledger: string;
  /** False: the tree has no ledger yet (`mtls-certs adopt`). */
  adopted: boolean;
  entries: LedgerEntry[];
}

/** Reads the ledger; never writes (a ledgerless tree lists nothing and says so). */
export async function listLedger(o: { out?: string } = {}): Promise<LedgerListing> {
  const tree = treePaths(o.out ?? DEFAULT_OUT);
  await assertTreeExists(tree);
  const ledger = await readLedger(tree);
  return { root: tree.root, ledger: tree.ledger, adopted: ledger !== undefined, entries: ledger?.entries ?? [] };
}

export function renderLedgerTable(l: LedgerListing): string {
  if (!l.adopted) return `${l.ledger}: no issuance ledger yet; run \`mtls-certs adopt --out ${l.root}\`\n`;
  // Names and subjects were read from certs on disk: ESC never reaches the terminal.
  const rows = l.entries.map((e) =>
    [
      `${e.role}/${e.name}`,
      e.status + (e.status === "revoked" ? ` (${e.reason ?? "unspecified"} ${e.revokedAt?.slice(0, 10) ?? ""})` : ""),
      e.serial,
      e.notAfter.slice(0, 10),
      e.source,
      e.subject,
    ].map(escapeControlCharacters),
  );
  const header = ["LEAF", "STATUS", "SERIAL", "NOT AFTER", "SOURCE", "SUBJECT"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line), `${l.entries.length} entries in ${l.ledger}`].join("\n") + "\n";
}

export interface AdoptReport {
  root: string;
  ledger: string;
  /** The tree had no ledger before this run. */
  firstAdoption: boolean;
  adoptions: Adoption[];
  /** The output lines: one per cert looked at. */
  lines: string[];
}

/** Enters every leaf cert that verifies against the tree's CAs and that the ledger lacks. */
export async function adoptTree(o: TreeOptions = {}): Promise<AdoptReport> {
  return withExistingTree(o, async (tree) => {
    const reconciled = await reconcileLedger(tree, o.now ?? new Date());
    await reconciled.book.save(tree);
    const lines = adoptionLines(reconciled, true);
    if (reconciled.adoptions.length === 0)
      lines.push(`${tree.ledger}: records every certificate this tree's CA signed (${reconciled.book.entries.length})`);
    return {
      root: tree.root,
      ledger: tree.ledger,
      firstAdoption: reconciled.firstAdoption,
      adoptions: reconciled.adoptions,
      lines,
    };
  });
}
