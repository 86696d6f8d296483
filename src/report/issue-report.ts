/**
 * What a command that issued (ca, gateway, plugin, all, server, client, https, sign) prints for
 * people: one line per certificate with what happened to it, then what to run next. `--json`
 * prints the same IssueReport as data instead (cli/issue-output.ts).
 */
import { dirname, join, relative, resolve } from "node:path";
import type { CertResult } from "../store/cert-result.js";
import type { IssueReport } from "../store/issue-types.js";
import type { Style } from "./terminal.js";
import { humanDate, verdictOf } from "../human.js";

/** One line per certificate, then `N created, M kept`. Paths relative to `cwd` when inside it. */
export function renderIssueReport(report: IssueReport, style: Style, cwd = process.cwd()): string {
  // One column for `until`, however long the paths.
  const width = Math.max(0, ...report.certificates.map((c) => shortPath(c.cert, cwd).length));
  const nameWidth = Math.max(24, ...report.certificates.map((c) => c.name.length + 1));
  const lines = report.certificates.map((c) => {
    const action = c.action === "kept" ? style.dim(pad(c.action, 8)) : style.green(pad(c.action, 8));
    const row = `${action}${pad(c.role, 9)}${pad(c.name, nameWidth)}${shortPath(c.cert, cwd).padEnd(width)}  ${style.dim(`until ${humanDate(c.notAfter)}`)}`;
    // Every name signed is on screen (issue 23 §4): a SAN nobody asked for is seen the day it is made.
    const sans = c.action !== "kept" && c.sans.length > 0 ? [`    ${style.dim("SANs")} ${c.sans.join(", ")}`] : [];
    return [row, ...sans, ...(c.notes ?? []).map((n) => `    ${style.dim("-")} ${n}`)].join("\n");
  });
  const expiring = report.expiring?.count ?? 0;
  const attention =
    report.attention === undefined
      ? ""
      : report.attention === 0 && expiring === 0
        ? "; nothing needs attention"
        : `; ${verdictOf(report.attention, expiring, report.expiring?.within ?? 0)}${report.next ? `; next: \`${report.next}\`` : ""}`;
  lines.push(summary(report.certificates) + attention);
  return lines.join("\n") + "\n";
}

/**
 * What to do next, after something was created: where the files are, how the gateway and a plugin
 * get their settings (`export env`), and `check` for CI. Commands name the tree when it is not
 * the default one, start with `command` (as the user ran the program: cli/invocation.ts) and
 * name files that exist: a cert signed from a CSR has no key here, so no client.pem.
 */
export function renderNextSteps(
  report: IssueReport & { keyFile?: string | null },
  defaultRoot: string,
  cwd = process.cwd(),
  command = "mtls-certs",
): string {
  if (!report.certificates.some((c) => c.action !== "kept")) return "";
  const out = resolve(report.root) === resolve(defaultRoot) ? "" : ` --out ${shortPath(report.root, cwd)}`;
  const first = (role: string) => report.certificates.find((c) => c.role === role);
  const lines = [`  files    ${shortPath(report.root, cwd)}/`];
  if (first("gateway")) lines.push(`  gateway  ${command} export env --gateway${out}`);
  const plugin = first("plugin");
  if (plugin) lines.push(`  plugin   ${command} export env --plugin ${plugin.name}${out}`);
  const server = first("server");
  if (server) lines.push(`  proxy    ${command} export nginx --server ${server.name}${out} -o mtls.conf`);
  const client = first("client");
  // `sign` reports keyFile: null: the key stays with whoever made the request.
  if (client && report.keyFile === null)
    lines.push(`  client   curl --cert ${shortPath(client.cert, cwd)} --key <the key the request was made with> …`);
  else if (client) lines.push(`  client   curl --cert ${shortPath(join(dirname(client.cert), "client.pem"), cwd)} …`);
  if (report.certificates.every((c) => c.role === "https")) return "";
  lines.push(`  CI       ${command} check --within 30${out}`);
  return `next:\n${lines.join("\n")}\n`;
}

export function summary(certs: readonly CertResult[]): string {
  const counts = new Map<string, number>();
  for (const c of certs) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  return [...counts].map(([action, n]) => `${n} ${action}`).join(", ");
}

export function shortPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
}

export function pad(s: string, width: number): string {
  return s.length >= width ? `${s} ` : s.padEnd(width);
}
