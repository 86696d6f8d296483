/**
 * One Kubernetes object as the exports build it: plain data that export/yaml.ts renders, and the
 * Secret every export writes its certificates and keys into (base64, as the API stores them).
 */
import { base64 } from "./sources.js";

export type KubernetesObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

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
