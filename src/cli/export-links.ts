/**
 * Wiring of the exports for the gateway's links beyond plugins: `export gateway-registration`
 * (an upstream MCP server behind mutual TLS). The work is imported inside the action.
 */
import { type Command, Option } from "commander";
import type { CommandContext, ExportFormat } from "./command-context.js";
import { configExport, deliver, type ExportFlags, exportTarget } from "./export-options.js";
import { documented, withExamples } from "./option-help.js";

interface RegistrationFlags extends ExportFlags {
  prefix?: string;
  server: string;
  client: string;
  url: string;
  name?: string;
  transport: string;
  includeKey?: boolean;
}

function registerGatewayRegistration(parent: Command, { io, action }: CommandContext): void {
  const command = configExport(
    parent,
    io,
    "gateway-registration",
    "the JSON body of the gateway's POST /gateways for an upstream MCP server behind mutual TLS: url, ca_certificate, client_cert, client_key",
  )
    .requiredOption("--server <name>", "the upstream MCP server's cert (certs/mcp/servers/<name>/)")
    .requiredOption("--client <name>", "the client cert the gateway presents (certs/mcp/clients/<name>/)")
    .requiredOption("--url <url>", "https:// URL the gateway dials; the server's cert must name its host")
    .addOption(documented(new Option("--name <name>", "the registration's name"), "the server's name"))
    .option("--transport <transport>", "STREAMABLEHTTP or SSE", "STREAMABLEHTTP")
    .option(
      "--include-key",
      "client_key as inline PEM instead of the key file's path (the output then holds a private key)",
    );
  withExamples(
    command,
    "mtls-certs export gateway-registration --server mcp.internal --client gateway-out --url https://mcp.internal:8443/mcp",
    "mtls-certs export gateway-registration --server mcp.internal --client gateway-out --url https://mcp.internal:8443/mcp --include-key -o body.json",
  );
  command.action(
    action(async (flags: RegistrationFlags) => {
      const { exportGatewayRegistration } = await import("../export/gateway-registration.js");
      const target = exportTarget(flags, command, io);
      const result = await exportGatewayRegistration({
        tree: target.tree,
        prefix: flags.prefix,
        server: flags.server,
        client: flags.client,
        url: flags.url,
        name: flags.name,
        transport: flags.transport,
        includeKey: flags.includeKey,
      });
      return deliver(result, flags, target, io);
    }),
  );
}

export const LINK_EXPORTS: readonly ExportFormat[] = [registerGatewayRegistration];
