/**
 * Wiring of the config kinds of `export`: nginx, haproxy, caddy, k8s, istio, env, plugin-tls.
 * Each prints to stdout or writes `-o/--output FILE`; notes go to stderr. `--out` is the tree,
 * as on every command.
 */
import { type Command, Option } from "commander";
import { DEFAULT_GATEWAY_NAMESPACE } from "../defaults.js";
import { EXIT, MtlsError } from "../errors.js";
import type { ExportResult } from "../export/sources.js";
import type { CommandContext, ExportFormat, Io } from "./command-context.js";
import { type ExportFlags, exportCommand, exportTarget } from "./export-options.js";
import { deprecatedAlias, documented, withExamples } from "./option-help.js";
import { readSecret, secretOptions } from "./secret-options.js";
import { configOption, configPath } from "./tree-options.js";

interface ProxyFlags extends ExportFlags {
  prefix?: string;
  server: string;
  listen: string;
  upstream: string;
}

/** `paths`: the output names files (not so for k8s and istio, which carry their bytes). */
export function configExport(parent: Command, io: Io, name: string, description: string, paths = true): Command {
  const command = exportCommand(parent, io, name, description, "write the config to this file instead of stdout");
  return paths
    ? command.addOption(
        documented(
          new Option("--prefix <dir>", "where the tree is mounted in a container (e.g. /app/certs/mcp)"),
          "the tree's real paths",
        ),
      )
    : command;
}

/** Prints or writes an export. Private keys never go to a terminal. */
export async function deliver(
  result: ExportResult,
  flags: ExportFlags,
  target: { tree: string; output?: string },
  io: Io,
): Promise<number> {
  for (const note of result.notes) io.stderr.write(`note: ${note}\n`);
  if (!flags.quiet) for (const file of result.written) io.stderr.write(`wrote ${file}\n`);
  if (target.output !== undefined) {
    const { saveExport } = await import("../export/sources.js");
    await saveExport(target.output, result, { tree: target.tree, force: flags.force });
    if (!flags.quiet)
      io.stderr.write(`wrote ${target.output}${result.secret ? " (mode 600: it holds private keys)" : ""}\n`);
    if (flags.json)
      io.stdout.write(
        JSON.stringify(
          { output: target.output, written: result.written, notes: result.notes, secret: result.secret },
          null,
          2,
        ) + "\n",
      );
    return EXIT.ok;
  }
  if (result.secret && io.stdout.isTTY) {
    throw new MtlsError(
      "E_USAGE",
      "this output holds private keys and stdout is a terminal",
      "write it with -o FILE, or pipe it: ... | kubectl apply -f -",
    );
  }
  io.stdout.write(
    flags.json
      ? JSON.stringify(
          { text: result.text, written: result.written, notes: result.notes, secret: result.secret },
          null,
          2,
        ) + "\n"
      : result.text,
  );
  return EXIT.ok;
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

function registerProxyExports(parent: Command, { io, action }: CommandContext): void {
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

type CaSecretFlags = { caPassphraseEnv?: string; caPassphraseStdin?: boolean };

function registerClusterExports(parent: Command, { io, action }: CommandContext): void {
  const k8s = configExport(
    parent,
    io,
    "k8s",
    "Kubernetes Secrets (kubernetes.io/tls) for the gateway and every plugin, the client-CA Secret and Ingress annotations for ingress-nginx, and the cert-manager hand-off (CA Issuer + one Certificate per cert)",
    false,
  )
    .option("--namespace <ns>", "namespace of every object", DEFAULT_GATEWAY_NAMESPACE)
    .option(
      "--config <file>",
      "the gateway's mcp-stack.yaml (or a plugin config): only its plugins; its deployment.namespace and certificates.*_path unless --namespace/--out",
    )
    .option("--ingress", "also an ingress-nginx Ingress that requires a client cert from the tree's CA")
    .option(
      "--trust-manager",
      "also a trust-manager Bundle (mcp-ca-bundle) whose sources hold every CA still trusted (both during a CA rotation)",
    )
    .option(
      "--ingress-snippet",
      "with --ingress: a configuration-snippet passing the client's CN upstream (the controller must allow snippets)",
    )
    .option(
      "--server <name>",
      "a named server (certs/mcp/servers/<name>/): its Secret, and the cert the --ingress serves for host <name>",
    )
    .option("--service <name:port>", "the gateway's Service behind the Ingress", "mcp-gateway:4444")
    .option(
      "--include-ca-key",
      "also write the signing CA's key (a Secret for cert-manager's CA Issuer) and the Issuer and Certificates that hand renewal over",
    );
  secretOptions(k8s, "ca-passphrase", "the passphrase of an encrypted CA key (cert-manager needs it in the clear)");
  deprecatedAlias(k8s, io, "--key-passphrase-env <VAR>", "--ca-passphrase-env");
  withExamples(
    k8s,
    "mtls-certs export k8s | kubectl apply -f -",
    "mtls-certs export k8s --namespace mcp --ingress --server gateway.example.com -o mcp-secrets.yaml",
  );
  k8s.action(
    action(
      async (
        flags: ExportFlags &
          CaSecretFlags & {
            namespace: string;
            config?: string;
            ingress?: boolean;
            ingressSnippet?: boolean;
            trustManager?: boolean;
            server?: string;
            service: string;
            includeCaKey?: boolean;
          },
      ) => {
        const { exportKubernetes } = await import("../export/kubernetes.js");
        const target = exportTarget(flags, k8s, io);
        // With --config, a stack's deployment.namespace and certificates.*_path fill in what no flag gave.
        const given = (option: string) => k8s.getOptionValueSource(option) === "cli";
        const fromConfig = flags.config !== undefined;
        const o = {
          tree: fromConfig && !given("out") && flags.tree === undefined ? undefined : target.tree,
          config: flags.config,
          namespace: fromConfig && !given("namespace") ? undefined : flags.namespace,
          ingress: flags.ingress,
          ingressSnippet: flags.ingressSnippet,
          trustManager: flags.trustManager,
          server: flags.server,
          service: flags.service,
          includeCaKey: Boolean(flags.includeCaKey),
          keyPassphrase: await readSecret(flags, "ca-passphrase", io),
        };
        return deliver(await exportKubernetes(o), flags, target, io);
      },
    ),
  );

  const istio = configExport(
    parent,
    io,
    "istio",
    "Istio's plug-in CA Secret (cacerts in istio-system) from the tree's intermediate CA, and a STRICT PeerAuthentication for the gateway",
    false,
  ).option("--namespace <ns>", "the gateway's namespace, for the PeerAuthentication", DEFAULT_GATEWAY_NAMESPACE);
  secretOptions(istio, "ca-passphrase", "the passphrase of an encrypted intermediate CA key");
  deprecatedAlias(istio, io, "--key-passphrase-env <VAR>", "--ca-passphrase-env");
  withExamples(
    istio,
    "mtls-certs export istio | kubectl apply -f -",
    "mtls-certs export istio --namespace mcp -o istio-cacerts.yaml",
  );
  istio.action(
    action(async (flags: ExportFlags & CaSecretFlags & { namespace: string }) => {
      const { exportIstio } = await import("../export/istio.js");
      const target = exportTarget(flags, istio, io);
      return deliver(
        await exportIstio({
          tree: target.tree,
          namespace: flags.namespace,
          keyPassphrase: await readSecret(flags, "ca-passphrase", io),
        }),
        flags,
        target,
        io,
      );
    }),
  );
}

interface GatewayApiFlags extends ExportFlags {
  server: string;
  namespace: string;
  name: string;
  gatewayClass: string;
  hostname?: string;
  port: string;
  backend: string;
  passthrough?: boolean;
  envoyGateway?: boolean;
  backendHostname?: string;
  backendClient?: string;
  keyPassphraseEnv?: string;
  keyPassphraseStdin?: boolean;
}

/** `export gateway-api`: as every export, `--out` is the tree and `-o/--output` the file. */
function registerGatewayApiExport(parent: Command, { io, action }: CommandContext): void {
  const command = exportCommand(
    parent,
    io,
    "gateway-api",
    "Kubernetes Gateway API v1.5 objects: the server cert as a kubernetes.io/tls Secret, the CA as a ConfigMap (ca.crt), a Gateway whose HTTPS listener terminates TLS and requires client certs, and an HTTPRoute; or a Passthrough listener and a TLSRoute; optionally Envoy Gateway's ClientTrafficPolicy and a BackendTLSPolicy",
    "write the YAML to this file (mode 600) instead of stdout",
  )
    .requiredOption("--server <name>", "the named server whose cert the Gateway serves (certs/mcp/servers/<name>/)")
    .option("--namespace <ns>", "namespace of every object", DEFAULT_GATEWAY_NAMESPACE)
    .option(
      "--name <name>",
      "the Gateway's name; the others derive from it: <name>-tls (Secret), <name>-ca (ConfigMap), <name> (route)",
      "mcp-gateway",
    )
    .option("--gateway-class <class>", "spec.gatewayClassName", "eg")
    .addOption(
      documented(
        new Option("--hostname <host>", "the listener's and route's hostname; a SAN of its cert"),
        "the server's name",
      ),
    )
    .option("--port <port>", "the listener's port", "443")
    .option("--backend <service:port>", "the Service the route sends traffic to", "mcp-gateway:4444")
    .option("--passthrough", "a TLS listener in Passthrough mode and a TLSRoute: the backend does mutual TLS itself")
    .option(
      "--envoy-gateway",
      "validate client certs with Envoy Gateway's ClientTrafficPolicy (<name>-client-validation) instead of the Gateway's spec.tls.frontend",
    )
    .option(
      "--backend-hostname <host>",
      "add a BackendTLSPolicy (<name>-backend-tls): the gateway connects to the backend over TLS and checks its cert, from the tree's CA, for this name",
    )
    .option(
      "--backend-client <name>",
      "with --backend-hostname: the Gateway presents this client's cert (certs/mcp/clients/<name>/) to the backend: Secret <gateway>-backend-client, spec.tls.backend",
    );
  secretOptions(
    command,
    "key-passphrase",
    "the passphrase of an encrypted server (or --backend-client) key (the Gateway needs it decrypted)",
  );
  withExamples(
    command,
    "mtls-certs export gateway-api --server gateway.example.com | kubectl apply -f -",
    "mtls-certs export gateway-api --server gateway.example.com --envoy-gateway -o gateway.yaml",
    "mtls-certs export gateway-api --server gateway.example.com --backend-hostname plugin.internal --backend-client gateway-out",
  );
  command.action(
    action(async (flags: GatewayApiFlags) => {
      const { exportGatewayApi } = await import("../export/gateway-api.js");
      const target = exportTarget(flags, command, io);
      const result = await exportGatewayApi({
        tree: target.tree,
        server: flags.server,
        namespace: flags.namespace,
        name: flags.name,
        gatewayClass: flags.gatewayClass,
        hostname: flags.hostname,
        port: flags.port,
        backend: flags.backend,
        passthrough: flags.passthrough,
        envoyGateway: flags.envoyGateway,
        backendHostname: flags.backendHostname,
        backendClient: flags.backendClient,
        keyPassphrase: await readSecret(flags, "key-passphrase", io),
      });
      return deliver(result, flags, target, io);
    }),
  );
}

function registerSettingsExports(parent: Command, { io, action }: CommandContext): void {
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
function registerMakefileExport(parent: Command, { io, action }: CommandContext): void {
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

/** Every config kind, in the order `export --help` lists them. */
export const CONFIG_EXPORTS: readonly ExportFormat[] = [
  registerProxyExports,
  registerClusterExports,
  registerGatewayApiExport,
  registerSettingsExports,
  registerMakefileExport,
];
