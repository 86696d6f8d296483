/** Wiring of the leaf kinds beyond the Makefile's mcp certs: server, client, https, jwt, key decrypt. */
import { type Command, Option } from "commander";
import { DEFAULT_DAYS, DEFAULT_HTTPS_DAYS, ENV } from "../defaults.js";
import { EXIT, MtlsError } from "../errors.js";
import type { CommandContext, Io } from "./command-context.js";
import { outputFileOptions } from "./export-options.js";
import { issued, withProgress } from "./issue-output.js";
import { deprecatedAlias, documented, withExamples } from "./option-help.js";
import { keyPassphraseFrom, readSecret, secretOptions } from "./secret-options.js";
import {
  caSubjectOptions,
  keyGroupOptions,
  keyGroupsFrom,
  treeCommand,
  treeOption,
  treeOptions,
  type KeyGroupFlags,
  type TreeFlags,
} from "./tree-options.js";

type SanFlags = TreeFlags & { san?: string[]; ip?: string[] };

function sanOptions(command: Command): Command {
  return command
    .option("--san <dns...>", "extra DNS names for the certificate (one leading '*.' allowed)")
    .option("--ip <address...>", "extra IP addresses for the certificate (IPv4 or IPv6)");
}

export function registerLeafCommands({ program, io, action }: CommandContext): void {
  const server = sanOptions(
    keyGroupOptions(
      caSubjectOptions(
        treeCommand(
          program,
          "server",
          "create a named server certificate (certs/mcp/servers/<name>/), and the CA when missing",
        ),
      ),
    ),
  );
  withExamples(
    server,
    "mtls-certs server gateway.local",
    "mtls-certs server gateway.local --san '*.gateway.local' --ip 10.0.0.5",
  );
  server.argument("<name>", "the server's name: a directory and the first DNS SAN (e.g. gateway.local)").action(
    action(async (name: string, flags: SanFlags & KeyGroupFlags) => {
      const { issueServer } = await import("../commands/server.js");
      const o = { ...(await treeOptions(flags, io)), ...(await keyGroupsFrom(flags, io)) };
      return issued(
        await withProgress(io, flags, o, () => issueServer(name, { ...o, san: flags.san, ip: flags.ip })),
        flags,
        io,
      );
    }),
  );

  const client = keyGroupOptions(
    caSubjectOptions(
      treeCommand(
        program,
        "client",
        "create a client certificate (certs/mcp/clients/<name>/, with client.pem for curl --cert), and the CA when missing",
      ),
    ),
  );
  withExamples(client, "mtls-certs client admin --cn admin@example.com", "mtls-certs client backend-prod --days 90");
  client
    .argument("<name>", "the client's name: a directory, and the CN unless --cn is given")
    .option("--cn <cn>", "the subject's common name; an e-mail address also becomes an rfc822Name SAN")
    .action(
      action(async (name: string, flags: TreeFlags & KeyGroupFlags & { cn?: string }) => {
        const { issueClient } = await import("../commands/client.js");
        const o = { ...(await treeOptions(flags, io)), ...(await keyGroupsFrom(flags, io)) };
        return issued(await withProgress(io, flags, o, () => issueClient(name, { ...o, cn: flags.cn })), flags, io);
      }),
    );

  const sign = sanOptions(
    program
      .command("sign")
      .description(
        "sign a certificate signing request (openssl req -new) as a server, client, plugin or gateway leaf; the key never leaves its host",
      ),
  );
  treeOption(sign);
  withExamples(
    sign,
    "mtls-certs sign backend.csr client backend-prod",
    "mtls-certs sign api.csr server api.internal --san api.example.com --csr-sans",
    "mtls-certs sign laptop.csr client alice --cn alice@example.com -o alice.crt",
  );
  outputFileOptions(sign, "write the certificate here instead of into the tree (still recorded in the ledger)");
  secretOptions(sign, "ca-passphrase", "the passphrase of an encrypted CA key");
  sign
    .argument("<csr>", "the request, PEM or DER (openssl req -new -key KEY -out FILE)")
    .argument("<role>", "server, client, plugin or gateway: the profile, subject and directory")
    .argument("[name]", "the leaf's name, as `server`, `client` and `plugin` take it (none for gateway)")
    .addOption(documented(new Option("--cn <cn>", "client: the subject's common name"), "the name"))
    .option("--csr-sans", "server, client: also take the request's DNS/IP (client: e-mail) SANs, each checked")
    .addOption(documented(new Option("--days <n>", "validity of the certificate in days"), DEFAULT_DAYS, ENV.days))
    .option("--json", "print one JSON document of what was created")
    .option("-q, --quiet", "no progress messages and no next steps")
    .action(
      action(
        async (
          csr: string,
          role: string,
          name: string | undefined,
          flags: SanFlags & {
            cn?: string;
            csrSans?: boolean;
            output?: string;
            force?: boolean;
            caPassphraseEnv?: string;
            caPassphraseStdin?: boolean;
          },
        ) => {
          const { signCsr, SIGN_ROLES } = await import("../commands/sign.js");
          const signRole = SIGN_ROLES.find((r) => r === role);
          if (signRole === undefined)
            throw new MtlsError(
              "E_USAGE",
              `sign: unknown role ${JSON.stringify(role)}`,
              `use one of ${SIGN_ROLES.join(", ")}`,
            );
          const o = await treeOptions({ out: flags.out, days: flags.days }, io);
          const report = await withProgress(io, flags, o, async () =>
            signCsr(csr, {
              ...o,
              caPassphrase: await readSecret(flags, "ca-passphrase", io),
              role: signRole,
              name,
              san: flags.san,
              ip: flags.ip,
              cn: flags.cn,
              csrSans: flags.csrSans,
              output: flags.output,
              force: flags.force,
            }),
          );
          if (!flags.json && !flags.quiet)
            io.stderr.write(
              "the key stays with whoever made the request: no key file; `renew` signs the same key again\n",
            );
          return issued(report, flags, io);
        },
      ),
    );

  const https = sanOptions(
    treeCommand(
      program,
      "https",
      "create the gateway's own HTTPS cert (certs/cert.pem, certs/key.pem), as `make certs` does",
      // MCP_CERT_DAYS is the mcp certs' validity; `make certs` gives this one a year.
      { days: { value: DEFAULT_HTTPS_DAYS } },
    ),
  );
  withExamples(
    https,
    "mtls-certs https",
    "mtls-certs https --group 0 --san gateway.example.com",
    "mtls-certs https --ca",
  );
  https
    .addOption(documented(new Option("--dir <dir>", "where cert.pem and key.pem go"), "the parent of --out"))
    .option(
      "--group <gid|name>",
      "chgrp key.pem (mode 640) to this group, e.g. 0 for containers; skipped with a warning where not permitted",
    )
    .option("--ca", "sign with the tree's CA instead of self-signing")
    .action(
      action(async (flags: SanFlags & { dir?: string; group?: string; ca?: boolean }) => {
        const { issueHttps } = await import("../commands/https.js");
        const { parseKeyGroup } = await import("../store/key-mode.js");
        const o = await treeOptions(flags, io);
        const group = flags.group === undefined ? undefined : await parseKeyGroup(flags.group, "--group");
        const days = flags.days === undefined ? DEFAULT_HTTPS_DAYS : o.days;
        return issued(
          await withProgress(io, flags, o, () =>
            issueHttps({ ...o, days, san: flags.san, ip: flags.ip, dir: flags.dir, group, ca: flags.ca }),
          ),
          flags,
          io,
        );
      }),
    );

  const jwt = program
    .command("jwt")
    .description("create the gateway's JWT signing keys (certs/jwt/private.pem + public.pem), as `make certs-jwt` does")
    .option("--ecdsa", "P-256 keys ec_private.pem + ec_public.pem (ES256), as `make certs-jwt-ecdsa`");
  treeOption(jwt, "root of the tree; jwt/ goes next to it");
  withExamples(jwt, "mtls-certs jwt", "mtls-certs jwt --ecdsa", "mtls-certs jwt --dir /etc/gateway/jwt");
  jwt
    .addOption(documented(new Option("--dir <dir>", "where the keys go"), "jwt/ in the parent of --out"))
    .option("--json", "print one JSON document of what was created and kept")
    .option("-q, --quiet", "no progress messages")
    .action(
      action(async (flags: { ecdsa?: boolean; out: string; dir?: string; json?: boolean; quiet?: boolean }) => {
        const { issueJwtKeys } = await import("../commands/jwt.js");
        const o = { out: flags.out, dir: flags.dir, ecdsa: flags.ecdsa };
        const report = await withProgress(io, flags, o, () => issueJwtKeys(o));
        return printed(
          report,
          report.keys.map((k) => [k.action, k.role, k.file]),
          flags,
          io,
        );
      }),
    );

  const decrypt = program
    .command("key")
    .description("work on key files")
    .command("decrypt")
    .description("write a plain copy (mode 600) of an encrypted key, as `make certs-remove-passphrase` does")
    .argument("<file>", "the encrypted key");
  outputFileOptions(decrypt, "the plain copy", {
    default: "key-encrypted.pem -> key.pem, else <name>.decrypted<ext>",
  });
  secretOptions(decrypt, "key-passphrase", "the key's passphrase", { required: true });
  deprecatedAlias(decrypt, io, "--out <file>", "--output");
  withExamples(
    decrypt,
    "KEY_PASS=… mtls-certs key decrypt certs/key-encrypted.pem --key-passphrase-env KEY_PASS",
    "printf '%s\\n' \"$KEY_PASS\" | mtls-certs key decrypt server.key -o /run/secrets/server.key --key-passphrase-stdin",
  );
  decrypt
    .option("--json", "print one JSON document")
    .option("-q, --quiet", "print nothing but errors")
    .action(
      action(
        async (
          file: string,
          flags: {
            output?: string;
            force?: boolean;
            keyPassphraseEnv?: string;
            keyPassphraseStdin?: boolean;
            json?: boolean;
            quiet?: boolean;
          },
        ) => {
          const { decryptKey } = await import("../commands/key.js");
          const passphrase = await keyPassphraseFrom(flags, io);
          if (passphrase === undefined)
            throw new MtlsError(
              "E_USAGE",
              "key decrypt: no passphrase",
              "give --key-passphrase-env VAR or --key-passphrase-stdin",
            );
          const result = await decryptKey(file, { passphrase, out: flags.output, force: flags.force });
          if (flags.quiet && !flags.json) return EXIT.ok;
          return printed(result, [["created", `key ${result.keyType}`, result.key]], flags, io);
        },
      ),
    );
}

/** --json prints the report; otherwise one line per file, as `issued` does for certificates. */
async function printed(
  report: object,
  lines: ReadonlyArray<readonly [string, string, string]>,
  flags: { json?: boolean },
  io: Io,
): Promise<number> {
  if (flags.json) {
    io.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return EXIT.ok;
  }
  const { pad, shortPath } = await import("../report/issue-report.js");
  const { styleFor } = await import("../report/terminal.js");
  const style = await styleFor(io.stdout);
  const cwd = process.cwd();
  io.stdout.write(
    lines
      .map(
        ([action, what, path]) =>
          `${action === "kept" ? style.dim(pad(action, 8)) : style.green(pad(action, 8))}${pad(what, 14)}${shortPath(path, cwd)}`,
      )
      .join("\n") + "\n",
  );
  return EXIT.ok;
}
