/** How `inspect` and `verify` read on a terminal (their --json is the report object itself). */
import type { VerifyReport } from "../pki/chain-verdict.js";
import type { InspectItem, InspectReport } from "./inspect-report.js";
import type { Style } from "./terminal.js";
import { days, humanDate } from "../human.js";

export function renderInspect(report: InspectReport, style: Style): string {
  const head = `${style.bold(report.file)}: ${report.kind} (${report.format}, ${report.items.length} item${report.items.length === 1 ? "" : "s"})`;
  return [head, ...report.items.map((item, i) => renderItem(item, i, style))].join("\n\n") + "\n";
}

function renderItem(item: InspectItem, index: number, style: Style): string {
  const rows: Array<[string, string]> = [];
  switch (item.type) {
    case "certificate": {
      const left =
        item.validity === "expired"
          ? style.red(`expired ${days(-item.daysLeft)} ago`)
          : item.validity === "not-yet-valid"
            ? style.yellow("not yet valid")
            : style.green(`${days(item.daysLeft)} left`);
      const bc = item.basicConstraints;
      rows.push(
        ["subject", item.subject],
        ["issuer", item.issuer + (item.selfSigned ? style.dim(" (self-signed)") : "")],
        ["serial", item.serial],
        ["valid", `${humanDate(item.notBefore)} to ${humanDate(item.notAfter)} (${left})`],
        ["key", item.key],
        ["signature", item.signatureAlgorithm],
        ["SANs", item.sans.join(", ") || "-"],
        [
          "keyUsage",
          item.keyUsage === null
            ? style.dim("none")
            : item.keyUsage.join(", ") + (item.keyUsageCritical ? " (critical)" : ""),
        ],
        ["extKeyUsage", item.extendedKeyUsage?.join(", ") ?? style.dim("none")],
        [
          "basicConstr.",
          bc === null
            ? style.dim("none")
            : `CA:${bc.ca ? "TRUE" : "FALSE"}${bc.pathLength !== null ? `, pathlen:${bc.pathLength}` : ""}${bc.critical ? " (critical)" : ""}`,
        ],
      );
      if (item.nameConstraints)
        rows.push([
          "nameConstr.",
          `permitted ${item.nameConstraints.permitted.join(", ") || "-"}; excluded ${item.nameConstraints.excluded.join(", ") || "-"}`,
        ]);
      rows.push(["version", `X.509 v${item.version}`], ["SHA-256", item.fingerprint]);
      break;
    }
    case "private-key":
      rows.push(
        ["key", item.key ?? style.dim("encrypted (pass --password-env VAR to open it)")],
        ["encrypted", item.encrypted ? "yes" : "no"],
      );
      if (item.matches !== null)
        rows.push(["matches", `${item.matches ? style.green("yes") : style.red("NO")}: ${item.matchedAgainst}`]);
      break;
    case "csr":
      rows.push(
        ["subject", item.subject],
        ["key", item.key],
        ["SANs", item.sans.join(", ") || "-"],
        ["signature", item.signatureValid ? "valid" : style.red("INVALID")],
      );
      break;
    case "crl":
      rows.push(
        ["issuer", item.issuer],
        ["thisUpdate", item.thisUpdate],
        ["nextUpdate", item.nextUpdate ?? "-"],
        [
          "revoked",
          item.revoked.length === 0
            ? "none"
            : item.revoked.map((r) => `${r.serial} (${r.date})`).join("\n" + " ".repeat(15)),
        ],
      );
      break;
    case "public-key":
      rows.push(["key", item.key]);
      break;
  }
  return [`${style.bold(`[${index + 1}] ${item.type}`)}`, ...rows.map(([k, v]) => `  ${k.padEnd(13)}${v}`)].join("\n");
}

export function renderVerify(report: VerifyReport, style: Style): string {
  const lines: string[] = [];
  const against = [
    report.purpose === "server" ? "as a TLS server" : "as a TLS client",
    report.host ? `for ${report.host}` : "",
    `against ${report.ca}`,
    report.crl ? `and ${report.crl}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  lines.push(`${style.bold(report.file)} ${against}`);
  report.chain.forEach((c, i) => {
    lines.push(`  ${"  ".repeat(i)}${i === 0 ? "" : "└ "}${c.subject}${c.trusted ? style.dim(" (trusted)") : ""}`);
  });
  // One line per problem, the fix after the colon: what a person pastes into a ticket.
  for (const p of report.problems)
    lines.push(
      `${style.red("✗")} ${p.subject === report.chain[0]?.subject ? "" : `${p.subject}: `}${p.message}: ${p.fix}`,
    );
  for (const w of report.warnings) lines.push(`${style.yellow("warning:")} ${w}`);
  lines.push(
    report.ok
      ? style.green("OK: a strict TLS peer accepts it")
      : style.red(`FAILED: ${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}`),
  );
  return lines.join("\n") + "\n";
}
