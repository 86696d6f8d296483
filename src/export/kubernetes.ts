/**
 * `export k8s` and `export istio`: the tree as Kubernetes objects. Secrets hold the files' bytes
 * (base64), named as the gateway's deploy tooling names them; the cert-manager objects describe
 * each certificate as it is (subject, SANs, usages, key, lifetime) so a cluster can renew what
 * mtls-certs started. The YAML comes from the `yaml` package, one document per object.
 */
import { DEFAULT_GATEWAY_NAMESPACE } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { loadPluginConfig, type PluginConfig } from "../config/plugin-config.js";
import { stackTreeWarning } from "../config/stack.js";
import { parseCert, splitPemBlocks } from "../pki/cert-facts.js";
import { pluginServiceName } from "../pki/profiles.js";
import { checkDnsName } from "../pki/names.js";
import type { TreePaths } from "../store/paths.js";
import { assertCaKeyProtected } from "../store/key-mode.js";
import { listDirectories, readText } from "../store/write.js";
import {
  base64,
  exportTree,
  keyInTheClear,
  requireLeaf,
  type ExportOptions,
  type ExportResult,
  type LeafSource,
} from "./sources.js";
import type { KubernetesObject } from "./kubernetes-object.js";
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

/** The gateway's namespace: the deploy tooling's default (mcp-stack.yaml's deployment.namespace). */
export const DEFAULT_NAMESPACE = DEFAULT_GATEWAY_NAMESPACE;
export const DEFAULT_SERVICE = "mcp-gateway:4444";
/**
 * The names the gateway's deploy tooling (mcp-context-forge v1.0.8, `cforge gateway`) gives the
 * Secrets its Deployments mount, and seed 003's names for the rest.
 */
export const K8S_NAMES = {
  /** Opaque, key `ca.crt`: what the gateway and plugins trust; ingress-nginx checks client certs against it too. */
  caSecret: "mcp-ca-secret",
  /** The gateway's Service, whose Secret holds its client cert: `mcp-mcpgateway-server-cert`. */
  gatewayService: "mcpgateway",
  caKeyPair: "mcp-ca-key-pair",
  issuer: "mcp-ca-issuer",
  ingress: "mcp-gateway",
  istioSecret: "cacerts",
  istioNamespace: "istio-system",
  peerAuthentication: "mcp-gateway-mtls",
} as const;

export type { KubernetesObject };

/** An RFC 1123 label: what every Kubernetes object name here must be. */
export const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const K8S_NAME_MAX = 63;

/**
 * A valid Kubernetes name for `raw`, and what had to change. Lower case, `_` and `.` become
 * `-`, other characters are dropped, cut to 63; `where` names the source in errors.
 */
export function kubernetesName(raw: string, where: string): { name: string; changes: string[] } {
  const changes: string[] = [];
  let name = raw;
  const apply = (test: boolean, next: () => string, change: string): void => {
    if (!test) return;
    name = next();
    changes.push(change);
  };
  apply(name !== name.toLowerCase(), () => name.toLowerCase(), "lower-cased");
  apply(/[_.]/.test(name), () => name.replace(/[_.]/g, "-"), "'_' and '.' replaced by '-'");
  apply(
    /[^a-z0-9-]/.test(name),
    () => name.replace(/[^a-z0-9-]/g, ""),
    "characters other than a-z, 0-9 and '-' dropped",
  );
  apply(
    /--|^-|-$/.test(name),
    () => name.replace(/-+/g, "-").replace(/^-|-$/g, ""),
    "repeated, leading or trailing '-' removed",
  );
  apply(
    name.length > K8S_NAME_MAX,
    () => name.slice(0, K8S_NAME_MAX).replace(/-+$/, ""),
    `cut to ${K8S_NAME_MAX} characters`,
  );
  if (!K8S_NAME.test(name))
    throw new MtlsError(
      "E_BAD_NAME",
      `${where}: ${JSON.stringify(raw)} cannot become a Kubernetes name`,
      "rename it with letters and digits",
    );
  return { name, changes };
}

export function parseService(value: string, option = "--service"): { name: string; port: number } {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?):([0-9]{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match?.[1] || match[1].length > K8S_NAME_MAX || port < 1 || port > 65535) {
    throw new MtlsError(
      "E_USAGE",
      `${option}: ${JSON.stringify(value)} is not NAME:PORT (a Kubernetes Service name and a port 1-65535)`,
    );
  }
  return { name: match[1], port };
}

export function secret(
  name: string,
  namespace: string,
  type: string,
  data: Record<string, string>,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): KubernetesObject {
  const encoded = Object.fromEntries(Object.entries(data).map(([key, text]) => [key, base64(text)]));
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace, ...extra }, type, data: encoded };
}

/** The signing CA's cert (with its chain) and key: the intermediate when the tree has one. */
async function signingCa(
  tree: TreePaths,
  passphrase: string | undefined,
): Promise<{ certPem: string; keyPem: string; rootPem: string; intermediate: boolean }> {
  const rootPem = await readText(tree.caCert);
  const rootKey = await readText(tree.caKey);
  if (rootPem === undefined || rootKey === undefined)
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: no CA in ${tree.root}`,
      "run `mtls-certs all` (or `mtls-certs ca`) first",
    );
  const intermediatePem = await readText(tree.intermediateCert);
  const intermediateKey = await readText(tree.intermediateKey);
  if (intermediatePem !== undefined && intermediateKey !== undefined) {
    // cert-manager signs with it from now on: a key others could read is not handed on (OpenSSH's rule).
    await assertCaKeyProtected(tree.root, tree.intermediateKey);
    return {
      certPem: intermediatePem.trimEnd() + "\n" + rootPem,
      keyPem: await keyInTheClear(intermediateKey, tree.intermediateKey, passphrase, "cert-manager", "ca-passphrase"),
      rootPem,
      intermediate: true,
    };
  }
  await assertCaKeyProtected(tree.root, tree.caKey);
  return {
    certPem: rootPem,
    keyPem: await keyInTheClear(rootKey, tree.caKey, passphrase, "cert-manager", "ca-passphrase"),
    rootPem,
    intermediate: false,
  };
}

const HOUR_MS = 3_600_000;
/** cert-manager's names for the key usages mtls-certs' leaf profiles carry. */
const USAGE_NAMES: Readonly<Record<string, string>> = {
  digitalSignature: "digital signature",
  keyEncipherment: "key encipherment",
  serverAuth: "server auth",
  clientAuth: "client auth",
};

/** What cert-manager needs to issue the same certificate again, read from the cert itself. */
export function describeForCertManager(pem: string): {
  commonName: string;
  organizations: string[];
  organizationalUnits: string[];
  dnsNames: string[];
  ipAddresses: string[];
  usages: string[];
  privateKey: { algorithm: "RSA" | "ECDSA"; size: number };
  hours: number;
} {
  const { node, facts } = parseCert(pem);
  const subject = node.subject.split("\n");
  const values = (attribute: string) =>
    subject.filter((line) => line.startsWith(`${attribute}=`)).map((line) => line.slice(attribute.length + 1));
  const sans = (prefix: string) => facts.sans.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
  return {
    commonName: values("CN")[0] ?? "",
    organizations: values("O"),
    organizationalUnits: values("OU"),
    dnsNames: sans("DNS:"),
    ipAddresses: sans("IP:"),
    usages: [...(facts.keyUsage ?? []), ...(facts.extendedKeyUsage ?? [])]
      .map((u) => USAGE_NAMES[u])
      .filter((u): u is string => u !== undefined),
    privateKey: { algorithm: node.publicKey.asymmetricKeyType === "rsa" ? "RSA" : "ECDSA", size: facts.keyBits ?? 0 },
    hours: Math.round((Date.parse(facts.notAfter) - Date.parse(facts.notBefore)) / HOUR_MS),
  };
}

/** The tooling's Secret for a Service (`mcpgateway`, `mcp-plugin-<name lowercased>`): `mcp-<svc>-server-cert`. */
export function serviceSecretName(service: string): string {
  return `mcp-${service}-server-cert`;
}

/** The tooling's cert-manager Certificate for a Service: `mcp-<svc>-cert` (its secretName is the Secret above). */
export function serviceCertificateName(service: string): string {
  return `mcp-${service}-cert`;
}

/** The names a Service is reached at in its namespace, as the tooling's Certificates list them. */
function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

interface Issued {
  /** The Secret's name; the Certificate is `certificateName`. */
  readonly name: string;
  readonly certificateName: string;
  readonly leaf: LeafSource;
  /** Names the Certificate adds beyond the cert's own SANs (the in-cluster Service names). */
  readonly clusterNames: string[];
}

function certificateObject(item: Issued, namespace: string, notes: string[]): KubernetesObject {
  const facts = describeForCertManager(item.leaf.certPem);
  const dnsNames = [...facts.dnsNames];
  for (const extra of item.clusterNames)
    if (!dnsNames.some((n) => n.toLowerCase() === extra.toLowerCase())) dnsNames.push(extra);
  const missing = dnsNames.length - facts.dnsNames.length;
  if (missing > 0)
    notes.push(
      `${item.leaf.files.cert} lacks ${missing} in-cluster name(s) the Certificate ${item.certificateName} lists; cert-manager re-issues it with them${item.leaf.files.role === "plugin" ? ` (or make the cert with \`--namespace ${namespace}\`)` : ""}`,
    );
  const renewBeforeHours = Math.round((facts.hours * 2) / 3);
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: item.certificateName, namespace },
    spec: {
      secretName: item.name,
      commonName: facts.commonName,
      subject: { organizations: facts.organizations, organizationalUnits: facts.organizationalUnits },
      ...(dnsNames.length > 0 ? { dnsNames } : {}),
      ...(facts.ipAddresses.length > 0 ? { ipAddresses: facts.ipAddresses } : {}),
      usages: facts.usages,
      privateKey: { ...facts.privateKey, encoding: "PKCS8", rotationPolicy: "Always" },
      // The cert's own lifetime; renewal starts with two thirds of it left, as the gateway's template does.
      duration: `${facts.hours}h`,
      renewBefore: `${renewBeforeHours}h`,
      issuerRef: { name: K8S_NAMES.issuer, kind: "Issuer", group: "cert-manager.io" },
    },
  };
}

/** Annotations that let cert-manager adopt a Secret it did not write, instead of re-issuing at once. */
function adoptionMarks(
  certificateName: string,
  leafPem: string,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const facts = describeForCertManager(leafPem);
  return {
    labels: { "controller.cert-manager.io/fao": "true" },
    annotations: {
      "cert-manager.io/certificate-name": certificateName,
      "cert-manager.io/issuer-name": K8S_NAMES.issuer,
      "cert-manager.io/issuer-kind": "Issuer",
      "cert-manager.io/issuer-group": "cert-manager.io",
      "cert-manager.io/common-name": facts.commonName,
      "cert-manager.io/alt-names": facts.dnsNames.join(","),
      "cert-manager.io/ip-sans": facts.ipAddresses.join(","),
      "cert-manager.io/uri-sans": "",
    },
  };
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
    objects.push(
      secret(K8S_NAMES.caKeyPair, namespace, "kubernetes.io/tls", { "tls.crt": ca.certPem, "tls.key": ca.keyPem }),
    );
    objects.push({
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: { name: K8S_NAMES.issuer, namespace },
      spec: { ca: { secretName: K8S_NAMES.caKeyPair } },
    });
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

export function checkNamespace(namespace: string, field = "--namespace"): string {
  if (!K8S_NAME.test(namespace) || namespace.length > K8S_NAME_MAX)
    throw new MtlsError(
      "E_USAGE",
      `${field}: ${JSON.stringify(namespace)} is not a Kubernetes namespace name (lower case letters, digits, '-'; at most 63)`,
    );
  return namespace;
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

/** The Ingress of seed 003: ingress-nginx requires a client cert from the tree's CA. */
function ingressObject(
  namespace: string,
  service: { name: string; port: number },
  host: string | undefined,
  tlsSecret: string | undefined,
  verifyDepth: number,
  { snippet }: { snippet: boolean },
): KubernetesObject {
  if (host !== undefined) checkDnsName(host, "--server");
  const backend = { service: { name: service.name, port: { number: service.port } } };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: K8S_NAMES.ingress,
      namespace,
      annotations: {
        "nginx.ingress.kubernetes.io/auth-tls-secret": `${namespace}/${K8S_NAMES.caSecret}`,
        "nginx.ingress.kubernetes.io/auth-tls-verify-client": "on",
        "nginx.ingress.kubernetes.io/auth-tls-verify-depth": String(Math.max(2, verifyDepth)),
        "nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream": "true",
        // Needs allow-snippet-annotations in the controller; nginx has no $ssl_client_s_dn_cn, so the CN is cut from the DN.
        ...(snippet
          ? {
              "nginx.ingress.kubernetes.io/configuration-snippet": [
                'set $mtls_client_cn "";',
                'if ($ssl_client_s_dn ~ "(?:^|,)CN=([^,]+)") { set $mtls_client_cn $1; }',
                "proxy_set_header X-SSL-Client-S-DN $ssl_client_s_dn;",
                "proxy_set_header X-SSL-Client-S-DN-CN $mtls_client_cn;",
                "proxy_set_header X-Authenticated-User $mtls_client_cn;",
                "",
              ].join("\n"),
            }
          : {}),
      },
    },
    spec: {
      ingressClassName: "nginx",
      ...(host !== undefined && tlsSecret !== undefined ? { tls: [{ hosts: [host], secretName: tlsSecret }] } : {}),
      rules: [
        { ...(host !== undefined ? { host } : {}), http: { paths: [{ path: "/", pathType: "Prefix", backend }] } },
      ],
    },
  };
}

/** `export istio`: Istio's plug-in CA (`cacerts`) from the tree's intermediate, and STRICT mTLS for the gateway. */
export async function exportIstio(o: KubernetesExportOptions): Promise<ExportResult> {
  const namespace = checkNamespace(o.namespace ?? DEFAULT_NAMESPACE);
  const tree = exportTree(o);
  const [intermediatePem, intermediateKey, rootPem] = await Promise.all([
    readText(tree.intermediateCert),
    readText(tree.intermediateKey),
    readText(tree.caCert),
  ]);
  if (rootPem === undefined)
    throw new MtlsError(
      "E_CA_MISSING",
      `${tree.caCert}: no CA in ${tree.root}`,
      "run `mtls-certs ca --intermediate` first",
    );
  if (intermediatePem === undefined || intermediateKey === undefined) {
    throw new MtlsError(
      "E_NOT_FOUND",
      `${tree.intermediateCert}: the tree has no intermediate CA; Istio's CA must be one, so the mesh's root stays the tree's root`,
      `run \`mtls-certs ca --intermediate --out ${tree.root}\``,
    );
  }
  // istiod signs the mesh's certs with it: held to the rule every signing command is (key-mode.ts).
  await assertCaKeyProtected(tree.root, tree.intermediateKey);
  const objects: KubernetesObject[] = [
    secret(K8S_NAMES.istioSecret, K8S_NAMES.istioNamespace, "Opaque", {
      "ca-cert.pem": intermediatePem,
      "ca-key.pem": await keyInTheClear(
        intermediateKey,
        tree.intermediateKey,
        o.keyPassphrase,
        "istiod",
        "ca-passphrase",
      ),
      "root-cert.pem": rootPem,
      "cert-chain.pem": intermediatePem.trimEnd() + "\n" + rootPem,
    }),
    {
      apiVersion: "security.istio.io/v1beta1",
      kind: "PeerAuthentication",
      metadata: { name: K8S_NAMES.peerAuthentication, namespace },
      spec: { selector: { matchLabels: { app: "mcp-gateway" } }, mtls: { mode: "STRICT" } },
    },
  ];
  const header = [
    `mtls-certs export istio: the intermediate CA of ${tree.root} as Istio's plug-in CA.`,
    "Holds the intermediate CA's private key: apply it before installing Istio (istiod reads cacerts at start).",
  ];
  return { text: yamlDocuments(header, objects), notes: [], written: [], secret: true };
}
