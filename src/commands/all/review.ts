/**
 * What `all` says about the certs it kept (issue 15 §2). `all` never replaces a cert that is
 * there, so on a tree made before (by the Makefile, or an older run) it must say what is wrong
 * with what it kept, or "5 kept" reads as "5 fine": the strict-peer policy's problems and the
 * SANs the config now asks for (from `check`, with their fixes), a plugin URL without TLS (the
 * flags that did not apply to a kept cert are the tree's notes, store/leaf-names.ts). A key wider than the key-mode rule is narrowed back, as
 * the Makefile's `chmod 600` does on every run.
 */
import { widestKeyMode } from "../../store/key-mode.js";
import { KEY_FILE, withChecked } from "../../store/leaf-file.js";
import type { TreePaths } from "../../store/paths.js";
import type { CertResult } from "../../store/cert-result.js";
import type { IssueReport } from "../../store/issue-types.js";
import { humanDate } from "../../human.js";
import { checkTree } from "../../store/check-tree.js";
import { entryFails } from "../../pki/check-entry.js";

export interface ReviewInput {
  tree: TreePaths;
  now: Date;
  /** The plugin config, when there is one: its SANs are what plugin certs must carry. */
  config: string | undefined;
  /** Plugins whose `mcp.url` is http://. */
  plainHttp: readonly string[];
}

export async function reviewKept(report: IssueReport, input: ReviewInput): Promise<IssueReport> {
  const notes = new Map<string, string[]>(report.certificates.map((c) => [c.cert, [...(c.notes ?? [])]]));
  const note = (c: CertResult, text: string) => notes.set(c.cert, [...(notes.get(c.cert) ?? []), text]);
  const kept = report.certificates.filter((c) => c.action === "kept");
  for (const c of kept) {
    const narrowed = await narrowKeyMode(c);
    if (narrowed) note(c, narrowed);
  }
  const check = await checkTree({ out: input.tree.root, now: input.now, config: input.config });
  const needReissue: string[] = [];
  let caNeedsRotation = false;
  let attention = 0;
  let expiring = 0;
  // check's own judgement, so `all` and the next `check` say the same of each cert (created ones too).
  for (const c of report.certificates) {
    const entry = check.certificates.find((e) => e.path === c.cert);
    if (entry === undefined || entry.status === "ok") continue;
    if (entry.status === "expiring" && !entryFails(entry, false)) {
      expiring++;
      note(
        c,
        `expires on ${humanDate(entry.notAfter)} (${entry.daysLeft} days left): within check's and renew's ${check.within}-day window, so \`check\` reports it expiring and \`mtls-certs renew\` re-issues it`,
      );
    } else if (c.action !== "kept") attention++;
  }
  for (const c of kept) {
    const entry = check.certificates.find((e) => e.path === c.cert);
    const problems = entry?.problems ?? [];
    for (const p of problems) note(c, p);
    if (problems.length > 0 || (entry !== undefined && entryFails(entry, false))) {
      attention++;
      if (c.role === "ca") caNeedsRotation ||= (entry?.policy.length ?? 0) > 0;
      else if (c.role !== "intermediate") needReissue.push(c.name);
    }
    if (c.role === "ca" || c.role === "intermediate") continue;
    if (c.role === "plugin" && input.plainHttp.includes(c.name))
      note(
        c,
        "its mcp.url in the config is http://: the gateway will not use TLS to reach it, so this cert is not used; make the URL https://",
      );
  }
  const next = caNeedsRotation
    ? "mtls-certs renew --ca"
    : needReissue.length > 0
      ? `mtls-certs renew --force ${needReissue.join(" ")}`
      : null;
  return {
    ...report,
    certificates: report.certificates.map((c) => (notes.get(c.cert)?.length ? { ...c, notes: notes.get(c.cert) } : c)),
    attention,
    expiring: { count: expiring, within: check.within },
    next,
  };
}

/** A key more open than the key-mode rule allows loses the extra bits (`chmod`), and says so. */
async function narrowKeyMode(c: CertResult): Promise<string | undefined> {
  // Judged and chmodded on one descriptor, opened without following links: a key swapped for a
  // link between a look and a chmod by name would have had the link's target chmodded.
  const narrowed = await withChecked(c.key, KEY_FILE, async ({ handle, stat }) => {
    const mode = stat.mode & 0o777;
    const widest = widestKeyMode(stat, { role: c.role });
    if ((mode & ~widest) === 0) return undefined;
    await handle.chmod(mode & widest);
    return { mode, narrowed: mode & widest };
  }).catch(() => undefined); // a link, a FIFO, a second name: `check` names it below
  if (narrowed === undefined) return undefined;
  return `${c.key}: mode ${narrowed.mode.toString(8)} was wider than the key-mode rule allows; narrowed to ${narrowed.narrowed.toString(8)} (as the Makefile's chmod does)`;
}
