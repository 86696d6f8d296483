/** Wiring of `inspect` and `verify`: debugging a handshake that says "certificate verify failed". */
import { Option } from "commander";
import { DEFAULT_OUT } from "../defaults.js";
import { EXIT } from "../errors.js";
import { passphraseFromEnv, type CommandContext } from "./shared.js";

export function registerDebugCommands({ program, io, action }: CommandContext): void {
  program
    .command("inspect")
    .description(
      "what a certificate, key, CSR, CRL, bundle or PKCS#12 file holds: names, dates, key, SANs, usages, fingerprint",
    )
    .argument("<file>", "PEM or DER file")
    .option("--password-env <VAR>", "open an encrypted key or a PKCS#12 file with the password in this env var")
    .option("--key-of <cert>", "say whether the key(s) in <file> belong to this certificate")
    .option("--json", "print one JSON document")
    .action(
      action(async (file: string, flags: { passwordEnv?: string; keyOf?: string; json?: boolean }) => {
        const { inspectFile, inspectFailed } = await import("../commands/inspect.js");
        const report = await inspectFile(file, {
          password: passphraseFromEnv(flags.passwordEnv, "--password-env", io),
          keyOf: flags.keyOf,
        });
        if (flags.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
        else {
          const { renderInspect } = await import("../report/debug-report.js");
          const { styleFor } = await import("../report/terminal.js");
          io.stdout.write(renderInspect(report, await styleFor(io.stdout)));
        }
        return inspectFailed(report) ? EXIT.problem : EXIT.ok;
      }),
    );

  program
    .command("verify")
    .description(
      "the checks a strict TLS peer (Python 3.13, openssl -x509_strict) makes; each failure with its fix; exit 1 when one fails",
    )
    .argument(
      "<cert>",
      "the certificate (PEM, optionally followed by its intermediates, or DER), or a name in the tree (gateway, a plugin, a server or client, ca)",
    )
    .option("--out <dir>", "root of the tree, for names", DEFAULT_OUT)
    .option("--ca <file>", "trusted CA certificate(s) (default: the ca.crt beside <cert>)")
    .option("--host <name|ip>", "the name or address clients connect to")
    .addOption(
      new Option(
        "--purpose <purpose>",
        "what the cert is used as (default: server with --host, else what its extendedKeyUsage says)",
      ).choices(["server", "client"]),
    )
    .option("--crl <file>", "the issuer's CRL: fail when the cert is revoked")
    .option("--json", "print one JSON document")
    .action(
      action(
        async (
          cert: string,
          flags: {
            out: string;
            ca?: string;
            host?: string;
            purpose?: "server" | "client";
            crl?: string;
            json?: boolean;
          },
        ) => {
          const { verifyCertificate } = await import("../commands/verify.js");
          const report = await verifyCertificate(cert, {
            out: flags.out,
            ca: flags.ca,
            host: flags.host,
            purpose: flags.purpose,
            crl: flags.crl,
          });
          if (flags.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
          else {
            const { renderVerify } = await import("../report/debug-report.js");
            const { styleFor } = await import("../report/terminal.js");
            io.stdout.write(renderVerify(report, await styleFor(io.stdout)));
          }
          return report.ok ? EXIT.ok : EXIT.problem;
        },
      ),
    );
}
