/**
 * `export istio`: the tree's intermediate CA as Istio's plug-in CA (`cacerts`), so the mesh's
 * certs chain to the tree's root, and STRICT mTLS for the gateway.
 */
import { MtlsError } from "../errors.js";
import { assertCaKeyProtected } from "../store/key-mode.js";
import { readText } from "../store/write.js";
import { checkNamespace, DEFAULT_NAMESPACE, K8S_NAMES } from "./kubernetes-names.js";
import { secret, type KubernetesObject } from "./kubernetes-object.js";
import type { KubernetesExportOptions } from "./kubernetes.js";
import { exportTree, keyInTheClear, type ExportResult } from "./sources.js";
import { yamlDocuments } from "./yaml.js";

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
