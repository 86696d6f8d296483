/**
 * Names in the cluster: the ones the gateway's deploy tooling gives its Secrets and Services (so
 * what we export is what its Deployments mount), and the Kubernetes rules a name, a namespace or a
 * `name:port` must pass before it lands in an object. Every Kubernetes export checks with these.
 */
import { DEFAULT_GATEWAY_NAMESPACE } from "../defaults.js";
import { MtlsError } from "../errors.js";

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

/** An RFC 1123 label of at most 63 characters: a namespace or an object name. */
function isKubernetesName(value: string): boolean {
  return K8S_NAME.test(value) && value.length <= K8S_NAME_MAX;
}

export function checkNamespace(namespace: string, field = "--namespace"): string {
  if (!isKubernetesName(namespace))
    throw new MtlsError(
      "E_USAGE",
      `${field}: ${JSON.stringify(namespace)} is not a Kubernetes namespace name (lower case letters, digits, '-'; at most 63)`,
    );
  return namespace;
}

/** An object name the user gives (`--name`), refused with the rule rather than rewritten (kubernetesName). */
export function checkObjectName(value: string, option: string): string {
  if (!isKubernetesName(value))
    throw new MtlsError(
      "E_USAGE",
      `${option}: ${JSON.stringify(value)} is not a Kubernetes name`,
      `lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${K8S_NAME_MAX}`,
    );
  return value;
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
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}
