/**
 * `export hostname-checks`: what turns the gateway's hostname check back on after its deploy
 * tooling rendered the manifests. `cforge gateway` drops `gateway.mtls_check_hostname` (not a field
 * of its schema) and writes PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME=false into both manifests, because
 * the Makefile's certs lack the names plugins are dialed at; ours carry them. Compose merges a
 * `docker-compose.override.yml` over the rendered file, kustomize a strategic-merge patch over the
 * rendered Deployment: both replace the variable by name, so the value written here wins.
 */
import { yamlDocuments } from "./yaml.js";
import { checkNamespace, DEFAULT_NAMESPACE, K8S_NAMES } from "./kubernetes-names.js";
import { MtlsError } from "../errors.js";
import type { ExportResult } from "./sources.js";

/** The variable the gateway reads (cpex's client settings) and the value that turns the check on. */
export const CHECK_HOSTNAME_VARIABLE = "PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME";
const ON = "true";

/**
 * The names the builder's templates give the gateway (mcp-context-forge, checked 2026-12): the
 * Compose service, and the Kubernetes Deployment and its one container, are all `mcpgateway`.
 */
const GATEWAY = K8S_NAMES.gatewayService;

export const HOSTNAME_CHECK_FORMATS = ["compose", "kustomize"] as const;
export type HostnameCheckFormat = (typeof HOSTNAME_CHECK_FORMATS)[number];

export interface HostnameChecksOptions {
  format?: string;
  /** The Deployment's namespace (kustomize only): a patch names the object it changes. */
  namespace?: string;
}

function checkFormat(format: string): HostnameCheckFormat {
  const known = HOSTNAME_CHECK_FORMATS.find((f) => f === format);
  if (known) return known;
  throw new MtlsError(
    "E_USAGE",
    `--format: ${JSON.stringify(format)} is not one of ${HOSTNAME_CHECK_FORMATS.join(", ")}`,
  );
}

/** A Compose override: a mapping replaces the key whatever shape the rendered file uses. */
function composeOverride(): unknown {
  return { services: { [GATEWAY]: { environment: { [CHECK_HOSTNAME_VARIABLE]: ON } } } };
}

/** A strategic-merge patch: containers merge by `name`, and so do their `env` entries. */
function kustomizePatch(namespace: string): unknown {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: GATEWAY, namespace },
    spec: {
      template: {
        spec: { containers: [{ name: GATEWAY, env: [{ name: CHECK_HOSTNAME_VARIABLE, value: ON }] }] },
      },
    },
  };
}

export function exportHostnameChecks(o: HostnameChecksOptions = {}): ExportResult {
  const format = checkFormat(o.format ?? "compose");
  if (format === "compose") {
    if (o.namespace !== undefined)
      throw new MtlsError("E_USAGE", "--namespace: only with --format kustomize (Compose has no namespaces)");
    return {
      text: yamlDocuments(
        [
          "docker-compose.override.yml for the compose file `cforge gateway` rendered: turns the gateway's",
          `hostname check on (the builder writes ${CHECK_HOSTNAME_VARIABLE}=false). Put it next to`,
          "docker-compose.yaml (deploy/manifests/). `cforge gateway deploy` passes only `-f docker-compose.yaml`,",
          "which skips this file: run `docker compose up -d` in that directory, which reads both, this one last.",
        ],
        [composeOverride()],
      ),
      notes: [],
      written: [],
      secret: false,
    };
  }
  const namespace = checkNamespace(o.namespace ?? DEFAULT_NAMESPACE);
  return {
    text: yamlDocuments(
      [
        "kustomize patch for the Deployment `cforge gateway` rendered: turns the gateway's hostname",
        `check on (the builder writes ${CHECK_HOSTNAME_VARIABLE}=false). List it under \`patches:\` in a`,
        "kustomization.yaml whose resources hold the rendered gateway-deployment.yaml; `kubectl apply -k`.",
      ],
      [kustomizePatch(namespace)],
    ),
    notes: [],
    written: [],
    secret: false,
  };
}
