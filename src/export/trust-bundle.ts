/**
 * trust-manager's `Bundle` (trust.cert-manager.io/v1alpha1) for `export k8s --trust-manager`:
 * Kubernetes users who rotate CAs hand trust out with it, so its sources must hold every CA the
 * tree still trusts: during a rotation (ca/bundle.crt) the old and the new, each its own inLine
 * source, so a reader of the target sees which CAs it gets.
 */
import { splitPemBlocks } from "../pki/cert-facts.js";
import type { KubernetesObject } from "./kubernetes-object.js";

export const TRUST_BUNDLE_NAME = "mcp-ca-bundle";
/** The key of the ConfigMap trust-manager writes in each selected namespace (as mcp-ca-secret's). */
export const TRUST_BUNDLE_KEY = "ca.crt";

/**
 * A cluster-scoped Bundle whose target ConfigMap (named as the Bundle) lands in `namespace` only:
 * one inLine source per CA of `trustedPem`, in the file's order.
 */
export function trustBundle(trustedPem: string, namespace: string): KubernetesObject {
  return {
    apiVersion: "trust.cert-manager.io/v1alpha1",
    kind: "Bundle",
    metadata: { name: TRUST_BUNDLE_NAME },
    spec: {
      sources: splitPemBlocks(trustedPem).map((pem) => ({ inLine: pem.trimEnd() + "\n" })),
      target: {
        configMap: { key: TRUST_BUNDLE_KEY },
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
      },
    },
  };
}
