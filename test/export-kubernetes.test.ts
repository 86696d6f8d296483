/**
 * export k8s and export istio: the YAML parses as multi-document YAML, every object has an
 * apiVersion, a kind and a valid name, each Secret holds the bytes of the tree's files, and the
 * cert-manager Certificates say what openssl reads from the certs they describe.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { Secret } from "kubernetes-models/v1/Secret";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication";
import { kubernetesName } from "../src/export/kubernetes-names.js";
import { BIN, cli, openssl, read, tempDir, writeFile } from "./helpers.js";

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

const NAMESPACE = "mcp-system";
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function parseObjects(text: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  assert.ok(Array.isArray(docs), "parses as a stream of documents");
  for (const doc of docs) assert.deepEqual(doc.errors, [], "each document parses");
  const objects = docs.map((d) => d.toJS() as K8sObject).filter((o) => o !== null);
  for (const o of objects) {
    assert.equal(typeof o.apiVersion, "string", JSON.stringify(o).slice(0, 80));
    assert.equal(typeof o.kind, "string");
    assert.match(o.metadata.name, K8S_NAME, `${o.kind} ${o.metadata.name}`);
    assert.ok(o.metadata.name.length <= 63);
  }
  return objects;
}

/**
 * Each object validated against the real schema: the Kubernetes OpenAPI (kubernetes-models) and
 * the cert-manager and Istio CRDs (@kubernetes-models/cert-manager, @kubernetes-models/istio).
 * An object of a kind without a schema here fails the test, so nothing goes unchecked.
 */
function validateAgainstSchemas(objects: readonly K8sObject[]): void {
  const models: Record<string, (o: K8sObject) => { validate(): void }> = {
    "v1/Secret": (o) => new Secret(o as never),
    "networking.k8s.io/v1/Ingress": (o) => new Ingress(o as never),
    "cert-manager.io/v1/Certificate": (o) => new Certificate(o as never),
    "cert-manager.io/v1/Issuer": (o) => new Issuer(o as never),
    "security.istio.io/v1beta1/PeerAuthentication": (o) => new PeerAuthentication(o as never),
  };
  for (const o of objects) {
    const model = models[`${o.apiVersion}/${o.kind}`];
    assert.ok(model, `a schema for ${o.apiVersion} ${o.kind}`);
    assert.doesNotThrow(() => model(o).validate(), `${o.kind} ${o.metadata.name} matches its schema`);
  }
}

const decoded = (o: K8sObject, key: string) => Buffer.from(o.data?.[key] ?? "", "base64").toString("utf8");

/** What openssl reads from a cert: CN, SANs, lifetime in hours, key. */
function opensslFacts(certFile: string): { cn: string; dns: string[]; ips: string[]; hours: number; text: string } {
  const text = openssl(["x509", "-in", certFile, "-noout", "-text"]).stdout;
  const subject = openssl(["x509", "-in", certFile, "-noout", "-subject", "-nameopt", "RFC2253"]).stdout;
  const dates = openssl(["x509", "-in", certFile, "-noout", "-startdate", "-enddate"]).stdout;
  const date = (field: string) => Date.parse(new RegExp(`${field}=(.+)`).exec(dates)?.[1] ?? "");
  const sanLine = /X509v3 Subject Alternative Name:.*\n\s*(.+)/.exec(text)?.[1] ?? "";
  const sans = sanLine.split(", ").filter(Boolean);
  return {
    cn: /CN=([^,\n]+)/.exec(subject)?.[1] ?? "",
    dns: sans.filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4)),
    ips: sans.filter((s) => s.startsWith("IP Address:")).map((s) => s.slice(11)),
    hours: Math.round((date("notAfter") - date("notBefore")) / 3_600_000),
    text,
  };
}

describe("export k8s: Secrets, ingress-nginx client CA and the cert-manager hand-off", () => {
  const dir = tempDir();
  const tree = join(dir, "certs/mcp");
  let objects: K8sObject[];
  let run: ReturnType<typeof cli>;
  const byName = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    assert.ok(found, `${kind} ${name} is in the output`);
    return found;
  };

  before(() => {
    const common = ["--out", tree, "--key-type", "rsa2048", "-q"];
    for (const args of [
      ["gateway"],
      ["plugin", "DenyListPlugin", "--namespace", NAMESPACE, "--ip", "127.0.0.1"],
      ["plugin", "OPA_Filter", "--namespace", NAMESPACE],
      ["server", "gateway.local"],
    ]) {
      const r = cli([...args, ...common], dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    run = cli(
      [
        "export",
        "k8s",
        "--out",
        tree,
        "--namespace",
        NAMESPACE,
        "--ingress",
        "--ingress-snippet",
        "--server",
        "gateway.local",
        "--include-ca-key",
        "-o",
        join(dir, "k8s.yaml"),
      ],
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    objects = parseObjects(read(join(dir, "k8s.yaml")));
  });

  it("parses as multi-document YAML; every object has apiVersion, kind and a valid name; the file is 600", () => {
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        "Secret/mcp-ca-secret",
        "Secret/mcp-mcpgateway-server-cert",
        "Secret/mcp-mcp-plugin-denylistplugin-server-cert",
        "Secret/mcp-mcp-plugin-opa-filter-server-cert",
        "Secret/mcp-server-gateway-local",
        "Ingress/mcp-gateway",
        "Secret/mcp-ca-key-pair",
        "Issuer/mcp-ca-issuer",
        "Certificate/mcp-mcpgateway-cert",
        "Certificate/mcp-mcp-plugin-denylistplugin-cert",
        "Certificate/mcp-mcp-plugin-opa-filter-cert",
      ],
    );
    assert.ok(objects.every((o) => o.metadata.namespace === NAMESPACE));
    validateAgainstSchemas(objects);
    assert.equal(statSync(join(dir, "k8s.yaml")).mode & 0o777, 0o600, "it holds private keys");
  });

  it("refuses to print private keys to a terminal (script gives it one)", {
    skip: spawnSync("sh", ["-c", "command -v script"]).status === 0 ? false : "script (util-linux) is not installed",
  }, () => {
    const r = spawnSync("script", ["-qec", `${process.execPath} ${BIN} export k8s --tree ${tree}`, "/dev/null"], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stdout, /holds private keys and stdout is a terminal/);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY|tls\.key:/);
  });

  it("says which names it changed and how", () => {
    // Lower-casing is the tooling's own rule (mcp-plugin-<name lowercased>): not a change worth a note.
    assert.doesNotMatch(run.stderr, /plugin DenyListPlugin:/);
    assert.match(
      run.stderr,
      /plugin OPA_Filter: Secret mcp-mcp-plugin-opa-filter-server-cert and Certificate mcp-mcp-plugin-opa-filter-cert \('_' and '\.' replaced by '-'\)/,
    );
  });

  it("each Secret's data decodes to the bytes of the tree's files", () => {
    const files: Array<[string, Record<string, string>]> = [
      ["mcp-ca-secret", { "ca.crt": "gateway/ca.crt" }],
      [
        "mcp-mcpgateway-server-cert",
        { "tls.crt": "gateway/client.crt", "tls.key": "gateway/client.key", "ca.crt": "gateway/ca.crt" },
      ],
      [
        "mcp-mcp-plugin-denylistplugin-server-cert",
        {
          "tls.crt": "plugins/DenyListPlugin/server.crt",
          "tls.key": "plugins/DenyListPlugin/server.key",
          "ca.crt": "plugins/DenyListPlugin/ca.crt",
        },
      ],
      [
        "mcp-mcp-plugin-opa-filter-server-cert",
        {
          "tls.crt": "plugins/OPA_Filter/server.crt",
          "tls.key": "plugins/OPA_Filter/server.key",
          "ca.crt": "plugins/OPA_Filter/ca.crt",
        },
      ],
      [
        "mcp-server-gateway-local",
        {
          "tls.crt": "servers/gateway.local/server.crt",
          "tls.key": "servers/gateway.local/server.key",
          "ca.crt": "servers/gateway.local/ca.crt",
        },
      ],
      ["mcp-ca-key-pair", { "tls.crt": "ca/ca.crt", "tls.key": "ca/ca.key" }],
    ];
    for (const [name, keys] of files) {
      const secret = byName("Secret", name);
      assert.deepEqual(Object.keys(secret.data ?? {}).sort(), Object.keys(keys).sort(), name);
      for (const [key, file] of Object.entries(keys))
        assert.equal(decoded(secret, key), read(join(tree, file)), `${name} ${key} = ${file}`);
      assert.equal(secret.type, name === "mcp-ca-secret" ? "Opaque" : "kubernetes.io/tls");
    }
    // The decoded pair is a working pair: openssl derives the same public key from both.
    const gateway = byName("Secret", "mcp-mcpgateway-server-cert");
    assert.equal(
      openssl(["pkey", "-pubout"], decoded(gateway, "tls.key")).stdout,
      openssl(["x509", "-noout", "-pubkey"], decoded(gateway, "tls.crt")).stdout,
    );
  });

  it("the Ingress carries seed 003's ingress-nginx annotations and serves the named server", () => {
    const ingress = byName("Ingress", "mcp-gateway");
    const a = ingress.metadata.annotations ?? {};
    assert.equal(a["nginx.ingress.kubernetes.io/auth-tls-secret"], `${NAMESPACE}/mcp-ca-secret`);
    assert.equal(a["nginx.ingress.kubernetes.io/auth-tls-verify-client"], "on");
    assert.equal(a["nginx.ingress.kubernetes.io/auth-tls-verify-depth"], "2");
    assert.equal(a["nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream"], "true");
    assert.match(
      a["nginx.ingress.kubernetes.io/configuration-snippet"] ?? "",
      /proxy_set_header X-Authenticated-User \$mtls_client_cn;/,
    );
    assert.deepEqual(ingress.spec?.tls, [{ hosts: ["gateway.local"], secretName: "mcp-server-gateway-local" }]);
  });

  it("without --ingress there is no Ingress; --ingress alone writes no configuration-snippet; the namespace is mcp-gateway", () => {
    const plain = cli(["export", "k8s", "--out", tree, "--server", "gateway.local"], dir);
    assert.equal(plain.code, 0, plain.stderr);
    const kinds = parseObjects(plain.stdout).map((o) => `${o.kind}/${o.metadata.name}/${o.metadata.namespace}`);
    assert.ok(!kinds.some((k) => k.startsWith("Ingress/")), kinds.join(" "));
    assert.ok(kinds.includes("Secret/mcp-server-gateway-local/mcp-gateway"), kinds.join(" "));
    assert.match(plain.stderr, /add --ingress for an Ingress that serves it/);
    const bare = cli(["export", "k8s", "--out", tree, "--ingress"], dir);
    assert.equal(bare.code, 0, bare.stderr);
    const ingress = parseObjects(bare.stdout).find((o) => o.kind === "Ingress");
    assert.ok(ingress, "--ingress writes the Ingress");
    validateAgainstSchemas([ingress]);
    const annotations = Object.keys(ingress.metadata.annotations ?? {});
    assert.ok(annotations.includes("nginx.ingress.kubernetes.io/auth-tls-verify-client"), annotations.join(" "));
    assert.ok(!annotations.some((a) => a.endsWith("configuration-snippet")), annotations.join(" "));
  });

  it("the configuration-snippet is nginx that nginx -t accepts inside a location", {
    skip:
      spawnSync("sh", ["-c", "command -v nginx"]).status === 0
        ? false
        : "nginx is not installed (.ci/run installs nginx-light)",
  }, () => {
    const snippet =
      byName("Ingress", "mcp-gateway").metadata.annotations?.["nginx.ingress.kubernetes.io/configuration-snippet"] ??
      "";
    const server = join(tree, "servers/gateway.local");
    const prefix = join(dir, "nginx-t");
    const conf = writeFile(
      join(prefix, "nginx.conf"),
      `pid ${join(prefix, "nginx.pid")};\nerror_log ${join(prefix, "error.log")};\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:8443 ssl;\n    ssl_certificate ${server}/server.crt;\n    ssl_certificate_key ${server}/server.key;\n    ssl_client_certificate ${server}/ca.crt;\n    ssl_verify_client on;\n    location / {\n${snippet}\n      proxy_pass http://127.0.0.1:4444;\n    }\n  }\n}\n`,
    );
    const r = spawnSync("nginx", ["-t", "-p", prefix, "-c", conf], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });

  it("the Issuer signs with the tree's CA, and each Certificate matches the cert it describes", () => {
    assert.deepEqual(byName("Issuer", "mcp-ca-issuer").spec, { ca: { secretName: "mcp-ca-key-pair" } });
    const certs: Array<[string, string, string]> = [
      ["mcp-mcpgateway", "gateway/client.crt", "client auth"],
      ["mcp-mcp-plugin-denylistplugin", "plugins/DenyListPlugin/server.crt", "server auth"],
      ["mcp-mcp-plugin-opa-filter", "plugins/OPA_Filter/server.crt", "server auth"],
    ];
    for (const [prefix, file, purpose] of certs) {
      const name = `${prefix}-cert`;
      const spec = byName("Certificate", name).spec as {
        secretName: string;
        commonName: string;
        subject: { organizations: string[]; organizationalUnits: string[] };
        dnsNames?: string[];
        ipAddresses?: string[];
        usages: string[];
        privateKey: { algorithm: string; size: number };
        duration: string;
        renewBefore: string;
        issuerRef: { name: string; kind: string };
      };
      const facts = opensslFacts(join(tree, file));
      assert.equal(spec.secretName, `${prefix}-server-cert`);
      assert.equal(spec.commonName, facts.cn, name);
      assert.deepEqual(spec.subject.organizations, ["MCPGateway"]);
      // The cert's own DNS SANs, then the Service's four names the tooling's Certificates list.
      const service = prefix.slice("mcp-".length);
      const clusterNames = [
        service,
        `${service}.${NAMESPACE}`,
        `${service}.${NAMESPACE}.svc`,
        `${service}.${NAMESPACE}.svc.cluster.local`,
      ];
      const expected = [...facts.dns];
      for (const n of clusterNames) if (!expected.some((d) => d.toLowerCase() === n)) expected.push(n);
      assert.deepEqual(spec.dnsNames ?? [], expected, `${name}: the cert's DNS SANs and the Service names`);
      assert.deepEqual(spec.ipAddresses ?? [], facts.ips);
      assert.equal(spec.duration, `${facts.hours}h`);
      assert.equal(
        spec.renewBefore,
        `${Math.round((facts.hours * 2) / 3)}h`,
        "renewal starts with two thirds of the lifetime left",
      );
      assert.match(facts.text, new RegExp(`Public-Key: \\(${spec.privateKey.size} bit\\)`));
      assert.equal(spec.privateKey.algorithm, "RSA");
      assert.ok(
        spec.usages.includes(purpose) && spec.usages.includes("digital signature"),
        `${name}: ${spec.usages.join(", ")}`,
      );
      assert.deepEqual(spec.issuerRef, { name: "mcp-ca-issuer", kind: "Issuer", group: "cert-manager.io" });
    }
    // The plugin's Certificate lists the in-cluster Service names, as the gateway's template does.
    const plugin = byName("Certificate", "mcp-mcp-plugin-opa-filter-cert").spec as { dnsNames: string[] };
    assert.ok(
      plugin.dnsNames.includes(`mcp-plugin-opa_filter.${NAMESPACE}.svc`) &&
        plugin.dnsNames.includes(`mcp-plugin-opa_filter.${NAMESPACE}.svc.cluster.local`),
      plugin.dnsNames.join(" "),
    );
  });

  it("a name that cannot stay unique, a missing gateway cert and a bad namespace are exit 2", () => {
    const other = join(dir, "clash");
    for (const name of ["Foo_Bar", "foo-bar"])
      assert.equal(cli(["plugin", name, "--out", other, "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    const clash = cli(["export", "k8s", "--out", other, "-o", join(dir, "clash.yaml")], dir);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /the gateway: no certificate yet[\s\S]*mtls-certs gateway/);
    assert.equal(cli(["gateway", "--out", other, "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    const again = cli(["export", "k8s", "--out", other, "-o", join(dir, "clash.yaml")], dir);
    assert.equal(again.code, 2);
    assert.match(
      again.stderr,
      /plugin (Foo_Bar|foo-bar): its Kubernetes name mcp-plugin-foo-bar is already the name of plugin (Foo_Bar|foo-bar)/,
    );
    const namespace = cli(["export", "k8s", "--out", tree, "--namespace", "Bad_NS"], dir);
    assert.equal(namespace.code, 2);
    assert.match(namespace.stderr, /--namespace: "Bad_NS"/);
  });

  it("kubernetesName lower-cases, replaces, cuts to 63 and reports each change", () => {
    assert.deepEqual(kubernetesName("mcp-plugin-DenyList", "x"), {
      name: "mcp-plugin-denylist",
      changes: ["lower-cased"],
    });
    const long = kubernetesName(`mcp-plugin-${"a".repeat(60)}`, "x");
    assert.equal(long.name.length, 63);
    assert.deepEqual(long.changes, ["cut to 63 characters"]);
    assert.throws(() => kubernetesName("___", "plugin ___"), /plugin ___: "___" cannot become a Kubernetes name/);
  });
});

describe("export istio: the plug-in CA from the tree's intermediate", () => {
  const dir = tempDir();

  it("without an intermediate CA it is exit 2 and says to run ca --intermediate", () => {
    const tree = join(dir, "root-only");
    assert.equal(cli(["ca", "--out", tree, "--key-type", "ecdsa-p256", "-q"], dir).code, 0);
    const r = cli(["export", "istio", "--out", tree], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no intermediate CA[\s\S]*mtls-certs ca --intermediate/);
    assert.equal(r.stdout, "");
  });

  it("cacerts holds the intermediate, its key, the root and the chain, which openssl verifies; the gateway gets STRICT mTLS", () => {
    const tree = join(dir, "with-intermediate");
    const made = cli(["ca", "--intermediate", "--out", tree, "--key-type", "ecdsa-p256", "-q"], dir);
    assert.equal(made.code, 0, made.stderr);
    const r = cli(["export", "istio", "--out", tree], dir);
    assert.equal(r.code, 0, r.stderr);
    const objects = parseObjects(r.stdout);
    validateAgainstSchemas(objects);
    const cacerts = objects.find((o) => o.kind === "Secret");
    assert.ok(cacerts);
    assert.deepEqual([cacerts.metadata.name, cacerts.metadata.namespace], ["cacerts", "istio-system"]);
    const intermediate = read(join(tree, "ca/intermediate.crt"));
    const root = read(join(tree, "ca/ca.crt"));
    assert.equal(decoded(cacerts, "ca-cert.pem"), intermediate);
    assert.equal(decoded(cacerts, "ca-key.pem"), read(join(tree, "ca/intermediate.key")));
    assert.equal(decoded(cacerts, "root-cert.pem"), root);
    assert.equal(decoded(cacerts, "cert-chain.pem"), intermediate.trimEnd() + "\n" + root);
    const rootFile = writeFile(join(dir, "root-cert.pem"), decoded(cacerts, "root-cert.pem"));
    const caCert = writeFile(join(dir, "ca-cert.pem"), decoded(cacerts, "ca-cert.pem"));
    const verified = openssl(["verify", "-x509_strict", "-CAfile", rootFile, caCert]);
    assert.equal(verified.code, 0, verified.stderr);
    const peer = objects.find((o) => o.kind === "PeerAuthentication");
    assert.equal(peer?.apiVersion, "security.istio.io/v1beta1");
    assert.deepEqual(peer?.spec, { selector: { matchLabels: { app: "mcp-gateway" } }, mtls: { mode: "STRICT" } });
  });
});

describe("YAML exports: names and paths in the comment header cannot start YAML", () => {
  it("a tree path with a newline is refused by export k8s and export gateway-api (exit 2 naming --out), no YAML", () => {
    const dir = tempDir("mtls-certs-k8s-header-");
    // What an attacker who names the directory would write: a comment ends, a Secret-like object starts.
    const out = join(dir, "x\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: injected}\n#", "mcp");
    const fast = ["--key-type", "ecdsa-p256", "-q"];
    assert.equal(cli(["all", "--out", out, ...fast], dir).code, 0);
    assert.equal(cli(["server", "gw.example.com", "--out", out, ...fast], dir).code, 0);
    for (const args of [
      ["export", "k8s", "--out", out],
      ["export", "gateway-api", "--out", out, "--server", "gw.example.com"],
    ]) {
      const r = cli(args, dir);
      assert.equal(r.code, 2, `${args[1]}: ${r.stderr}`);
      assert.match(r.stderr, /--out: ".*\\napiVersion.*" has a control character or newline/);
      assert.equal(r.stdout, "", `${args[1]}: YAML was printed`);
    }
  });
});
