/** Wiring of `inspect` and `verify`: debugging a handshake that says "certificate verify failed". */
import { Option } from "commander";
import { EXIT } from "../errors.js";
import type { CommandContext } from "./command-context.js";
import { deprecatedAlias, documented, withExamples } from "./option-help.js";
import { readSecret, secretOptions } from "./secret-options.js";
import { treeOption } from "./tree-options.js";

export function registerDebugCommands({ program, io, action }: CommandContext): void {
  const inspect = program
    .command("inspect")
    .description(
      "what a certificate, key, CSR, CRL, bundle or PKCS#12 file holds: names, dates, key, SANs, usages, fingerprint",
    )
    .argument("<file>", "PEM or DER file");
  secretOptions(inspect, "key-passphrase", "the passphrase of an encrypted key");
  secretOptions(inspect, "p12-password", "the password of a PKCS#12 file");
  deprecatedAlias(inspect, io, "--password-env <VAR>", "--p12-password-env");
  withExamples(
    inspect,
    "mtls-certs inspect certs/mcp/plugins/DenyListPlugin/server.crt",
    "mtls-certs inspect certs/mcp/gateway/client.key --key-of certs/mcp/gateway/client.crt",
    "P12_PASS=… mtls-certs inspect admin.p12 --p12-password-env P12_PASS",
  );
  inspect
    .option("--key-of <cert>", "say whether the key(s) in <file> belong to this certificate")
    .option("--json", "print one JSON document")
    .action(
      action(async (file: string, flags: { keyOf?: string; json?: boolean }) => {
        const { inspectFile, inspectFailed } = await import("../commands/inspect.js");
        // One password opens the file: a PKCS#12 file's, or an encrypted key's.
        const password =
          (await readSecret(flags, "p12-password", io)) ?? (await readSecret(flags, "key-passphrase", io));
        const report = await inspectFile(file, { password, keyOf: flags.keyOf });
        if (flags.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
        else {
          const { renderInspect } = await import("../report/debug-report.js");
          const { styleFor } = await import("../report/terminal.js");
          io.stdout.write(renderInspect(report, await styleFor(io.stdout)));
        }
        return inspectFailed(report) ? EXIT.problem : EXIT.ok;
      }),
    );

  const verify = program
    .command("verify")
    .description(
      "the checks a strict TLS peer (Python 3.13, openssl -x509_strict) makes; each failure with its fix; exit 1 when one fails",
    )
    .argument(
      "<cert>",
      "the certificate (PEM, optionally followed by its intermediates, or DER), or a name in the tree (gateway, a plugin, a server or client, ca)",
    );
  treeOption(verify, "root of the tree, for names");
  withExamples(
    verify,
    "mtls-certs verify DenyListPlugin --host plugin.internal",
    "mtls-certs verify gateway",
    "mtls-certs verify ./server.crt --ca ./ca.crt --host 10.0.0.5 --crl certs/mcp/ca/ca.crl",
  );
  verify
    .addOption(documented(new Option("--ca <file>", "trusted CA certificate(s)"), "the ca.crt beside <cert>"))
    .option("--host <name|ip>", "the name or address clients connect to")
    .addOption(
      documented(
        new Option("--purpose <purpose>", "what the cert is used as").choices(["server", "client"]),
        "server with --host, else what its extendedKeyUsage says",
      ),
    )
    .addOption(
      documented(
        new Option("--crl <file>", "the issuer's CRL: fail when the cert is revoked"),
        "for a name, the tree's (ca/bundle.crl during a rotation, else ca/ca.crl); for a file, none",
      ),
    )
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
