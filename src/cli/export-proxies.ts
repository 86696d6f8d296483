/**
 * Wiring of `export nginx`, `export haproxy` and `export caddy`: a proxy that does mutual TLS in
 * front of the gateway with a named server's cert. One loop over the three: they take the same
 * flags, and only HAProxy takes the key itself (so only it may need the passphrase).
 */
import type { Command } from "commander";
import type { CommandContext } from "./command-context.js";
import { configExport, deliver, exportTarget, type ExportFlags } from "./export-options.js";
import { withExamples } from "./option-help.js";
import { readSecret, secretOptions } from "./secret-options.js";

interface ProxyFlags extends ExportFlags {
  prefix?: string;
  server: string;
  listen: string;
  upstream: string;
}

const PROXIES = {
  nginx: {
    description:
      "an nginx server {} block: mutual TLS in front of the gateway, passing the client's identity in X-SSL-Client-* headers",
    fn: "exportNginx",
  },
  haproxy: {
    description:
      "an HAProxy frontend + backend: mutual TLS in front of the gateway; writes the cert+key bundle it needs (the key's mode)",
    fn: "exportHaproxy",
  },
  caddy: {
    description: "a Caddyfile site: mutual TLS (client_auth require_and_verify) in front of the gateway",
    fn: "exportCaddy",
  },
} as const;

const PROXY_EXAMPLES: Record<keyof typeof PROXIES, string[]> = {
  nginx: [
    "mtls-certs export nginx --server gateway.local -o /etc/nginx/conf.d/mcp-gateway.conf",
    "mtls-certs export nginx --server gateway.local --listen 8443 --prefix /etc/nginx/certs/mcp",
  ],
  haproxy: [
    "mtls-certs export haproxy --server gateway.local -o /etc/haproxy/mcp-gateway.cfg",
    "mtls-certs export haproxy --server gateway.local --key-passphrase-env KEY_PASS -o haproxy.cfg",
  ],
  caddy: [
    "mtls-certs export caddy --server gateway.local -o Caddyfile",
    "mtls-certs export caddy --server gateway.local --upstream http://gateway:4444",
  ],
};

export function registerProxyExports(parent: Command, { io, action }: CommandContext): void {
  for (const [kind, { description, fn }] of Object.entries(PROXIES) as [
    keyof typeof PROXIES,
    (typeof PROXIES)[keyof typeof PROXIES],
  ][]) {
    const command = configExport(parent, io, kind, description)
      .requiredOption(
        "--server <name>",
        "the named server whose certificate the proxy serves (certs/mcp/servers/<name>/)",
      )
      .option("--listen <[host:]port>", "where the proxy listens", "443")
      .option("--upstream <url>", "the gateway behind the proxy (plain HTTP)", "http://127.0.0.1:4444");
    // The same --force lets export replace a file in the server's directory it did not write itself.
    const force = command.options.find((option) => option.long === "--force");
    if (force)
      force.description = `replace an existing --output file, and a ${kind === "haproxy" ? "haproxy.pem or " : ""}fullchain.crt in the server's directory that export did not write for it`;
    // Only HAProxy takes the key itself (in its cert+key bundle), so only it may need the passphrase.
    if (kind === "haproxy") {
      secretOptions(
        command,
        "key-passphrase",
        "the passphrase of an encrypted server key (HAProxy needs it decrypted)",
      );
    }
    withExamples(command, ...PROXY_EXAMPLES[kind]);
    command.action(
      action(async (flags: ProxyFlags & { keyPassphraseEnv?: string; keyPassphraseStdin?: boolean }) => {
        const proxies = await import("../export/proxies.js");
        const target = exportTarget(flags, command, io);
        const o = {
          tree: target.tree,
          prefix: flags.prefix,
          server: flags.server,
          listen: flags.listen,
          upstream: flags.upstream,
          keyPassphrase: await readSecret(flags, "key-passphrase", io),
          force: flags.force,
        };
        return deliver(await proxies[fn](o), flags, target, io);
      }),
    );
  }
}
