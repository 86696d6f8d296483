/**
 * Wiring of the cluster kinds of `export`: `k8s` (the tree's Secrets, an Ingress, the cert-manager
 * hand-off), `istio` (the plug-in CA) and `gateway-api` (a Gateway that requires client certs).
 * Each writes YAML for `kubectl apply -f -`; it holds private keys, so never to a terminal.
 */
import { type Command, Option } from "commander";
import { DEFAULT_GATEWAY_NAMESPACE } from "../defaults.js";
import type { CommandContext, Io } from "./command-context.js";
import { configExport, deliver, exportCommand, exportTarget, type ExportFlags } from "./export-options.js";
import { deprecatedAlias, documented, withExamples } from "./option-help.js";
import { readSecret, secretOptions } from "./secret-options.js";

type CaSecretFlags = { caPassphraseEnv?: string; caPassphraseStdin?: boolean };

/** The CA key's passphrase, which these two exports once took as --key-passphrase-env (still accepted, with a notice). */
function caPassphraseOptions(command: Command, io: Io, purpose: string): Command {
  secretOptions(command, "ca-passphrase", purpose);
  return deprecatedAlias(command, io, "--key-passphrase-env <VAR>", "--ca-passphrase-env");
}

export function registerKubernetesExports(parent: Command, { io, action }: CommandContext): void {
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
  caPassphraseOptions(k8s, io, "the passphrase of an encrypted CA key (cert-manager needs it in the clear)");
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
  caPassphraseOptions(istio, io, "the passphrase of an encrypted intermediate CA key");
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
export function registerGatewayApiExport(parent: Command, { io, action }: CommandContext): void {
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
