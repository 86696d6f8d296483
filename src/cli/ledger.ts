/** Wiring of `list` and `adopt` (the issuance ledger). */
import { DEFAULT_OUT } from "../defaults.js";
import { EXIT } from "../errors.js";
import type { CommandContext } from "./command-context.js";
import { withExamples } from "./option-help.js";

export function registerLedgerCommands({ program, io, action }: CommandContext): void {
  const list = program
    .command("list")
    .description("list every certificate the tree's CAs issued (the ledger ca/ledger.json): status, serial, dates")
    .option("--out <dir>", "root of the tree", DEFAULT_OUT)
    .option("--json", "print one JSON document")
    .option("-q, --quiet", "no progress messages")
    .action(
      action(async (flags: { out: string; json?: boolean }) => {
        const { listLedger, renderLedgerTable } = await import("../commands/ledger.js");
        const listing = await listLedger({ out: flags.out });
        io.stdout.write(flags.json ? JSON.stringify(listing, null, 2) + "\n" : renderLedgerTable(listing));
        return EXIT.ok;
      }),
    );
  withExamples(list, "mtls-certs list", "mtls-certs list --out certs/mcp --json");

  const adopt = program
    .command("adopt")
    .description(
      "enter the certs of a tree made without a ledger (Makefile, earlier versions) that verify against its CA; exit 1 when one is left out",
    )
    .option("--out <dir>", "root of the tree", DEFAULT_OUT)
    .option("--json", "print one JSON document")
    .option("-q, --quiet", "no progress messages")
    .action(
      action(async (flags: { out: string; json?: boolean }) => {
        const { adoptTree } = await import("../commands/ledger.js");
        const report = await adoptTree({ out: flags.out });
        io.stdout.write(flags.json ? JSON.stringify(report, null, 2) + "\n" : report.lines.join("\n") + "\n");
        return report.adoptions.some((a) => !a.adopted) ? EXIT.problem : EXIT.ok;
      }),
    );
  withExamples(adopt, "mtls-certs adopt", "mtls-certs adopt --out /srv/gateway/certs/mcp --json");
}
