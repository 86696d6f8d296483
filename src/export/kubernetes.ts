/**
 * `export k8s`: the tree as Kubernetes objects. Secrets hold the files' bytes (base64), named as
 * the gateway's deploy tooling names them (kubernetes-names.ts); with `--include-ca-key`, the
 * cert-manager objects hand renewal over to the cluster (cert-manager.ts). The YAML comes from the
 * `yaml` package, one document per object. `export istio` is istio.ts.
 */
import { MtlsError } from "../errors.js";
import type { PluginConfig } from "../config/config-data.js";
import { loadPluginConfig } from "../config/plugin-config.js";
import { stackTreeWarning } from "../config/stack.js";
import { splitPemBlocks } from "../pki/cert-facts.js";
import { pluginServiceName } from "../pki/profiles.js";
import type { TreePaths } from "../store/paths.js";
import { listDirectories, readText } from "../store/write.js";
import { adoptionMarks, caIssuerObjects, certificateObject, signingCa, type Issued } from "./cert-manager.js";
import { ingressObject } from "./ingress-nginx.js";
import {
  checkNamespace,
  DEFAULT_NAMESPACE,
  DEFAULT_SERVICE,
  K8S_NAMES,
  kubernetesName,
  parseService,
  serviceCertificateName,
  serviceDnsNames,
  serviceSecretName,
} from "./kubernetes-names.js";
import { secret, type KubernetesObject } from "./kubernetes-object.js";
import { exportTree, requireLeaf, type ExportOptions, type ExportResult, type LeafSource } from "./sources.js";
import { TRUST_BUNDLE_KEY, TRUST_BUNDLE_NAME, trustBundle } from "./trust-bundle.js";
import { yamlDocuments } from "./yaml.js";

export interface KubernetesExportOptions extends ExportOptions {
  /** Namespace of every object. Default mcp-gateway, the gateway's deploy tooling's. */
  namespace?: string;
  /**
   * Writes an ingress-nginx Ingress that requires a client cert from the tree's CA. Default false:
   * the tooling's own manifests need none, and a catch-all Ingress is not something to apply unasked.
   */
  ingress?: boolean;
  /**
   * With `ingress`: a configuration-snippet that passes the client's CN upstream. Default false:
   * ingress-nginx refuses snippets unless the controller sets allow-snippet-annotations.
   */
  ingressSnippet?: boolean;
  /**
   * A plugin config or the gateway's mcp-stack.yaml: its plugins are the ones exported (not every
   * directory), and a stack's `deployment.namespace` and `certificates.*_path` fill in the namespace
   * and the tree when not given.
   */
  config?: string;
  /**
   * Also a trust-manager Bundle whose sources hold every CA still trusted (both during a rotation).
   * Default false: it needs trust-manager in the cluster.
   */
  trustManager?: boolean;
  /** A named server (certs/mcp/servers/<name>/) whose cert the Ingress serves for host <name>. */
  server?: string;
  /** The gateway's Service behind the Ingress, `name:port`. Default mcp-gateway:4444. */
  service?: string;
  /** Opens an encrypted CA key: cert-manager's CA Secret needs it in the clear. */
  keyPassphrase?: string;
  /**
   * Writes the signing CA's key (cert-manager's CA Issuer Secret) and the Issuer and Certificates
   * that hand renewal over. Default false: a Secret holding the CA key is a copy of the CA.
   */
  includeCaKey?: boolean;
}

function leafData(leaf: LeafSource): Record<string, string> {
  return { "tls.crt": leaf.certPem, "tls.key": leaf.keyPem, "ca.crt": leaf.caPem };
}

export async function exportKubernetes(o: KubernetesExportOptions): Promise<ExportResult> {
  const config = o.config === undefined ? undefined : await loadPluginConfig(o.config);
  if (config && !config.found)
    throw new MtlsError(
      "E_NOT_FOUND",
      `--config ${o.config}: no such file`,
      "give the plugin config or mcp-stack.yaml",
    );
  const namespace = checkNamespace(
    o.namespace ?? config?.deployment?.namespace ?? DEFAULT_NAMESPACE,
    o.namespace === undefined && config?.deployment ? `${config.file}: deployment.namespace` : "--namespace",
  );
  const service = parseService(o.service ?? DEFAULT_SERVICE);
  const tree = exportTree({ ...o, tree: o.tree ?? config?.stack?.out });
  const notes: string[] = [];
  const moved = config && stackTreeWarning(config);
  if (moved) notes.push(moved);
  const ca = o.includeCaKey ? await signingCa(tree, o.keyPassphrase) : undefined;
  const gateway = await requireLeaf(tree, "gateway", "gateway", "gateway");
  const server = o.server === undefined ? undefined : await requireLeaf(tree, "server", o.server, "--server");

  // Secrets and Certificates are named as the gateway's deploy tooling names them.
  const gatewayService = K8S_NAMES.gatewayService;
  const issued: Issued[] = [
    {
      name: serviceSecretName(gatewayService),
      certificateName: serviceCertificateName(gatewayService),
      leaf: gateway,
      clusterNames: serviceDnsNames(gatewayService, namespace),
    },
  ];
  const taken = new Map<string, string>([[gatewayService, "the gateway"]]);
  for (const plugin of await pluginsToExport(tree, config, notes)) {
    const leaf = await requireLeaf(tree, "plugin", plugin, "plugin");
    const { name: service, changes } = kubernetesName(pluginServiceName(plugin), `plugin ${plugin}`);
    const holder = taken.get(service);
    if (holder)
      throw new MtlsError(
        "E_BAD_NAME",
        `plugin ${plugin}: its Kubernetes name ${service} is already the name of ${holder}`,
        "rename one of the plugins (Kubernetes names are lower case)",
      );
    taken.set(service, `plugin ${plugin}`);
    const item: Issued = {
      name: serviceSecretName(service),
      certificateName: serviceCertificateName(service),
      leaf,
      clusterNames: serviceDnsNames(service, namespace),
    };
    if (changes.length > 0)
      notes.push(
        `plugin ${plugin}: Secret ${item.name} and Certificate ${item.certificateName} (${changes.join(", ")})`,
      );
    issued.push(item);
  }

  const objects: KubernetesObject[] = [
    // The tooling mounts it as the CA bundle; ingress-nginx checks client certs against it (auth-tls-secret).
    secret(K8S_NAMES.caSecret, namespace, "Opaque", { "ca.crt": gateway.caPem }),
    ...issued.map((item) =>
      secret(
        item.name,
        namespace,
        "kubernetes.io/tls",
        leafData(item.leaf),
        adoptionMarks(item.certificateName, item.leaf.certPem),
      ),
    ),
  ];
  let serverSecret: string | undefined;
  if (server && o.server !== undefined) {
    serverSecret = kubernetesName(`mcp-server-${o.server}`, "--server").name;
    objects.push(secret(serverSecret, namespace, "kubernetes.io/tls", leafData(server)));
  }
  if (o.ingress || o.ingressSnippet)
    objects.push(
      ingressObject(namespace, service, o.server, serverSecret, splitPemBlocks(gateway.caPem).length + 1, {
        snippet: Boolean(o.ingressSnippet),
      }),
    );
  else if (o.server !== undefined)
    notes.push(`Secret ${serverSecret} holds --server ${o.server}'s cert; add --ingress for an Ingress that serves it`);
  if (o.trustManager) {
    // ca/bundle.crt during a rotation (old and new CA), else ca/ca.crt: what every peer must trust.
    const trusted = (await readText(tree.caBundle)) ?? (await readText(tree.caCert));
    if (trusted === undefined)
      throw new MtlsError("E_CA_MISSING", `${tree.caCert}: no CA in ${tree.root}`, "run `mtls-certs all` first");
    objects.push(trustBundle(trusted, namespace));
    notes.push(
      `Bundle ${TRUST_BUNDLE_NAME} (cluster-scoped, needs trust-manager) writes ConfigMap ${TRUST_BUNDLE_NAME} (${TRUST_BUNDLE_KEY}) in namespace ${namespace} with ${splitPemBlocks(trusted).length} CA(s); the gateway's tooling still mounts ${K8S_NAMES.caSecret}`,
    );
  }
  // The hand-off: cert-manager signs with the same CA, so renewed certs chain to the same root.
  // Only when asked: the Secret is a full copy of the CA for whoever may read Secrets there.
  if (ca) {
    objects.push(...caIssuerObjects(ca, namespace));
    objects.push(...issued.map((item) => certificateObject(item, namespace, notes)));
  } else
    notes.push(
      `no CA key in the output: add --include-ca-key for ${K8S_NAMES.caKeyPair}, Issuer ${K8S_NAMES.issuer} and the Certificates (cert-manager's hand-off)`,
    );

  const header = [
    `mtls-certs export k8s: the tree ${tree.root} for namespace ${namespace}.`,
    "Secret names are those the gateway's deploy tooling (mcp-context-forge v1.0.8, cforge) mounts.",
    ca
      ? "Holds private keys (the CA's too): apply it (kubectl apply -f -), do not commit it."
      : "Holds the leaves' private keys (not the CA's): apply it (kubectl apply -f -), do not commit it.",
    ca
      ? `${K8S_NAMES.caKeyPair} + Issuer ${K8S_NAMES.issuer} + the Certificates hand renewal over to cert-manager; leave them out to keep issuing with mtls-certs.`
      : "mtls-certs keeps issuing (renew, then export again); --include-ca-key hands renewal to cert-manager instead.",
  ];
  return { text: yamlDocuments(header, objects), notes, written: [], secret: true };
}

/**
 * The plugins whose Secrets are written: every directory of the tree, or with a config the
 * plugins it deploys over the network (a Unix-socket plugin has no TLS); a directory the config
 * does not list is left out, with a note.
 */
async function pluginsToExport(tree: TreePaths, config: PluginConfig | undefined, notes: string[]): Promise<string[]> {
  const onDisk = await listDirectories(tree.pluginsDir);
  if (config === undefined) return onDisk;
  const listed = config.plugins.filter((p) => p.transport.kind !== "socket").map((p) => p.name);
  for (const dir of onDisk)
    if (!listed.includes(dir)) notes.push(`plugin ${dir}: not deployed by ${config.file}; its Secret is left out`);
  return listed;
}
