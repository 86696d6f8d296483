/**
 * The Ingress of seed 003 for ingress-nginx (`export k8s --ingress`): the controller requires a
 * client cert from the tree's CA before anything reaches the gateway's Service.
 */
import { checkDnsName } from "../pki/names.js";
import { K8S_NAMES } from "./kubernetes-names.js";
import type { KubernetesObject } from "./kubernetes-object.js";

/** The Ingress of seed 003: ingress-nginx requires a client cert from the tree's CA. */
export function ingressObject(
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
