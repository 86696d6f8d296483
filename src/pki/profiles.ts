/**
 * Certificate profiles as data, one row per kind of certificate mtls-certs makes. Every command
 * picks a profile and names, then runs the same pipeline (`issue.ts`). The subjects are the
 * Makefile's, so a tree made here reads like one made by `make certs-mcp-all`.
 */
import { checkSubjectValue } from "./names.js";

import { DEFAULT_CA_SUBJECT } from "../defaults.js";

export type Role = "ca" | "intermediate" | "gateway" | "plugin" | "server" | "client" | "https";

export type KeyUsageName = "digitalSignature" | "keyEncipherment" | "keyCertSign" | "cRLSign";
export type ExtendedKeyUsageName = "serverAuth" | "clientAuth";

export interface San {
  readonly type: "dns" | "ip" | "email";
  readonly value: string;
}

/** A distinguished name in DER order, as [attribute, value] pairs. */
export type Subject = ReadonlyArray<readonly ["CN" | "O" | "OU", string]>;

export interface Profile {
  readonly role: Role;
  /** basicConstraints CA:TRUE, critical; a CA without it is refused by RFC 5280 peers. */
  readonly ca: boolean;
  /** basicConstraints pathLenConstraint; an intermediate signs leaves only. */
  readonly pathLength?: number;
  /**
   * keyUsage, critical. A CA needs keyCertSign + cRLSign: without a keyUsage extension Python
   * 3.13's default context (VERIFY_X509_STRICT) refuses the CA ("CA cert does not include key
   * usage extension"), which is exactly how the Makefile's CA fails. keyEncipherment is only
   * meaningful for RSA (RSA key transport in TLS 1.2) and is dropped for EC keys (RFC 5480).
   */
  readonly keyUsage: readonly KeyUsageName[];
  /** extendedKeyUsage: what the Makefile leaves out, so a server cert can't act as a client. */
  readonly extendedKeyUsage: readonly ExtendedKeyUsageName[];
}

const LEAF_KEY_USAGE: readonly KeyUsageName[] = ["digitalSignature", "keyEncipherment"];

export const PROFILES: Readonly<Record<Role, Profile>> = {
  ca: { role: "ca", ca: true, keyUsage: ["keyCertSign", "cRLSign"], extendedKeyUsage: [] },
  intermediate: {
    role: "intermediate",
    ca: true,
    pathLength: 0,
    keyUsage: ["keyCertSign", "cRLSign"],
    extendedKeyUsage: [],
  },
  gateway: { role: "gateway", ca: false, keyUsage: LEAF_KEY_USAGE, extendedKeyUsage: ["clientAuth"] },
  plugin: { role: "plugin", ca: false, keyUsage: LEAF_KEY_USAGE, extendedKeyUsage: ["serverAuth"] },
  server: { role: "server", ca: false, keyUsage: LEAF_KEY_USAGE, extendedKeyUsage: ["serverAuth"] },
  client: { role: "client", ca: false, keyUsage: LEAF_KEY_USAGE, extendedKeyUsage: ["clientAuth"] },
  https: { role: "https", ca: false, keyUsage: LEAF_KEY_USAGE, extendedKeyUsage: ["serverAuth"] },
};

/** `certs-mcp-ca`'s subject since early 2026 (`--ca-cn`, `--ca-org`, `--ca-ou` override). */
export interface CaSubjectOptions {
  cn?: string;
  org?: string;
  ou?: string;
}
export function caSubject(o: CaSubjectOptions = {}): Subject {
  return [
    ["CN", checkSubjectValue(o.cn ?? DEFAULT_CA_SUBJECT.cn, "--ca-cn")],
    ["O", checkSubjectValue(o.org ?? DEFAULT_CA_SUBJECT.org, "--ca-org")],
    ["OU", checkSubjectValue(o.ou ?? DEFAULT_CA_SUBJECT.ou, "--ca-ou")],
  ];
}

export function intermediateSubject(o: CaSubjectOptions = {}): Subject {
  return [
    ["CN", `${o.cn ?? DEFAULT_CA_SUBJECT.cn} Intermediate`],
    ["O", o.org ?? DEFAULT_CA_SUBJECT.org],
    ["OU", o.ou ?? DEFAULT_CA_SUBJECT.ou],
  ];
}

export const GATEWAY_SUBJECT: Subject = [
  ["CN", "mcp-gateway-client"],
  ["O", "MCPGateway"],
  ["OU", "Gateway"],
];

export function pluginSubject(name: string): Subject {
  return [
    ["CN", `mcp-plugin-${name}`],
    ["O", "MCPGateway"],
    ["OU", "Plugins"],
  ];
}

/** The Makefile's three SANs, then the extras (URL host, --san, --ip, --namespace names). */
export function pluginSans(name: string, extra: readonly San[] = []): San[] {
  return uniqueSans([dns(name), dns(`mcp-plugin-${name}`), dns("localhost"), ...extra]);
}

/** A plugin's Kubernetes Service in the gateway's deploy tooling: `mcp-plugin-<name lowercased>`. */
export function pluginServiceName(name: string): string {
  return `mcp-plugin-${name.toLowerCase()}`;
}

/**
 * The names a plugin is dialed at in a namespace: the tooling's plugin URL is
 * `https://mcp-plugin-<name lowercased>.<ns>.svc:<port>/mcp`, and its cert-manager Certificates
 * carry these four dnsNames.
 */
export function namespaceSans(name: string, namespace: string): San[] {
  const service = pluginServiceName(name);
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ].map(dns);
}

export function serverSubject(name: string): Subject {
  return [
    ["CN", name],
    ["O", "MCPGateway"],
    ["OU", "Servers"],
  ];
}

export function clientSubject(cn: string): Subject {
  return [
    ["CN", cn],
    ["O", "MCPGateway"],
    ["OU", "Clients"],
  ];
}

/** `make certs`: CN=localhost with DNS:localhost and IP:127.0.0.1. */
export const HTTPS_SUBJECT: Subject = [["CN", "localhost"]];
export const HTTPS_SANS: readonly San[] = [
  { type: "dns", value: "localhost" },
  { type: "ip", value: "127.0.0.1" },
];

export function dns(value: string): San {
  return { type: "dns", value };
}
export function ip(value: string): San {
  return { type: "ip", value };
}

/** Drops repeats (DNS names compare case-insensitively), keeping the first spelling. */
export function uniqueSans(sans: readonly San[]): San[] {
  const seen = new Set<string>();
  return sans.filter((s) => {
    const key = `${s.type}:${s.type === "dns" ? s.value.toLowerCase() : s.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function formatSan(s: San): string {
  return `${s.type === "dns" ? "DNS" : s.type === "ip" ? "IP" : "email"}:${s.value}`;
}
