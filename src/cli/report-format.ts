/**
 * What `check` and `probe` can print: one set of formats, one `--format`, one `--json`, so a
 * monitoring script reads both the same way.
 */
import { type Command, Option } from "commander";
import { MtlsError } from "../errors.js";

/** What `check` and `probe` can print: one set of formats, one `--format`, one `--json`. */
export const REPORT_FORMATS = ["table", "json", "github", "prometheus"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function reportFormatOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--format <format>",
        "table, json (one document), github (Actions annotations) or prometheus (textfile collector)",
      ).choices(REPORT_FORMATS),
    )
    .option("--json", "the same as --format json");
}

/** The format asked for; `--json` with another `--format` is a usage error. */
export function reportFormat(flags: { json?: boolean; format?: ReportFormat }): ReportFormat {
  if (flags.json && flags.format !== undefined && flags.format !== "json")
    throw new MtlsError(
      "E_USAGE",
      `--json and --format ${flags.format} ask for two different outputs`,
      "give one of them",
    );
  return flags.json ? "json" : (flags.format ?? "table");
}
