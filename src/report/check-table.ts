import type { CertStatus, CheckReport } from "../commands/check.js";
import { escapeControlCharacters } from "../control-characters.js";
import { pad, shortPath } from "./issue-report.js";
import type { Style } from "./terminal.js";
import { humanDate, needAttention, plural } from "./human.js";

/** `make certs-mcp-check`, as a table: one row per cert, its problems indented below it. */
export function renderCheckTable(report: CheckReport, style: Style, cwd = process.cwd(), quiet = false): string {
  const colour: Record<CertStatus, (s: string) => string> = {
    ok: style.green,
    expiring: style.yellow,
    expired: style.red,
    "not-yet-valid": style.yellow,
    invalid: style.red,
    revoked: style.red,
    foreign: style.red,
  };
  // -q (cron): only what needs attention, and nothing at all when everything is fine.
  const shown = quiet ? report.certificates.filter((c) => c.status !== "ok") : report.certificates;
  if (quiet && shown.length === 0 && report.warnings.length === 0) return "";
  const rows = shown.map((c) => {
    const cn = c.subject?.match(/CN=([^,]*)/)?.[1] ?? "-";
    const row = [
      pad(c.role, 9),
      // Names and subjects come from disk (a directory name, a planted cert): ESC never reaches the terminal.
      pad(escapeControlCharacters(c.name), 24),
      pad(escapeControlCharacters(cn), 30),
      pad(humanDate(c.notAfter), 22),
      String(c.daysLeft ?? "-").padStart(6),
      "  ",
      colour[c.status](c.status),
    ].join("");
    const problems = c.problems.map((p) => `    ${style.dim("-")} ${escapeControlCharacters(p)}`);
    const constraints = c.nameConstraints?.length
      ? [`    ${style.dim("name constraints:")} ${c.nameConstraints.join("; ")}`]
      : [];
    return [row, ...constraints, ...problems].join("\n");
  });
  const header = style.bold(
    [pad("ROLE", 9), pad("NAME", 24), pad("SUBJECT CN", 30), pad("NOT AFTER", 22), "  DAYS", "  ", "STATUS"].join(""),
  );
  const bad = report.certificates.filter((c) => c.status !== "ok").length;
  const next = report.next === null ? "" : `; next: \`${report.next}\``;
  const footer = `${plural(report.certificates.length, "certificate")} in ${shortPath(report.root, cwd)}; ${bad === 0 ? "all ok" : needAttention(bad)}${next}`;
  // The CA's own warnings come before any leaf: a dead CA takes every leaf with it.
  const warnings = report.warnings.map((w) => `${style.yellow("warning:")} ${escapeControlCharacters(w)}`);
  return [...warnings, header, ...rows, footer].join("\n") + "\n";
}
