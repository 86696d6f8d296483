/**
 * `check`'s table for people: one row per certificate, its problems and fixes below it, and a last
 * line with the verdict a CI log shows. The same CheckReport is the JSON, GitHub and Prometheus
 * output; only the look is decided here.
 */
import { entryFails, type CertStatus, type CheckEntry, type CheckReport } from "../pki/check-entry.js";
import { escapeControlCharacters } from "../control-characters.js";
import { pad, shortPath } from "./issue-report.js";
import type { Style } from "./terminal.js";
import { humanDate, plural, verdictOf } from "../human.js";

/** `make certs-mcp-check`, as a table: one row per cert, its problems indented below it. */
export function renderCheckTable(
  report: CheckReport,
  style: Style,
  cwd = process.cwd(),
  quiet = false,
  failOnExpiring = false,
): string {
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
  const next = report.next === null ? "" : `; next: \`${report.next}\``;
  const footer = `${plural(report.certificates.length, "certificate")} in ${shortPath(report.root, cwd)}; ${verdict(report.certificates, report.within, failOnExpiring)}${report.cannotCheck ? "; keys not checked (cannot read them as this user)" : ""}${next}`;
  // The CA's own warnings come before any leaf: a dead CA takes every leaf with it.
  const warnings = report.warnings.map((w) => `${style.yellow("warning:")} ${escapeControlCharacters(w)}`);
  return [...warnings, header, ...rows, footer].join("\n") + "\n";
}

/**
 * The verdict in words that match the exit code: "need attention" counts what fails the check
 * (exit 1); an expiring cert that does not fail (no --within) is named apart, as what it is.
 * `all` says the same of the tree it leaves.
 */
export function verdict(entries: readonly CheckEntry[], within: number, failOnExpiring: boolean): string {
  const failing = entries.filter((c) => entryFails(c, failOnExpiring)).length;
  const expiring = entries.filter((c) => c.status === "expiring" && !entryFails(c, failOnExpiring)).length;
  return verdictOf(failing, expiring, within);
}
