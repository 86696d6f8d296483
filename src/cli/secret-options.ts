/**
 * Passphrases and passwords: each is given as `--<secret>-env VAR` or `--<secret>-stdin`, never as
 * an argument (which `ps` would show), and stdin holds at most one of them, as openssl's
 * `-passin stdin` reads it.
 */
import { type Command, Option } from "commander";
import { MtlsError } from "../errors.js";
import type { Io } from "./command-context.js";
import { required } from "./option-help.js";

/** The secrets a command can read. Each is given as `--<secret>-env VAR` or `--<secret>-stdin`, never as an argument. */
export type Secret = "key-passphrase" | "ca-passphrase" | "p12-password";
export const SECRETS: readonly Secret[] = ["key-passphrase", "ca-passphrase", "p12-password"];

/** Declares the pair `--<secret>-env VAR` / `--<secret>-stdin`. */
export function secretOptions(
  command: Command,
  secret: Secret,
  purpose: string,
  o: { required?: boolean } = {},
): Command {
  const env = new Option(`--${secret}-env <VAR>`, `${purpose}, read from the env var VAR`);
  const stdin = new Option(`--${secret}-stdin`, `${purpose}, read from the first line of stdin`);
  if (o.required) {
    required(env, `this or --${secret}-stdin`);
    required(stdin, `this or --${secret}-env`);
  }
  return command.addOption(env).addOption(stdin);
}

/** The secret of a `secretOptions` pair, or undefined when neither flag was given. */
export async function readSecret(flags: object, secret: Secret, io: Io): Promise<string | undefined> {
  const values = flags as Record<string, unknown>;
  const key = secret.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const envFlag = `--${secret}-env`;
  const stdinFlag = `--${secret}-stdin`;
  const variable = values[`${key}Env`] as string | undefined;
  if (!values[`${key}Stdin`]) return passphraseFromEnv(variable, envFlag, io);
  if (variable !== undefined)
    throw new MtlsError(
      "E_USAGE",
      `${envFlag} and ${stdinFlag} both give the ${secret.endsWith("password") ? "password" : "passphrase"}`,
      "give one of them",
    );
  const onStdin = Object.keys(values).filter((k) => k.endsWith("Stdin") && values[k]);
  if (onStdin.length > 1)
    throw new MtlsError(
      "E_USAGE",
      "more than one secret asked for on stdin",
      "stdin holds one secret; pass the others with --…-env VAR",
    );
  return secretFromStdin(stdinFlag, io);
}

/** A passphrase named by `--…-env VAR`: never a command-line argument, which `ps` would show. */
export function passphraseFromEnv(variable: string | undefined, flag: string, io: Io): string | undefined {
  if (variable === undefined) return undefined;
  const value = io.env[variable];
  if (!value) throw new MtlsError("E_PASSPHRASE", `${flag}: the variable ${variable} is unset or empty`);
  return value;
}

/** Longer than any passphrase; a file piped in by mistake is refused, not read into memory. */
const MAX_PASSPHRASE_BYTES = 4096;

/** The key passphrase from `--key-passphrase-env VAR` or `--key-passphrase-stdin`. */
export function keyPassphraseFrom(
  flags: { keyPassphraseEnv?: string; keyPassphraseStdin?: boolean },
  io: Io,
): Promise<string | undefined> {
  return readSecret(flags, "key-passphrase", io);
}

/** The first line of stdin, as openssl's `-passin stdin` reads it: never a command-line argument. */
async function secretFromStdin(flag: string, io: Io): Promise<string> {
  if (!io.stdin || io.stdin.isTTY)
    throw new MtlsError(
      "E_PASSPHRASE",
      `${flag}: stdin is a terminal`,
      `pipe it in: printf '%s\\n' "$SECRET" | mtls-certs … ${flag}`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_PASSPHRASE_BYTES)
      throw new MtlsError(
        "E_PASSPHRASE",
        `${flag}: stdin holds more than ${MAX_PASSPHRASE_BYTES} bytes, not a passphrase`,
      );
    chunks.push(bytes);
  }
  const passphrase = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  if (passphrase === "") throw new MtlsError("E_PASSPHRASE", `${flag}: the first line of stdin is empty`);
  return passphrase;
}
