/** Wiring of `revoke`, `crl`, `fingerprint` and `export p12`. */
import type { Command } from "commander";
import { DEFAULT_CRL_DAYS, DEFAULT_OUT } from "../defaults.js";
import { EXIT } from "../errors.js";
import { passphraseFromEnv, type CommandContext, type Io } from "./shared.js";

interface CrlFlags {
  out: string;
  crlDays?: string;
  keyPassphraseEnv?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The CA key signs the CRL: these commands take the same passphrase flag as the issuing ones. */
function crlCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option("--out <dir>", "root of the tree", DEFAULT_OUT)
    .option("--crl-days <n>", `days until the CRL's nextUpdate (default ${DEFAULT_CRL_DAYS})`)
    .option("--key-passphrase-env <VAR>", "open an encrypted CA key with the passphrase in this env var")
    .option("--json", "print one JSON document")
    .option("-q, --quiet", "no progress messages");
}

async function crlOptions(flags: CrlFlags, io: Io) {
  const { parseDays } = await import("../pki/names.js");
  return {
    out: flags.out,
    crlDays: flags.crlDays === undefined ? DEFAULT_CRL_DAYS : parseDays(flags.crlDays, "--crl-days"),
    keyPassphrase: passphraseFromEnv(flags.keyPassphraseEnv, "--key-passphrase-env", io),
  };
}

function printJsonOr(io: Io, json: boolean | undefined, value: unknown, text: () => string): number {
  io.stdout.write(json ? JSON.stringify(value, null, 2) + "\n" : text());
  return EXIT.ok;
}

export function registerRevocationCommands({ program, io, action }: CommandContext): void {
  crlCommand(program, "revoke", "add a certificate to the CA's CRL (certs/mcp/ca/ca.crl) and re-sign it")
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
        for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
        return printJsonOr(io, flags.json, report, () => renderCrlReport(report));
      }),
    );

  crlCommand(
    program,
    "crl",
    "re-sign the CA's CRL with a fresh nextUpdate (run it from a nightly job); creates an empty CRL when there is none",
  ).action(
    action(async (flags: CrlFlags) => {
      const { refreshCrl, renderCrlReport } = await import("../commands/revoke.js");
      const report = await refreshCrl(await crlOptions(flags, io));
      for (const w of report.warnings) io.stderr.write(`warning: ${w}\n`);
      return printJsonOr(io, flags.json, report, () => renderCrlReport(report));
    }),
  );

  program
    .command("fingerprint")
    .description(
      "print a certificate's SHA-256 fingerprint (as openssl prints it) and its SPKI pin (sha256//…, for curl --pinnedpubkey)",
    )
    .argument("<cert>", "a certificate file, or a name in the tree (plugin, server, client, `gateway`, `ca`)")
    .option("--out <dir>", "root of the tree, for names", DEFAULT_OUT)
    .option("--json", "print one JSON document")
    .action(
      action(async (target: string, flags: { out: string; json?: boolean }) => {
        const { fingerprintCertificate, renderFingerprint } = await import("../commands/fingerprint.js");
        const report = await fingerprintCertificate(target, { out: flags.out });
        return printJsonOr(io, flags.json, report, () => renderFingerprint(report));
      }),
    );
}

/** `export p12`: --out is the file written here, so the tree is --tree. */
export function registerP12Export(parent: Command, { io, action }: CommandContext): void {
  parent
    .command("p12")
    .description(
      "write a certificate, its key and the CA chain as PKCS#12 (AES-256-CBC, PBKDF2, HMAC-SHA256: OpenSSL 3 opens it without -legacy)",
    )
    .argument("<name|cert-file>", "a plugin, server or client name in the tree, `gateway`, or a certificate file")
    .requiredOption("--out <file>", "the .p12 file to write (mode 600; an existing file is not overwritten)")
    .requiredOption("--password-env <VAR>", "the env var holding the PKCS#12 password")
    .option("--key <file>", "the private key, for a certificate file outside the tree (default: the key next to it)")
    .option("--key-passphrase-env <VAR>", "open an encrypted private key with the passphrase in this env var")
    .option("--tree <dir>", "root of the tree", DEFAULT_OUT)
    .option("--json", "print one JSON document")
    .action(
      action(
        async (
          target: string,
          flags: {
            out: string;
            passwordEnv: string;
            key?: string;
            keyPassphraseEnv?: string;
            tree: string;
            json?: boolean;
          },
        ) => {
          const { exportP12, renderP12Report } = await import("../commands/p12.js");
          const report = await exportP12(target, {
            tree: flags.tree,
            file: flags.out,
            keyFile: flags.key,
            password: passphraseFromEnv(flags.passwordEnv, "--password-env", io)!,
            keyPassphrase: passphraseFromEnv(flags.keyPassphraseEnv, "--key-passphrase-env", io),
          });
          return printJsonOr(io, flags.json, report, () => renderP12Report(report));
        },
      ),
    );
}
