/**
 * While a tree command works and when it is done: progress on stderr (a TTY only, quiet under
 * -q), then its report as a table with next steps or as one JSON document, and exit 2 when a leaf
 * was refused. The report's renderers load only here, after the work.
 */
import { DEFAULT_OUT } from "../defaults.js";
import { EXIT } from "../errors.js";
import type { IssueReport, TreeOptions } from "../store/issue-types.js";
import { commandOf, type Io } from "./command-context.js";
import type { TreeFlags } from "./tree-options.js";

export async function withProgress<T>(io: Io, flags: TreeFlags, o: TreeOptions, work: () => Promise<T>): Promise<T> {
  const { startProgress } = await import("../report/terminal.js");
  const progress = startProgress(io.stderr, Boolean(flags.quiet), io.env);
  o.onProgress = (m) => progress.update(m);
  try {
    return await work();
  } finally {
    progress.stop();
  }
}

export async function issued(report: IssueReport, flags: TreeFlags, io: Io): Promise<number> {
  const { asInvoked } = await import("./invocation.js");
  const command = commandOf(io);
  for (const w of report.warnings) io.stderr.write(`warning: ${asInvoked(w, command)}\n`);
  for (const line of report.adopted ?? []) io.stderr.write(`${line}\n`);
  if (flags.json) {
    io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    const { renderIssueReport, renderNextSteps } = await import("../report/issue-report.js");
    const { styleFor } = await import("../report/terminal.js");
    io.stdout.write(asInvoked(renderIssueReport(report, await styleFor(io.stdout)), command));
    if (!flags.quiet) io.stdout.write(renderNextSteps(report, DEFAULT_OUT, process.cwd(), command));
  }
  // A leaf the name policy refused is not signed; the others are (issue 23 §4): exit 2 names it.
  for (const f of report.failed ?? [])
    io.stderr.write(`mtls-certs: ${f.error.message}\n${f.error.hint ? `hint: ${f.error.hint}\n` : ""}`);
  return (report.failed ?? []).length > 0 ? EXIT.usage : EXIT.ok;
}
