/**
 * What a plugin config or mcp-stack.yaml is read into: plain data, and no YAML in it, so the
 * package's public types (index.ts exports these) need nothing beyond the package itself.
 */
import type { RequestedName } from "../pki/name-policy.js";

/**
 * How the gateway reaches an external plugin. Only the network links carry TLS: a Unix socket has
 * none, so its plugin needs no certificate.
 */
export type PluginTransport =
  /** `mcp:` (streamable HTTP), or an entry naming no transport (the Makefile's reading). */
  | { readonly kind: "mcp" }
  /** `grpc.target` (`host:port`): the gateway's gRPC channel checks `host` against the cert. */
  | { readonly kind: "grpc"; readonly target: string; readonly host: string; readonly port: string }
  /** `grpc.uds` or `unix_socket.path`: no TLS. `field` names where it was set, for messages. */
  | { readonly kind: "socket"; readonly path: string; readonly field: string };

export interface PluginEntry {
  readonly name: string;
  /** `mcp.url`, when given: its host becomes a SAN (https:), since the gateway checks the hostname. */
  readonly url: string | undefined;
  readonly transport: PluginTransport;
  /** mcp-stack.yaml's `port`: where the deploy tooling serves the plugin (`probe` dials it there). */
  readonly port?: number;
  /** SANs the config asks for on top of the Makefile's three, each with where it came from (name-policy.ts). */
  readonly sans: readonly RequestedName[];
  /** Where the entry stands, for messages: `config.yaml:12:5`. */
  readonly where: string;
}

export interface PluginConfig {
  readonly file: string;
  /** False when the file does not exist: the caller falls back to the example plugins. */
  readonly found: boolean;
  readonly plugins: readonly PluginEntry[];
  /** Entries of another kind, which get no certificate. */
  readonly skipped: readonly string[];
  /** Set when the file is the gateway's deploy config (mcp-stack.yaml): its `certificates:` section. */
  readonly stack?: StackCertificates;
  /** mcp-stack.yaml's `deployment:` section. */
  readonly deployment?: StackDeployment;
}

/**
 * mcp-stack.yaml's `certificates:` (the gateway's `cforge gateway` deploy config): every plugin
 * of its `plugins:` list is external, and the section says where the tree is and how long certs
 * last. Paths are relative to the current directory, as cforge reads them.
 */
export interface StackCertificates {
  /** `validity_days`. */
  readonly days: number | undefined;
  /** The tree's root, from `ca_path`, `gateway_path`, `plugins_path` (which must share it). */
  readonly out: string | undefined;
  /** `use_cert_manager: true`: the cluster issues (see `mtls-certs export k8s`). */
  readonly useCertManager: boolean;
}

/** mcp-stack.yaml's `deployment:`: where the tooling runs the plugins, hence the host it dials. */
export interface StackDeployment {
  /** `compose`, `kubernetes`, or another value the tooling may add (no names added for it). */
  readonly type: string | undefined;
  /** `namespace`; default mcp-gateway, as the tooling's. */
  readonly namespace: string;
}
