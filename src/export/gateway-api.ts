/**
 * `export gateway-api`: a named server's cert and the tree's CA as the Kubernetes Gateway API
 * takes them (seed 001). Targets Gateway API v1.5 (gateway.networking.k8s.io/v1: Gateway,
 * HTTPRoute, TLSRoute, BackendTLSPolicy) and, with `envoyGateway`, Envoy Gateway v1.8's
 * ClientTrafficPolicy (gateway.envoyproxy.io/v1alpha1). Every object is built as data and
 * serialised by the `yaml` package; every string from the user is checked against the
 * Kubernetes rule for the field it lands in before it gets there.
 */
import { MtlsError } from "../errors.js";
import { parseCert } from "../pki/cert-facts.js";
import { parseWholeNumber } from "../pki/names.js";
import { shellWord } from "./render.js";
import { yamlDocuments } from "./yaml.js";
import {
  checkGatewayClass,
  checkGatewayHostname,
  DEFAULT_GATEWAY_CLASS,
  DEFAULT_GATEWAY_NAME,
  DEFAULT_GATEWAY_PORT,
  ENVOY_GATEWAY,
  GATEWAY_API,
  gatewayApiNames,
  LISTENER,
  sanCovers,
} from "./gateway-api-names.js";
import {
  checkNamespace,
  checkObjectName,
  DEFAULT_NAMESPACE,
  DEFAULT_SERVICE,
  K8S_NAME_MAX,
  parseService,
} from "./kubernetes-names.js";
import { secret, type KubernetesObject } from "./kubernetes-object.js";
import {
  exportTree,
  keyInTheClear,
  outFlag,
  requireLeaf,
  servedChainPem,
  type ExportOptions,
  type ExportResult,
} from "./sources.js";

export interface GatewayApiExportOptions extends ExportOptions {
  /** The named server (servers/<name>/) whose cert the Gateway (or the passthrough backend) serves. */
  server: string;
  /** Namespace of every object. Default mcp-gateway, as `export k8s`. */
  namespace?: string;
  /** The Gateway's name; the other objects' names derive from it. Default mcp-gateway. */
  name?: string;
  /** spec.gatewayClassName. Default eg (Envoy Gateway's quickstart GatewayClass). */
  gatewayClass?: string;
  /** The listener's hostname. Default: the server's name; it must be a DNS SAN of its cert. */
  hostname?: string;
  /** The listener's port. Default 443. */
  port?: string | number;
  /** The Service the route sends traffic to, `name:port`. Default mcp-gateway:4444. */
  backend?: string;
  /** A TLS listener in Passthrough mode and a TLSRoute: the backend terminates TLS and checks client certs. */
  passthrough?: boolean;
  /** Client validation by Envoy Gateway's ClientTrafficPolicy instead of the Gateway's spec.tls.frontend. */
  envoyGateway?: boolean;
  /** Adds a BackendTLSPolicy: the gateway speaks TLS to the backend and checks its cert for this name. */
  backendHostname?: string;
  /** A client of the tree (clients/<name>/) whose cert the Gateway presents to backends that require one. */
  backendClient?: string;
  /** Opens an encrypted server key: a Gateway cannot use an encrypted one. */
  keyPassphrase?: string;
}

/**
 * The Gateway's spec.tls (Gateway API v1.5): `frontend` validates the client certs of every HTTPS
 * listener (FrontendTLSValidation); `backend` is the client cert the Gateway presents to backends.
 */
function gatewayTls(
  validation: Record<string, unknown> | undefined,
  backendClientSecret: string | undefined,
): { tls?: Record<string, unknown> } {
  const tls: Record<string, unknown> = {
    ...(validation ? { frontend: { default: { validation } } } : {}),
    ...(backendClientSecret
      ? { backend: { clientCertificateRef: { group: "", kind: "Secret", name: backendClientSecret } } }
      : {}),
  };
  return Object.keys(tls).length > 0 ? { tls } : {};
}

export async function exportGatewayApi(o: GatewayApiExportOptions): Promise<ExportResult> {
  if (o.passthrough && o.envoyGateway)
    throw new MtlsError(
      "E_USAGE",
      "--passthrough and --envoy-gateway: a Passthrough listener never sees client certs, the backend checks them",
      "drop --envoy-gateway, or --passthrough to validate client certs at the Gateway",
    );
  if (o.passthrough && o.backendHostname !== undefined)
    throw new MtlsError(
      "E_USAGE",
      "--passthrough and --backend-hostname: with Passthrough the Gateway does not speak TLS to the backend, the client does",
      "drop --backend-hostname, or --passthrough to terminate TLS at the Gateway",
    );
  if (o.backendClient !== undefined && o.backendHostname === undefined)
    throw new MtlsError(
      "E_USAGE",
      "--backend-client without --backend-hostname: the Gateway presents a client cert only when it speaks TLS to the backend",
      "add --backend-hostname with the name in the backend's cert",
    );
  const namespace = checkNamespace(o.namespace ?? DEFAULT_NAMESPACE);
  const names = gatewayApiNames(checkObjectName(o.name ?? DEFAULT_GATEWAY_NAME, "--name"));
  for (const derived of Object.values(names))
    if (derived.length > K8S_NAME_MAX)
      throw new MtlsError(
        "E_USAGE",
        `--name: ${JSON.stringify(names.gateway)} is too long: ${derived} is over ${K8S_NAME_MAX} characters`,
        `use at most ${K8S_NAME_MAX - (names.clientTrafficPolicy.length - names.gateway.length)} characters`,
      );
  const gatewayClass = checkGatewayClass(o.gatewayClass ?? DEFAULT_GATEWAY_CLASS);
  const port = parseWholeNumber(String(o.port ?? DEFAULT_GATEWAY_PORT), "--port", 1, 65535);
  const backend = parseService(o.backend ?? DEFAULT_SERVICE, "--backend");
  const backendHostname =
    o.backendHostname === undefined ? undefined : checkGatewayHostname(o.backendHostname, "--backend-hostname", true);

  const tree = exportTree(o);
  const server = await requireLeaf(tree, "server", o.server, "--server");
  // Kubernetes names are lower case; DNS is not case-sensitive, so the server's name lower-cased is the same host.
  const hostname = checkGatewayHostname(
    o.hostname ?? o.server.toLowerCase(),
    o.hostname === undefined ? `--server (the default --hostname)` : "--hostname",
  );
  const dnsSans = parseCert(server.certPem)
    .facts.sans.filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4));
  if (!dnsSans.some((san) => sanCovers(san, hostname)))
    throw new MtlsError(
      "E_USAGE",
      `--hostname: ${hostname} is not a name of ${server.files.cert} (its DNS SANs: ${dnsSans.join(", ") || "none"})`,
      // Quoted for the shell: a bare `*.example.com` would be a glob there.
      `clients would refuse the cert: pass one of its names with --hostname, or issue it again with that name (remove ${server.files.dir}, then \`mtls-certs server ${o.server} --san ${shellWord(hostname, "--hostname")}${outFlag(tree)}\`)`,
    );
  const keyPem = await keyInTheClear(server.keyPem, server.files.key, o.keyPassphrase, "a Gateway");
  const backendClient =
    o.backendClient === undefined ? undefined : await requireLeaf(tree, "client", o.backendClient, "--backend-client");

  const meta = (name: string) => ({ name, namespace });
  const caRef = { group: "", kind: "ConfigMap", name: names.caConfigMap };
  const objects: KubernetesObject[] = [
    // tls.crt is what the Gateway sends: the cert, then any intermediate, for clients that trust only the root.
    secret(names.secret, namespace, "kubernetes.io/tls", { "tls.crt": servedChainPem(server), "tls.key": keyPem }),
  ];
  if (backendClient)
    objects.push(
      secret(names.backendClientSecret, namespace, "kubernetes.io/tls", {
        "tls.crt": servedChainPem(backendClient),
        "tls.key": await keyInTheClear(backendClient.keyPem, backendClient.files.key, o.keyPassphrase, "a Gateway"),
      }),
    );
  // Gateway API's client-certificate validation (Core support) reads a ConfigMap's ca.crt; so do
  // BackendTLSPolicy and Envoy Gateway's ClientTrafficPolicy. One object for all three.
  objects.push({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(names.caConfigMap),
    data: { "ca.crt": server.caPem },
  });

  const listener = o.passthrough
    ? { name: LISTENER.passthrough, protocol: "TLS", port, hostname, tls: { mode: "Passthrough" } }
    : {
        name: LISTENER.terminate,
        protocol: "HTTPS",
        port,
        hostname,
        tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: names.secret }] },
      };
  // A Passthrough listener never sees a client cert and never speaks TLS to the backend: no spec.tls.
  const validation =
    o.passthrough || o.envoyGateway ? undefined : { caCertificateRefs: [caRef], mode: "AllowValidOnly" };
  const gatewayRef = { group: GATEWAY_API.group, kind: "Gateway", name: names.gateway, sectionName: listener.name };
  objects.push(
    {
      apiVersion: GATEWAY_API.apiVersion,
      kind: "Gateway",
      metadata: meta(names.gateway),
      spec: {
        gatewayClassName: gatewayClass,
        listeners: [listener],
        ...gatewayTls(validation, backendClient && names.backendClientSecret),
      },
    },
    {
      apiVersion: GATEWAY_API.apiVersion,
      kind: o.passthrough ? "TLSRoute" : "HTTPRoute",
      metadata: meta(names.route),
      spec: {
        parentRefs: [gatewayRef],
        hostnames: [hostname],
        rules: [{ backendRefs: [{ group: "", kind: "Service", name: backend.name, port: backend.port }] }],
      },
    },
  );
  if (o.envoyGateway)
    objects.push({
      apiVersion: ENVOY_GATEWAY.apiVersion,
      kind: "ClientTrafficPolicy",
      metadata: meta(names.clientTrafficPolicy),
      spec: { targetRefs: [gatewayRef], tls: { clientValidation: { caCertificateRefs: [caRef] } } },
    });
  if (backendHostname !== undefined)
    objects.push({
      apiVersion: GATEWAY_API.apiVersion,
      kind: "BackendTLSPolicy",
      metadata: meta(names.backendTlsPolicy),
      spec: {
        targetRefs: [{ group: "", kind: "Service", name: backend.name }],
        validation: { caCertificateRefs: [caRef], hostname: backendHostname },
      },
    });

  const header = [
    `mtls-certs export gateway-api: server ${o.server} of ${tree.root} for namespace ${namespace}, host ${hostname}.`,
    `Gateway API ${GATEWAY_API.version} (${GATEWAY_API.apiVersion})${o.envoyGateway ? `, Envoy Gateway ${ENVOY_GATEWAY.version} (${ENVOY_GATEWAY.apiVersion})` : ""}.`,
    "Holds the server's private key: apply it (kubectl apply -f -), do not commit it.",
    o.passthrough
      ? `Passthrough: the Gateway forwards TLS unopened; mount ${names.secret} and ${names.caConfigMap} in the backend, which must require client certs itself.`
      : `Clients without a cert from ${names.caConfigMap}'s CA are refused: curl --cert client.crt --key client.key https://${hostname.replace(/^\*\./, "www.")}:${port}/`,
  ];
  const notes: string[] = [];
  if (backendClient?.keyEncrypted)
    notes.push(`${backendClient.files.key} is encrypted: ${names.backendClientSecret} holds it decrypted`);
  if (server.keyEncrypted) notes.push(`${server.files.key} is encrypted: ${names.secret} holds it decrypted`);
  return { text: yamlDocuments(header, objects), notes, written: [], secret: true };
}
