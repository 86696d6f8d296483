/**
 * Gateway API's vocabulary for `export gateway-api`: the API versions the objects are written
 * for, what each object is called, and the rule each string from the user must pass for the field
 * it lands in (GatewayClass name, listener hostname), checked before it gets there.
 */
import { isIP } from "node:net";
import { MtlsError } from "../errors.js";

/** The API versions the objects are written for (and the tests validate against). */
export const GATEWAY_API = {
  version: "v1.5",
  apiVersion: "gateway.networking.k8s.io/v1",
  group: "gateway.networking.k8s.io",
} as const;
export const ENVOY_GATEWAY = { version: "v1.8", apiVersion: "gateway.envoyproxy.io/v1alpha1" } as const;

export const DEFAULT_GATEWAY_NAME = "mcp-gateway";
export const DEFAULT_GATEWAY_CLASS = "eg";
export const DEFAULT_GATEWAY_PORT = 443;

/** What each object is called, from the Gateway's name. */
export function gatewayApiNames(gateway: string): {
  gateway: string;
  secret: string;
  caConfigMap: string;
  route: string;
  clientTrafficPolicy: string;
  backendTlsPolicy: string;
  backendClientSecret: string;
} {
  return {
    gateway,
    secret: `${gateway}-tls`,
    caConfigMap: `${gateway}-ca`,
    route: gateway,
    clientTrafficPolicy: `${gateway}-client-validation`,
    backendTlsPolicy: `${gateway}-backend-tls`,
    backendClientSecret: `${gateway}-backend-client`,
  };
}

/** A Listener's name: Gateway API's SectionName. */
export const LISTENER = { terminate: "https", passthrough: "tls-passthrough" } as const;

/** RFC 1123 subdomain: ObjectName in Gateway API (gatewayClassName). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_SUBDOMAIN_MAX = 253;
/** Gateway API's Hostname: a lower-case DNS name, optionally `*.` first; never an IP. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_MAX = 63;

export function checkGatewayClass(value: string): string {
  if (!DNS_SUBDOMAIN.test(value) || value.length > DNS_SUBDOMAIN_MAX)
    throw new MtlsError(
      "E_USAGE",
      `--gateway-class: ${JSON.stringify(value)} is not a GatewayClass name`,
      "a lower-case DNS subdomain (letters, digits, '-' and '.'), as `kubectl get gatewayclass` lists them",
    );
  return value;
}

/** A hostname as Gateway API takes it; `precise` refuses a wildcard (BackendTLSPolicy's PreciseHostname). */
export function checkGatewayHostname(value: string, option: string, precise = false): string {
  const labelsFit = value.split(".").every((label) => label.length <= LABEL_MAX);
  const ok =
    HOSTNAME.test(value) &&
    value.length <= DNS_SUBDOMAIN_MAX &&
    labelsFit &&
    isIP(value) === 0 &&
    !(precise && value.startsWith("*."));
  if (!ok)
    throw new MtlsError(
      "E_USAGE",
      `${option}: ${JSON.stringify(value)} is not a hostname Gateway API takes`,
      precise
        ? "a lower-case DNS name, no wildcard and no IP address, e.g. backend.mcp-system.svc"
        : "a lower-case DNS name (one leading '*.' allowed), not an IP address, e.g. secure.example.com",
    );
  return value;
}

/** True when a DNS SAN of the cert covers `host` (one leading `*.` matches exactly one label). */
export function sanCovers(san: string, host: string): boolean {
  const name = san.toLowerCase();
  if (name === host) return true;
  if (!name.startsWith("*.") || host.startsWith("*.")) return false;
  const dot = host.indexOf(".");
  return dot > 0 && host.slice(dot) === name.slice(1);
}
