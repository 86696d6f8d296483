/**
 * Wiring of the kinds of `export` that configure the gateway and its plugins themselves: `env`
 * (their TLS environment variables), `plugin-tls` (the TLS blocks of a plugin's entry and server)
 * and `makefile` (the gateway Makefile's certs-mcp-* targets, running mtls-certs).
 */
import type { Command } from "commander";
import type { CommandContext } from "./command-context.js";
import { configExport, deliver, exportCommand, exportTarget, type ExportFlags } from "./export-options.js";
import { withExamples } from "./option-help.js";
import { configOption, configPath } from "./tree-options.js";

export function registerSettingsExports(parent: Command, { io, action }: CommandContext): void {
  const env = configExport(
    parent,
    io,
    "env",
    "environment variables: a plugin server's PLUGINS_SERVER_SSL_* or PLUGINS_GRPC_SERVER_SSL_* (--plugin), the gateway's PLUGINS_CLIENT_MTLS_* and PLUGINS_GRPC_CLIENT_MTLS_* (--gateway), and CA_CERT_PATH",
  )
    .option("--plugin <name>", "the plugin server's variables")
    .option("--gateway", "the gateway's client variables")
    .option(
      "--redis <name>",
      "the gateway's Redis client variables (REDIS_SSL_*), for the Redis server's cert (certs/mcp/servers/<name>/)",
    )
    .option(
      "--client <name>",
      "with --redis: the client cert the gateway presents to Redis (certs/mcp/clients/<name>/); the gateway's own without it",
    )
    .option("--format <format>", "dotenv, shell, compose or json", "dotenv")
    .addOption(configOption());
  withExamples(
    env,
    "mtls-certs export env --gateway >> .env",
    "mtls-certs export env --plugin DenyListPlugin --prefix /app/certs/mcp --format compose",
    "mtls-certs export env --redis redis >> .env",
  );
  env.action(
    action(
      async (
        flags: ExportFlags & {
          prefix?: string;
          plugin?: string;
          gateway?: boolean;
          redis?: string;
          client?: string;
          format: string;
          config?: string;
        },
      ) => {
        const { exportEnv, parseEnvFormat } = await import("../export/env.js");
        const target = exportTarget(flags, env, io);
        const o = {
          tree: target.tree,
          prefix: flags.prefix,
          plugin: flags.plugin,
          gateway: flags.gateway,
          redis: flags.redis,
          client: flags.client,
          format: parseEnvFormat(flags.format),
          // The plugin's transport (mcp.url, grpc.target) and where it listens.
          config: await configPath(flags.config, io),
        };
        return deliver(await exportEnv(o), flags, target, io);
      },
    ),
  );

  const pluginTls = configExport(
    parent,
    io,
    "plugin-tls",
    "the gateway's mcp.tls (or grpc.tls) block for a plugin's entry in config.yaml, and the plugin server's server_settings.tls (or grpc_server_settings) block",
  )
    .requiredOption("--plugin <name>", "the plugin")
    .addOption(configOption());
  withExamples(
    pluginTls,
    "mtls-certs export plugin-tls --plugin DenyListPlugin",
    "mtls-certs export plugin-tls --plugin DenyListPlugin --prefix /app/certs/mcp -o tls.yaml",
  );
  pluginTls.action(
    action(async (flags: ExportFlags & { prefix?: string; plugin: string; config?: string }) => {
      const { exportPluginTls } = await import("../export/env.js");
      const target = exportTarget(flags, pluginTls, io);
      // The plugin's entry says its transport: mcp.tls, or grpc.tls for a grpc.target.
      const config = await configPath(flags.config, io);
      return deliver(
        await exportPluginTls({ tree: target.tree, prefix: flags.prefix, plugin: flags.plugin, config }),
        flags,
        target,
        io,
      );
    }),
  );
}

/** `export makefile`: the gateway Makefile's certs-mcp-* targets; `--out` is the tree they write. */
export function registerMakefileExport(parent: Command, { io, action }: CommandContext): void {
  const command = exportCommand(
    parent,
    io,
    "makefile",
    "the gateway Makefile's certs-mcp-ca/-gateway/-plugin/-all/-check targets, running mtls-certs (include it, or replace the old targets)",
    "write the fragment to this file instead of stdout (e.g. mcp-certs.mk)",
  );
  command.option(
    "--stack <file>",
    "the gateway's mcp-stack.yaml (relative to where make runs): the config the targets read when make is given none, so cforge's own make calls give each cert the names its deployment dials",
  );
  withExamples(
    command,
    "mtls-certs export makefile -o mcp-certs.mk && echo 'include mcp-certs.mk' >> Makefile",
    "mtls-certs export makefile --stack mcp-stack.yaml -o mcp-certs.mk",
    "mtls-certs export makefile --out deploy/certs/mcp -o deploy/mcp-certs.mk",
  );
  command.action(
    action(async (flags: ExportFlags & { stack?: string }) => {
      const { exportMakefile } = await import("../export/makefile.js");
      const target = exportTarget(flags, command, io);
      return deliver(await exportMakefile({ tree: target.tree, stack: flags.stack }), flags, target, io);
    }),
  );
}
