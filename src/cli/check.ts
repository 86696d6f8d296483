/** Wiring of `check`. */
import { DEFAULT_OUT, DEFAULT_RENEW_WITHIN_DAYS } from "../defaults.js";
import { EXIT } from "../errors.js";
import type { CommandContext } from "./shared.js";

export function registerCheckCommand({ program, io, action }: CommandContext): void {
  program
    .command("check")
    .description("report every certificate's expiry and health; exit 1 when one needs attention")
    .option("--out <dir>", "the tree to check", DEFAULT_OUT)
    .option("--within <days>", `also fail when a certificate expires within this many days (default: report only, ${DEFAULT_RENEW_WITHIN_DAYS})`)
    .option("--json", "print one JSON document")
    .action(action(async (flags: { out: string; within?: string; json?: boolean }) => {
      const { parseWholeNumber } = await import("../pki/names.js");
      const within = flags.within === undefined ? undefined : parseWholeNumber(flags.within, "--within", 0, 36500);
      const { checkTree, checkFailed } = await import("../commands/check.js");
      const report = await checkTree({ out: flags.out, within });
      if (flags.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
      else {
        const { renderCheckTable } = await import("../report/check-table.js");
        const { styleFor } = await import("../report/terminal.js");
        io.stdout.write(renderCheckTable(report, await styleFor(io.stdout)));
      }
      return checkFailed(report, within !== undefined) ? EXIT.problem : EXIT.ok;
    }));

}
