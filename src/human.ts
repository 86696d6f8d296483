/**
 * How dates and counts read for people, the same in every table, warning and reason:
 * `2029-03-04 02:57 UTC` (JSON keeps ISO 8601), and "1 certificate", "2 certificates".
 */

/** `2029-03-04 02:57 UTC` from a Date or an ISO 8601 string; "-" for none. */
export function humanDate(date: Date | string | null | undefined): string {
  if (date === undefined || date === null) return "-";
  const d = typeof date === "string" ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return String(date);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** `1 certificate`, `3 certificates`; `plural(1, "needs", "need")` for verbs. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1 day", "3 days". */
export function days(n: number): string {
  return plural(n, "day");
}

/** "1 needs attention", "3 need attention". */
export function needAttention(n: number): string {
  return `${n} ${n === 1 ? "needs" : "need"} attention`;
}

/** The one-line verdict of a check or an issuing run: "all ok", or what needs attention and what expires. */
export function verdictOf(failing: number, expiring: number, within: number): string {
  if (failing === 0 && expiring === 0) return "all ok";
  return [
    failing > 0 ? needAttention(failing) : "",
    expiring > 0
      ? `${expiring} expiring within ${plural(within, "day")} (\`mtls-certs renew\` re-issues ${expiring === 1 ? "it" : "them"})`
      : "",
  ]
    .filter(Boolean)
    .join("; ");
}
