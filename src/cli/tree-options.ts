/**
 * The flags of every command that writes the tree (`--out`, validity, key type, passphrases, the
 * lock wait, key groups, the plugin config) and their resolution into library options: a flag
 * beats the env var, which beats the default.
 */
import { type Command, Option } from "commander";
import {
  DEFAULT_CA_DAYS,
  DEFAULT_CA_SUBJECT,
  DEFAULT_CONFIG,
  DEFAULT_DAYS,
  DEFAULT_KEY_TYPE,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_OUT,
  ENV,
} from "../defaults.js";
import { MtlsError } from "../errors.js";
import type { TreeOptions } from "../store/issue-types.js";
import type { Io } from "./command-context.js";
import { documented } from "./option-help.js";
import { keyPassphraseFrom, readSecret, secretOptions } from "./secret-options.js";

/** Flags shared by every command that writes certificates. */
export interface TreeFlags extends CaSubjectFlags {
  out?: string;
  days?: string;
  keyType?: string;
  jobs?: string;
  keyPassphraseEnv?: string;
  keyPassphraseStdin?: boolean;
  caPassphraseEnv?: string;
  caPassphraseStdin?: boolean;
  lockWait?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * A command that writes the tree: `--out` (the tree, as everywhere), validity, key type, the key
 * passphrase pair, the lock wait, --json and -q. Defaults show as commander's own
 * `(default: …)`; `documented` carries those an env var or the command itself decides, so the
 * option stays unset when not given and the action can tell.
 */
export function treeCommand(
  program: Command,
  name: string,
  description: string,
  o: { days?: { value: number | string; env?: string; description?: string }; keyTypeDefault?: string } = {},
): Command {
  const command = program.command(name).description(description);
  treeOption(command);
  const days = o.days ?? { value: DEFAULT_DAYS, env: ENV.days };
  command
    .addOption(
      documented(
        new Option("--days <n>", days.description ?? "validity of new certificates in days"),
        days.value,
        days.env,
      ),
    )
    .addOption(
      documented(
        new Option("--key-type <type>", "rsa4096, rsa3072, rsa2048, ecdsa-p256 or ecdsa-p384"),
        o.keyTypeDefault ?? DEFAULT_KEY_TYPE,
      ),
    )
    .addOption(documented(new Option("--jobs <n>", "keys generated at once"), "4 per core"));
  secretOptions(command, "key-passphrase", "the passphrase that encrypts new leaf keys (and opens encrypted ones)");
  // Separate from the leaves' (issue 13 §4): a plugin's deployment never holds the CA's passphrase.
  secretOptions(
    command,
    "ca-passphrase",
    "the passphrase that encrypts a new CA/intermediate key and opens an encrypted one",
  );
  return command
    .addOption(
      documented(
        new Option("--lock-wait <seconds>", "how long to wait for another mtls-certs writing the same tree"),
        DEFAULT_LOCK_WAIT_MS / 1000,
        ENV.lockWait,
      ),
    )
    .option("--json", "print one JSON document of what was created and kept")
    .option("-q, --quiet", "no progress messages and no next steps");
}

/** `--out DIR`: on every command, the root of the tree, and nothing else. */
export function treeOption(command: Command, description = "root of the tree"): Command {
  return command.option("--out <dir>", description, DEFAULT_OUT);
}

/** The CA subject flags of `ca`, on every command that creates the CA when it is missing. */
export function caSubjectOptions(command: Command, when = ", when the CA is created"): Command {
  return command
    .option("--ca-cn <cn>", `the CA's common name${when}`, DEFAULT_CA_SUBJECT.cn)
    .option("--ca-org <o>", `the CA's organization${when}`, DEFAULT_CA_SUBJECT.org)
    .option("--ca-ou <ou>", `the CA's organizational unit${when}`, DEFAULT_CA_SUBJECT.ou)
    .addOption(caDaysOption(when));
}

/** The CA's validity, apart from the leaves' --days (issue 15): wherever a CA is created or rotated. */
export function caDaysOption(when = ", when the CA is created"): Option {
  return documented(new Option("--ca-days <n>", `the CA's validity in days${when}`), DEFAULT_CA_DAYS, ENV.caDays);
}

export interface CaSubjectFlags {
  caCn?: string;
  caOrg?: string;
  caOu?: string;
  caDays?: string;
}

export function caSubjectFrom(flags: CaSubjectFlags): { cn?: string; org?: string; ou?: string } {
  return { cn: flags.caCn, org: flags.caOrg, ou: flags.caOu };
}

/** Flags → library options. A flag beats the env var, which beats the default. */
export async function treeOptions(flags: TreeFlags, io: Io): Promise<TreeOptions> {
  const { parseDays, parseWholeNumber } = await import("../pki/names.js");
  const { parseKeyType } = await import("../pki/keys.js");
  // A flag beats its env var; an empty variable counts as unset.
  const daysFrom = (flag: string | undefined, name: string, variable: string): number | undefined => {
    if (flag !== undefined) return parseDays(flag, name);
    const value = io.env[variable];
    return value !== undefined && value !== "" ? parseDays(value, variable) : undefined;
  };
  const days = daysFrom(flags.days, "--days", ENV.days) ?? DEFAULT_DAYS;
  const caDays = daysFrom(flags.caDays, "--ca-days", ENV.caDays);
  if (flags.caPassphraseStdin && flags.keyPassphraseStdin)
    throw new MtlsError(
      "E_USAGE",
      "--ca-passphrase-stdin and --key-passphrase-stdin both read stdin",
      "give one of the two passphrases with its -env flag",
    );
  const caPassphrase = await readSecret(flags, "ca-passphrase", io);
  const keyPassphrase = await keyPassphraseFrom(flags, io);
  const lockWait = flags.lockWait ?? (io.env[ENV.lockWait] || undefined);
  return {
    out: flags.out ?? DEFAULT_OUT,
    caSubject: caSubjectFrom(flags),
    days,
    caDays,
    // Unset unless given: the library's default applies, and says so when it differs from an ECDSA CA's.
    keyType: flags.keyType === undefined ? undefined : parseKeyType(flags.keyType),
    jobs: flags.jobs === undefined ? undefined : parseWholeNumber(flags.jobs, "--jobs", 1, 256),
    keyPassphrase,
    caPassphrase,
    // Whole seconds, 0 = fail at once if the tree is locked.
    lockWaitMs:
      lockWait === undefined
        ? undefined
        : parseWholeNumber(lockWait, flags.lockWait !== undefined ? "--lock-wait" : ENV.lockWait, 0, 86_400) * 1000,
  };
}

/** Flags of the commands that write mcp leaf keys a container may need to read. */
export interface KeyGroupFlags {
  keyGroup?: string;
  gatewayKeyGroup?: string;
}

/** `--key-group GID|NAME` (and, on `all`, `--gateway-key-group`): see src/store/key-mode.ts. */
export function keyGroupOptions(command: Command, withGateway = false): Command {
  command.option(
    "--key-group <gid|name>",
    `give new keys this group and mode 640, so a container user in it can read them (env ${ENV.keyGroup}; as root)`,
  );
  if (withGateway)
    command.option(
      "--gateway-key-group <gid|name>",
      `the gateway's key's group instead (env ${ENV.gatewayKeyGroup}): its image reads as 10001, plugin images as group 0`,
    );
  return command;
}

/** Flag, then env var; unset means 0600 keys in the user's own group. */
export async function keyGroupsFrom(
  flags: KeyGroupFlags,
  io: Io,
): Promise<Pick<TreeOptions, "keyGroup" | "gatewayKeyGroup">> {
  const { parseKeyGroup } = await import("../store/key-mode.js");
  const pick = async (flag: string | undefined, name: string, variable: string): Promise<number | undefined> => {
    if (flag !== undefined) return parseKeyGroup(flag, name);
    const value = io.env[variable];
    return value ? parseKeyGroup(value, variable) : undefined;
  };
  return {
    keyGroup: await pick(flags.keyGroup, "--key-group", ENV.keyGroup),
    gatewayKeyGroup: await pick(flags.gatewayKeyGroup, "--gateway-key-group", ENV.gatewayKeyGroup),
  };
}

export function configOption(): Option {
  return documented(
    new Option("--config <file>", "plugin config, or the gateway's mcp-stack.yaml"),
    DEFAULT_CONFIG,
    ENV.config,
  );
}

/**
 * The plugin config path: --config, then MCP_PLUGIN_CONFIG, then the default. A file the user
 * named must exist (exit 2 naming it); only the default may be missing (config/plugin-config.ts says why).
 */
export async function configPath(flag: string | undefined, io: Io): Promise<string> {
  const file = flag ?? (io.env[ENV.config] || DEFAULT_CONFIG);
  const namedBy = flag !== undefined ? "--config" : io.env[ENV.config] ? ENV.config : undefined;
  await (await import("../config/plugin-config.js")).assertConfigExists(file, namedBy);
  return file;
}
