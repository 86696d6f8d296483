/**
 * `check --format github`: GitHub Actions workflow commands, one annotation per certificate that
 * needs attention, so a scheduled job's summary names the file and the date.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { entryFails, type CheckEntry, type CheckReport } from "../pki/check-entry.js";
import { githubData, githubProperty } from "./escape.js";
import { shortPath } from "./issue-report.js";
import { days, humanDate, plural } from "../human.js";
import { verdict } from "./check-table.js";

/** Errors for what fails the job, warnings for the rest; a closing notice with the counts. */
export function renderGithubAnnotations(report: CheckReport, failOnExpiring: boolean, cwd = process.cwd()): string {
  const lines: string[] = [];
  // Not one cert's fault: the job's user cannot read the keys. An error without a file, so no cert is blamed.
  if (report.cannotCheck)
    lines.push(`::error title=${githubProperty("mtls-certs: cannot check")}::${githubData(report.cannotCheck)}`);
  for (const warning of report.warnings)
    lines.push(`::warning title=${githubProperty("mtls-certs")}::${githubData(warning)}`);
  for (const c of report.certificates) {
    if (c.status === "ok") continue;
    const level = entryFails(c, failOnExpiring) ? "error" : "warning";
    const file = githubProperty(shortPath(c.path, cwd));
    lines.push(
      `::${level} file=${file},title=${githubProperty(`mtls-certs: ${certLabel(c)} ${c.status}`)}::${githubData(describeEntry(c))}`,
    );
  }
  lines.push(
    `::notice title=${githubProperty("mtls-certs")}::${githubData(`${plural(report.certificates.length, "certificate")} checked in ${shortPath(report.root, cwd)}; ${verdict(report.certificates, report.within, failOnExpiring)}${report.next === null ? "" : `; next: ${report.next}`}`)}`,
  );
  return lines.join("\n") + "\n";
}

/** One sentence: what is wrong with the cert and when it expires. */
export function describeEntry(c: CheckEntry): string {
  const when =
    c.notAfter === null || c.daysLeft === null
      ? undefined
      : c.daysLeft < 0
        ? `expired on ${humanDate(c.notAfter)} (${days(-c.daysLeft)} ago)`
        : c.status === "not-yet-valid"
          ? `not valid before ${humanDate(c.notBefore)}`
          : `expires on ${humanDate(c.notAfter)} (${days(c.daysLeft)} left)`;
  return [`${certLabel(c)}: ${c.status}`, when, ...c.problems].filter(Boolean).join("; ");
}

/** `plugin DenyListPlugin`, but `ca`, `gateway`, `intermediate`, `https` once: their name is their role. */
export function certLabel(c: { role: string; name: string }): string {
  return c.role === c.name ? c.role : `${c.role} ${c.name}`;
}
