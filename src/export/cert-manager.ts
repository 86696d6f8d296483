/**
 * The hand-off to cert-manager (`export k8s --include-ca-key`): the signing CA as an Issuer's
 * Secret, one Certificate per leaf describing the cert as it is (subject, SANs, usages, key,
 * lifetime), and marks on each leaf's Secret so cert-manager adopts it instead of re-issuing at
 * once. A cluster then renews what mtls-certs started, from the same CA.
 */
import { MtlsError } from "../errors.js";
import { parseCert } from "../pki/cert-facts.js";
import type { TreePaths } from "../store/paths.js";
import { assertCaKeyProtected } from "../store/key-mode.js";
import { readText } from "../store/write.js";
import { K8S_NAMES } from "./kubernetes-names.js";
import { secret, type KubernetesObject } from "./kubernetes-object.js";
import { keyInTheClear, type LeafSource } from "./sources.js";

/** The signing CA's cert (with its chain) and key: the intermediate when the tree has one. */
export async function signingCa(
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

/** The signing CA as the Secret a CA Issuer signs with, and that Issuer: renewed certs chain to the same root. */
export function caIssuerObjects(ca: { certPem: string; keyPem: string }, namespace: string): KubernetesObject[] {
  return [
    secret(K8S_NAMES.caKeyPair, namespace, "kubernetes.io/tls", { "tls.crt": ca.certPem, "tls.key": ca.keyPem }),
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: { name: K8S_NAMES.issuer, namespace },
      spec: { ca: { secretName: K8S_NAMES.caKeyPair } },
    },
  ];
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

export interface Issued {
  /** The Secret's name; the Certificate is `certificateName`. */
  readonly name: string;
  readonly certificateName: string;
  readonly leaf: LeafSource;
  /** Names the Certificate adds beyond the cert's own SANs (the in-cluster Service names). */
  readonly clusterNames: string[];
}

export function certificateObject(item: Issued, namespace: string, notes: string[]): KubernetesObject {
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
export function adoptionMarks(
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
