import { relative } from "node:path";
import type { CertResult, IssueReport } from "../store/tree.js";
import type { Style } from "./terminal.js";

/** One line per certificate, then `N created, M kept`. Paths relative to `cwd` when inside it. */
export function renderIssueReport(report: IssueReport, style: Style, cwd = process.cwd()): string {
  const lines = report.certificates.map((c) => {
    const action = c.action === "kept" ? style.dim(pad(c.action, 8)) : style.green(pad(c.action, 8));
    return `${action}${pad(c.role, 9)}${pad(c.name, 24)}${shortPath(c.cert, cwd)}  ${style.dim(`until ${c.notAfter.slice(0, 10)}`)}`;
  });
  lines.push(summary(report.certificates));
  return lines.join("\n") + "\n";
}

export function summary(certs: readonly CertResult[]): string {
  const counts = new Map<string, number>();
  for (const c of certs) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  return [...counts].map(([action, n]) => `${n} ${action}`).join(", ");
}

export function shortPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith("..") ? path : rel;
}

export function pad(s: string, width: number): string {
  return s.length >= width ? `${s} ` : s.padEnd(width);
}
