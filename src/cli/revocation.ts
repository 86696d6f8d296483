/** Wiring of `revoke`, `crl`, `fingerprint` and `export p12`. */
import type { Command } from "commander";
import { Option } from "commander";
import { DEFAULT_CRL_DAYS } from "../defaults.js";
import { EXIT, MtlsError } from "../errors.js";
import type { CommandContext, Io } from "./command-context.js";
import { type ExportFlags, exportCommand, exportTarget } from "./export-options.js";
import { deprecatedAlias, documented, required, withExamples } from "./option-help.js";
import { readSecret, secretOptions } from "./secret-options.js";
import { treeOption } from "./tree-options.js";

interface CrlFlags {
  out: string;
  crlDays?: string;
  caPassphraseEnv?: string;
  caPassphraseStdin?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** The CA key signs the CRL: its passphrase is the CA's (`--ca-passphrase-*`). */
function crlCommand(program: Command, io: Io, name: string, description: string): Command {
  const command = program.command(name).description(description);
  treeOption(command).addOption(
    documented(new Option("--crl-days <n>", "days until the CRL's nextUpdate"), DEFAULT_CRL_DAYS),
  );
  secretOptions(command, "ca-passphrase", "the passphrase of an encrypted CA key");
  deprecatedAlias(command, io, "--key-passphrase-env <VAR>", "--ca-passphrase-env");
  return command.option("--json", "print one JSON document").option("-q, --quiet", "no warnings");
}

async function crlOptions(flags: CrlFlags, io: Io) {
  const { parseDays } = await import("../pki/names.js");
  return {
    out: flags.out,
    crlDays: flags.crlDays === undefined ? DEFAULT_CRL_DAYS : parseDays(flags.crlDays, "--crl-days"),
    caPassphrase: await readSecret(flags, "ca-passphrase", io),
  };
}

function printJsonOr(io: Io, json: boolean | undefined, value: unknown, text: () => string): number {
  io.stdout.write(json ? JSON.stringify(value, null, 2) + "\n" : text());
  return EXIT.ok;
}

export function registerRevocationCommands({ program, io, action }: CommandContext): void {
  const revoke = crlCommand(
    program,
    io,
    "revoke",
    "add a certificate to the CA's CRL (certs/mcp/ca/ca.crl) and re-sign it",
  );
  withExamples(
    revoke,
    "mtls-certs revoke DenyListPlugin --reason keyCompromise",
    "mtls-certs revoke ./old-client.crt --reason superseded",
  );
  revoke
    .argument("<name|cert-file>", "a plugin, server or client name in the tree, `gateway`, or a certificate file")
    .option(
      "--reason <reason>",
      "RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn",
      "unspecified",
    )
    .action(
      action(async (target: string, flags: CrlFlags & { reason: string }) => {
        const { revokeCertificate, renderCrlReport } = await import("../commands/revoke.js");
        const { parseRevocationReason } = await import("../pki/crl.js");
        const report = await revokeCertificate(target, {
          ...(await crlOptions(flags, io)),
          reason: parseRevocationReason(flags.reason, "--reason"),
        });
        if (!flags.quiet) for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
        return printJsonOr(io, flags.json, report, () => renderCrlReport(report));
      }),
    );

  const crl = crlCommand(
    program,
    io,
    "crl",
    "re-sign the CA's CRL with a fresh nextUpdate (run it from a nightly job); creates an empty CRL when there is none",
  );
  withExamples(crl, "mtls-certs crl", "mtls-certs crl --crl-days 7 --ca-passphrase-env CA_PASS");
  crl.action(
    action(async (flags: CrlFlags) => {
      const { refreshCrl, renderCrlReport } = await import("../commands/revoke.js");
      const report = await refreshCrl(await crlOptions(flags, io));
      if (!flags.quiet) for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
      return printJsonOr(io, flags.json, report, () => renderCrlReport(report));
    }),
  );

  const fingerprint = program
    .command("fingerprint")
    .description(
      "print a certificate's SHA-256 fingerprint (as openssl prints it) and its SPKI pin (sha256//…, for curl --pinnedpubkey)",
    )
    .argument("<cert>", "a certificate file, or a name in the tree (plugin, server, client, `gateway`, `ca`)");
  treeOption(fingerprint, "root of the tree, for names");
  withExamples(fingerprint, "mtls-certs fingerprint gateway", "mtls-certs fingerprint ca --json | jq -r .spkiPin");
  fingerprint.option("--json", "print one JSON document").action(
    action(async (target: string, flags: { out: string; json?: boolean }) => {
      const { fingerprintCertificate, renderFingerprint } = await import("../commands/fingerprint.js");
      const report = await fingerprintCertificate(target, { out: flags.out });
      return printJsonOr(io, flags.json, report, () => renderFingerprint(report));
    }),
  );
}

/** `export p12`: the tree is --out as everywhere; the .p12 is -o/--output. */
export function registerP12Export(parent: Command, { io, action }: CommandContext): void {
  const p12 = exportCommand(
    parent,
    io,
    "p12",
    "write a certificate, its key and the CA chain as PKCS#12 (AES-256-CBC, PBKDF2, HMAC-SHA256: OpenSSL 3 opens it without -legacy)",
    "the .p12 file to write (mode 600)",
  ).argument("<name|cert-file>", "a plugin, server or client name in the tree, `gateway`, or a certificate file");
  // -o is required, but checked in the action: an old-style `--out FILE` still counts.
  const output = p12.options.find((o) => o.long === "--output");
  if (output) required(output);
  secretOptions(p12, "p12-password", "the PKCS#12 password", { required: true });
  deprecatedAlias(p12, io, "--password-env <VAR>", "--p12-password-env");
  p12.addOption(
    documented(
      new Option("--key <file>", "the private key, for a certificate file outside the tree"),
      "the key next to the certificate",
    ),
  );
  secretOptions(p12, "key-passphrase", "the passphrase of an encrypted private key");
  withExamples(
    p12,
    "P12_PASS=… mtls-certs export p12 admin -o admin.p12 --p12-password-env P12_PASS",
    "printf '%s\\n' \"$P12_PASS\" | mtls-certs export p12 ./client.crt --key ./client.key -o client.p12 --p12-password-stdin",
  );
  p12.action(
    action(
      async (
        target: string,
        flags: ExportFlags & {
          key?: string;
          p12PasswordEnv?: string;
          p12PasswordStdin?: boolean;
          keyPassphraseEnv?: string;
          keyPassphraseStdin?: boolean;
        },
      ) => {
        const paths = exportTarget(flags, p12, io);
        if (paths.output === undefined)
          throw new MtlsError("E_USAGE", "export p12: no output file", "name it with -o FILE.p12");
        const password = await readSecret(flags, "p12-password", io);
        if (password === undefined)
          throw new MtlsError(
            "E_USAGE",
            "export p12: no password",
            "give --p12-password-env VAR or --p12-password-stdin",
          );
        const { exportP12, renderP12Report } = await import("../commands/p12.js");
        const report = await exportP12(target, {
          tree: paths.tree,
          file: paths.output,
          force: flags.force,
          keyFile: flags.key,
          password,
          keyPassphrase: await readSecret(flags, "key-passphrase", io),
        });
        if (flags.quiet && !flags.json) return EXIT.ok;
        return printJsonOr(io, flags.json, report, () => renderP12Report(report));
      },
    ),
  );
}
