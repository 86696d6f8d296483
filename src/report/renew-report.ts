import type { RenewReport } from "./renew-types.js";
import { describeEntry } from "./github.js";
import { pad, shortPath } from "./issue-report.js";
import type { Style } from "./terminal.js";
import { humanDate, needAttention } from "../human.js";
import { escapeControlCharacters as printable } from "../control-characters.js";

/** One line per renewed, kept and failed leaf; with `diff`, what changed under each renewed one. */
export function renderRenewReport(report: RenewReport, style: Style, diff: boolean, cwd = process.cwd()): string {
  const lines: string[] = [];
  if (report.ca) {
    const { previous, current } = report.ca;
    lines.push(
      report.ca.action === "rotated"
        ? `${style.green(pad("rotated", 12))}${pad("ca", 9)}new CA serial ${current?.serial} until ${humanDate(current?.notAfter)}; previous CA (serial ${previous.serial}) kept in ${shortPath(previous.cert, cwd)}; ${report.ca.copies} ca.crt copies hold both`
        : `${style.yellow(pad("would rotate", 12))}${pad("ca", 9)}a new CA; the previous one (serial ${previous.serial}) stays trusted in ${report.ca.copies} ca.crt copies`,
    );
  }
  // One column for `until`, however long the paths.
  const width = Math.max(
    0,
    ...[...report.renewed.map((r) => r.cert), ...report.kept.map((k) => k.path)].map(
      (p) => printable(shortPath(p, cwd)).length,
    ),
  );
  for (const r of report.renewed) {
    const verb = r.action === "renewed" ? style.green(pad("renewed", 12)) : style.yellow(pad("would renew", 12));
    lines.push(
      `${verb}${pad(r.role, 9)}${pad(printable(r.name), 24)}${printable(shortPath(r.cert, cwd)).padEnd(width)}  ${style.dim(`until ${humanDate(r.after.notAfter)}; ${r.keyFromCsr ? "same key (signed from a CSR: the key is not ours)" : r.keyReused ? "same key" : "new key"}; why: ${r.reasons.join("; ")}`)}`,
    );
    // Every name signed is on screen (issue 23 §4).
    if (r.after.sans.length > 0) lines.push(`    ${style.dim("SANs")} ${printable(r.after.sans.join(", "))}`);
    if (diff) for (const change of r.changes) lines.push(`      ${style.dim("-")} ${printable(change)}`);
  }
  for (const k of report.kept)
    lines.push(
      `${style.dim(pad(report.dryRun ? "would keep" : "kept", 12))}${pad(k.role, 9)}${pad(printable(k.name), 24)}${printable(shortPath(k.path, cwd)).padEnd(width)}  ${style.dim(`until ${humanDate(k.notAfter)}`)}`,
    );
  for (const f of report.failed)
    lines.push(
      `${style.red(pad("failed", 12))}${pad(f.role, 9)}${pad(printable(f.name), 24)}${printable(f.error.message)}${f.error.hint ? ` (${printable(f.error.hint)})` : ""}`,
    );
  for (const a of report.attention) lines.push(`${style.red(pad("attention", 12))}${printable(describeEntry(a))}`);
  const verb = report.dryRun ? "would be renewed" : "renewed";
  // A leaf that failed is never "all fine", even when nothing else is left to look at.
  // A leaf that failed is usually also in `attention` (check still finds its problem): count it once.
  const leaves = new Set([...report.failed, ...report.attention].map((l) => `${l.role}/${l.name}`));
  const needsAttention = leaves.size;
  const backup = report.backup ? `; previous files in ${shortPath(report.backup, cwd)}` : "";
  lines.push(
    `${report.renewed.length} ${verb}, ${report.kept.length} ${report.dryRun ? "would be kept" : "kept"}, ${report.failed.length} failed${backup}; ${needsAttention === 0 ? "all fine" : needAttention(needsAttention)}`,
  );
  return lines.join("\n") + "\n";
}
