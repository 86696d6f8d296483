/** Wiring of the Makefile's commands: ca, gateway, plugin, all. */
import type { Command } from "commander";
import { DEFAULT_CA_DAYS, ENV } from "../defaults.js";
import { EXIT, MtlsError } from "../errors.js";
import type { NameConstraintFlags } from "../pki/constraints.js";
import type { CommandContext } from "./command-context.js";
import { issued, withProgress } from "./issue-output.js";
import { withExamples } from "./option-help.js";
import {
  caSubjectOptions,
  configOption,
  configPath,
  keyGroupOptions,
  keyGroupsFrom,
  treeCommand,
  treeOptions,
  type KeyGroupFlags,
  type TreeFlags,
} from "./tree-options.js";

export function registerCoreCommands({ program, io, action }: CommandContext): void {
  const ca = caSubjectOptions(
    treeCommand(program, "ca", "create the CA (certs/mcp/ca/ca.{key,crt}); an existing CA is kept", {
      // On `ca`, --days is the CA's own validity; MCP_CERT_DAYS stays the leaves' (issue 15).
      days: {
        value: DEFAULT_CA_DAYS,
        env: ENV.caDays,
        description: "the CA's validity in days (the same as --ca-days)",
      },
    }),
    "",
  );
  withExamples(
    ca,
    "mtls-certs ca --key-type ecdsa-p256",
    "mtls-certs ca --intermediate --ca-cn 'Example Root CA'",
    "mtls-certs ca --permit-dns .internal.example.com --permit-ip 10.0.0.0/8",
  );
  ca.option(
    "--finish-rotation",
    "end a CA rotation (`renew --ca`): drop the previous CA from ca/bundle.crt and every ca.crt copy",
  )
    .option("--force", "with --finish-rotation: even though some leaves are still signed by the previous CA")
    .option(
      "--intermediate",
      "also create an intermediate CA (ca/intermediate.{key,crt}) that signs every leaf; ca.crt copies hold the chain",
    )
    .option(
      "--permit-dns <suffix...>",
      "name constraints: the CA signs only these DNS names and names under them (.example.com: only under it)",
    )
    .option(
      "--permit-ip <cidr...>",
      "name constraints: the CA signs only IP addresses in these ranges (10.0.0.0/8, 127.0.0.1/32)",
    )
    .option("--exclude-dns <suffix...>", "name constraints: the CA never signs these DNS names or names under them")
    .action(
      action(
        async (
          flags: TreeFlags & {
            intermediate?: boolean;
          } & NameConstraintFlags,
        ) => {
          const rotation = flags as TreeFlags & { finishRotation?: boolean; force?: boolean };
          if (rotation.finishRotation) return (await import("./renew.js")).finishRotation(rotation, io);
          const { createCa } = await import("../commands/ca.js");
          const { caExtensionsFromFlags } = await import("../pki/constraints.js");
          const o = await treeOptions(flags, io);
          if (flags.days !== undefined && flags.caDays !== undefined && flags.caDays !== flags.days)
            throw new MtlsError("E_USAGE", "ca: --days and --ca-days both give the CA's validity", "give one of them");
          o.caDays =
            flags.days !== undefined
              ? (await import("../pki/names.js")).parseDays(flags.days, "--days")
              : (o.caDays ?? DEFAULT_CA_DAYS);
          const caExtensions = caExtensionsFromFlags(flags);
          return issued(
            await withProgress(io, flags, o, () =>
              createCa({
                ...o,
                caExtensions,
                intermediate: flags.intermediate,
              }),
            ),
            flags,
            io,
          );
        },
      ),
    );

  const gateway = keyGroupOptions(
    caSubjectOptions(
      treeCommand(
        program,
        "gateway",
        "create the gateway's client certificate (certs/mcp/gateway/), and the CA when missing",
      ),
    ),
  );
  withExamples(gateway, "mtls-certs gateway", "mtls-certs gateway --key-type ecdsa-p256 --out /etc/mcp/certs");
  gateway.action(
    action(async (flags: TreeFlags & KeyGroupFlags) => {
      const { issueGateway } = await import("../commands/gateway.js");
      const o = { ...(await treeOptions(flags, io)), ...(await keyGroupsFrom(flags, io)) };
      // On `gateway`, --key-group is the gateway key's group.
      if (flags.keyGroup !== undefined) o.gatewayKeyGroup = o.keyGroup;
      return issued(await withProgress(io, flags, o, () => issueGateway(o)), flags, io);
    }),
  );

  const plugin = keyGroupOptions(
    caSubjectOptions(
      treeCommand(
        program,
        "plugin",
        "create a plugin's server certificate (certs/mcp/plugins/<name>/), and the CA when missing",
      ),
    ),
  );
  withExamples(
    plugin,
    "mtls-certs plugin DenyListPlugin",
    "mtls-certs plugin opa --namespace mcp-gateway",
    "mtls-certs plugin llmguard --san llmguard.internal --ip 10.0.0.7",
  );
  plugin
    .argument("<name>", "the plugin's name, as in config.yaml (becomes a directory and a DNS name)")
    .option("--san <dns...>", "extra DNS names for the certificate")
    .option("--ip <address...>", "extra IP addresses for the certificate")
    .option(
      "--namespace <ns>",
      "add the Kubernetes names: mcp-plugin-<name lowercased> and that .<ns>, .<ns>.svc, .<ns>.svc.cluster.local",
    )
    .addOption(configOption())
    .action(
      action(
        async (
          name: string,
          flags: TreeFlags & KeyGroupFlags & { san?: string[]; ip?: string[]; namespace?: string; config?: string },
        ) => {
          const { issuePlugin } = await import("../commands/plugin.js");
          const o = { ...(await treeOptions(flags, io)), ...(await keyGroupsFrom(flags, io)) };
          const config = await configPath(flags.config, io);
          return issued(
            await withProgress(io, flags, o, () =>
              issuePlugin(name, { ...o, san: flags.san, ip: flags.ip, namespace: flags.namespace, config }),
            ),
            flags,
            io,
          );
        },
      ),
    );

  const all = keyGroupOptions(
    caSubjectOptions(
      treeCommand(
        program,
        "all",
        "create the CA when missing, the gateway cert and a server cert for every external plugin in the config",
      ),
    ),
    true,
  );
  withExamples(
    all,
    "mtls-certs all",
    "mtls-certs all --config mcp-stack.yaml --json",
    // Docker Compose: the gateway image reads as uid 10001, plugin images as gid 0 (run as root).
    "mtls-certs all --key-group 0 --gateway-key-group 10001",
  );
  all.addOption(configOption()).action(
    action(async (flags: TreeFlags & KeyGroupFlags & { config?: string }, command: Command) => {
      const { all } = await import("../commands/all.js");
      const o = { ...(await treeOptions(flags, io)), ...(await keyGroupsFrom(flags, io)) };
      const config = await configPath(flags.config, io);
      // Unset unless a flag (or MCP_CERT_DAYS) gave them: an mcp-stack.yaml's certificates section fills them in.
      const days = flags.days !== undefined || io.env[ENV.days] ? o.days : undefined;
      const out = command.getOptionValueSource("out") === "default" ? undefined : o.out;
      const report = await withProgress(io, flags, o, () => all({ ...o, config, days, out }));
      const code = await issued(report, flags, io);
      // Every leaf done; something not ours in the tree (named in the warnings) is still exit 2, as renew.
      return (report.leftovers?.length ?? 0) > 0 ? EXIT.usage : code;
    }),
  );
}
