/**
 * export gateway-api: every object validates against the real schemas (kubernetes-models 5 for
 * Secret and ConfigMap, @kubernetes-models/gateway-api 2 = Gateway API v1.5.1 CRDs for Gateway,
 * HTTPRoute, TLSRoute and BackendTLSPolicy); Envoy Gateway's ClientTrafficPolicy, which has no
 * model package, is checked against the field names of Envoy Gateway v1.8.3's API types. The
 * Secret and ConfigMap carry the tree's bytes, and those bytes work: a TLS server built from them
 * accepts curl with a client cert of the tree and refuses curl without one (seed 001).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { BackendTLSPolicy } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicy";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { TLSRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/TLSRoute";
import type { IBackendTLSPolicySpec } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicySpec";
import type { IGatewaySpec } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewaySpec";
import type { IHTTPRouteSpec } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRouteSpec";
import type { ITLSRouteSpec } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/TLSRouteSpec";
import { MtlsError } from "../src/errors.js";
import { exportGatewayApi, type GatewayApiExportOptions } from "../src/export/gateway-api.js";
import { cli, openssl, read, runAsync, tempDir, verifyStrict, writeFile, type Run } from "./helpers.js";

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: YAML read back as plain data; each test asserts the shape it reads
  spec?: any;
}

const HOST = "secure.example.com";
// The default: the gateway's namespace, as its deploy tooling names it.
const NAMESPACE = "mcp-gateway";
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const EC = ["--key-type", "ecdsa-p256", "-q"];

/** The model class of each kind: `.validate()` checks the object against the published JSON schema. */
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  "v1/Secret": Secret,
  "v1/ConfigMap": ConfigMap,
  "gateway.networking.k8s.io/v1/Gateway": Gateway,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
  "gateway.networking.k8s.io/v1/TLSRoute": TLSRoute,
  "gateway.networking.k8s.io/v1/BackendTLSPolicy": BackendTLSPolicy,
};

/**
 * Envoy Gateway v1.8.3's ClientTrafficPolicy, the fields this export may write, transcribed from
 * envoyproxy/gateway api/v1alpha1 at tag v1.8.3: clienttrafficpolicy_types.go (ClientTrafficPolicy,
 * ClientTrafficPolicySpec), policy_helpers.go (PolicyTargetReferences), tls_types.go
 * (ClientTLSSettings, ClientValidationContext) and Gateway API's LocalPolicyTargetReferenceWithSectionName
 * and SecretObjectReference. `true` marks a field the API requires.
 */
type Shape = { [field: string]: boolean | Shape | [Shape] };
const CLIENT_TRAFFIC_POLICY: Shape = {
  apiVersion: true,
  kind: true,
  metadata: { name: true, namespace: false },
  spec: {
    targetRefs: [{ group: true, kind: true, name: true, sectionName: false }],
    tls: {
      clientValidation: {
        optional: false,
        mode: false,
        caCertificateRefs: [{ group: false, kind: false, name: true, namespace: false }],
      },
    },
  },
};

/** Every field of `value` is one `shape` names, and every required one is there. */
function checkShape(value: unknown, shape: Shape, path: string): void {
  assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), `${path} is an object`);
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) assert.ok(key in shape, `${path}.${key} is not a field of the API`);
  for (const [key, rule] of Object.entries(shape)) {
    const field = object[key];
    if (rule === true) assert.ok(field !== undefined, `${path}.${key} is required`);
    if (field === undefined || typeof rule === "boolean") continue;
    if (Array.isArray(rule)) {
      assert.ok(Array.isArray(field) && field.length > 0, `${path}.${key} is a non-empty list`);
      for (const [i, item] of field.entries()) checkShape(item, rule[0], `${path}.${key}[${i}]`);
    } else checkShape(field, rule, `${path}.${key}`);
  }
}

function parseObjects(text: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  assert.ok(Array.isArray(docs), "parses as a stream of documents");
  for (const doc of docs) assert.deepEqual(doc.errors, [], "each document parses");
  return docs.map((d) => d.toJS() as K8sObject).filter((o) => o !== null);
}

/** apiVersion, kind, a valid name in the namespace, and the real schema (or the transcribed one). */
function validate(objects: K8sObject[]): void {
  for (const o of objects) {
    const what = `${o.kind}/${o.metadata?.name}`;
    assert.match(o.metadata.name, K8S_NAME, what);
    assert.ok(o.metadata.name.length <= 63, what);
    assert.equal(o.metadata.namespace, NAMESPACE, what);
    if (o.kind === "ClientTrafficPolicy") {
      assert.equal(o.apiVersion, "gateway.envoyproxy.io/v1alpha1");
      checkShape(o, CLIENT_TRAFFIC_POLICY, "ClientTrafficPolicy");
      continue;
    }
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    assert.ok(Model, `${o.apiVersion} ${o.kind} has a model`);
    assert.doesNotThrow(() => new Model(o as never).validate(), what);
  }
}

/**
 * A TLS server on loopback that requires a client cert verifying against `server.ca` and answers
 * "hello <client CN>"; curl to it as `host` (verifying the server against `caFile`), first with
 * `clientCert` ([cert, key] files), then without one.
 */
async function curlAgainst(
  server: { cert: string; key: string; ca: string },
  host: string,
  caFile: string,
  clientCert: [string, string],
): Promise<[Run, Run]> {
  const https: Server = createServer({ ...server, requestCert: true, rejectUnauthorized: true }, (req, res) =>
    res.end(`hello ${(req.socket as TLSSocket).getPeerCertificate().subject?.CN}\n`),
  );
  https.on("tlsClientError", () => undefined);
  await new Promise<void>((res) => https.listen(0, "127.0.0.1", res));
  try {
    const { port } = https.address() as AddressInfo;
    const curl = (cert: string[]) =>
      runAsync("curl", [
        ...["-sS", "--fail", "--max-time", "10", "--resolve", `${host}:${port}:127.0.0.1`, "--cacert", caFile],
        ...cert,
        `https://${host}:${port}/`,
      ]);
    return [await curl(["--cert", clientCert[0], "--key", clientCert[1]]), await curl([])];
  } finally {
    https.close();
  }
}

const decoded = (o: K8sObject | undefined, key: string) => Buffer.from(o?.data?.[key] ?? "", "base64").toString("utf8");

describe("export gateway-api: Gateway API v1.5 objects from a named server and the tree's CA", () => {
  const dir = tempDir();
  const tree = join(dir, "certs/mcp");
  const server = join(tree, "servers", HOST);
  const run = (extra: string[] = []) => cli(["export", "gateway-api", "--out", tree, "--server", HOST, ...extra], dir);
  let objects: K8sObject[];
  const find = (list: K8sObject[], kind: string) => {
    const found = list.find((o) => o.kind === kind);
    assert.ok(found, `a ${kind} is in the output`);
    return found;
  };

  before(() => {
    for (const args of [
      ["server", HOST],
      ["server", "backend.mcp-system.svc"],
      ["client", "alice"],
      ["client", "edge-proxy"],
    ]) {
      const r = cli([...args, "--out", tree, ...EC], dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const out = join(dir, "gateway.yaml");
    const r = run(["-o", out, "--backend-hostname", "backend.mcp-system.svc", "--backend-client", "edge-proxy"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600, "it holds the server's key");
    objects = parseObjects(read(out));
  });

  it("Terminate: Secrets, ConfigMap, Gateway, HTTPRoute and BackendTLSPolicy, each valid against its schema", () => {
    assert.deepEqual(
      objects.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`),
      [
        "v1 Secret/mcp-gateway-tls",
        "v1 Secret/mcp-gateway-backend-client",
        "v1 ConfigMap/mcp-gateway-ca",
        "gateway.networking.k8s.io/v1 Gateway/mcp-gateway",
        "gateway.networking.k8s.io/v1 HTTPRoute/mcp-gateway",
        "gateway.networking.k8s.io/v1 BackendTLSPolicy/mcp-gateway-backend-tls",
      ],
    );
    validate(objects);
  });

  it("the schemas can fail: a listener without a port and a CA reference without a group are refused", () => {
    const gateway = structuredClone(find(objects, "Gateway"));
    delete gateway.spec.listeners[0].port;
    assert.throws(() => new Gateway(gateway as never).validate(), /port/);
    const again = structuredClone(find(objects, "Gateway"));
    delete again.spec.tls.frontend.default.validation.caCertificateRefs[0].group;
    assert.throws(() => new Gateway(again as never).validate(), /group/);
    const policy = structuredClone(find(objects, "BackendTLSPolicy"));
    delete policy.spec.validation.hostname;
    assert.throws(() => new BackendTLSPolicy(policy as never).validate(), /hostname/);
  });

  it("the Secret is kubernetes.io/tls with the server's cert and key; the ConfigMap's ca.crt is the tree's CA", () => {
    const secret = find(objects, "Secret");
    assert.equal(secret.type, "kubernetes.io/tls");
    assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ["tls.crt", "tls.key"]);
    assert.equal(decoded(secret, "tls.crt"), read(join(server, "server.crt")));
    assert.equal(decoded(secret, "tls.key"), read(join(server, "server.key")));
    const configMap = find(objects, "ConfigMap");
    assert.deepEqual(configMap.data, { "ca.crt": read(join(server, "ca.crt")) });
    assert.equal(read(join(server, "ca.crt")), read(join(tree, "ca/ca.crt")));
  });

  it("the Gateway terminates HTTPS for the host with the Secret and requires client certs from the ConfigMap", () => {
    // The expected specs are typed with the models' interfaces: a field Gateway API v1.5 lacks does not compile
    // (the JSON schemas let unknown fields through; kubectl's strict field validation would not).
    const expected: IGatewaySpec = {
      gatewayClassName: "eg",
      listeners: [
        {
          name: "https",
          protocol: "HTTPS",
          port: 443,
          hostname: HOST,
          tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "mcp-gateway-tls" }] },
        },
      ],
      // Gateway API v1.5: spec.tls.frontend.default.validation (FrontendTLSValidation), Core: a ConfigMap's ca.crt.
      tls: {
        frontend: {
          default: {
            validation: {
              caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "mcp-gateway-ca" }],
              mode: "AllowValidOnly",
            },
          },
        },
        // --backend-client: the client cert the Gateway presents to backends.
        backend: { clientCertificateRef: { group: "", kind: "Secret", name: "mcp-gateway-backend-client" } },
      },
    };
    assert.deepEqual(find(objects, "Gateway").spec, expected);
    const route: IHTTPRouteSpec = {
      parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway", sectionName: "https" }],
      hostnames: [HOST],
      rules: [{ backendRefs: [{ group: "", kind: "Service", name: "mcp-gateway", port: 4444 }] }],
    };
    assert.deepEqual(find(objects, "HTTPRoute").spec, route);
  });

  it("curl with alice's client cert gets through a TLS server built from the Secret and ConfigMap; without one it is refused", async () => {
    const secret = find(objects, "Secret");
    const caFile = writeFile(join(dir, "from-configmap/ca.crt"), find(objects, "ConfigMap").data?.["ca.crt"] ?? "");
    // What the Gateway does with them: serve tls.crt/tls.key, require a client cert that verifies against ca.crt.
    const alice = join(tree, "clients/alice");
    const [withCert, without] = await curlAgainst(
      { cert: decoded(secret, "tls.crt"), key: decoded(secret, "tls.key"), ca: read(caFile) },
      HOST,
      caFile,
      [join(alice, "client.crt"), join(alice, "client.key")],
    );
    assert.equal(withCert.code, 0, withCert.stderr);
    assert.equal(withCert.stdout, "hello alice\n");
    assert.notEqual(without.code, 0, "no client cert: the handshake is refused");
    assert.match(without.stderr, /certificate required/);
    assert.equal(without.stdout, "");
  });

  it("--backend-client: the Gateway's client cert for the backend (spec.tls.backend) gets through a backend that requires one", async () => {
    const clientSecret = objects.find((o) => o.metadata.name === "mcp-gateway-backend-client");
    assert.equal(clientSecret?.type, "kubernetes.io/tls");
    assert.equal(decoded(clientSecret, "tls.crt"), read(join(tree, "clients/edge-proxy/client.crt")));
    assert.equal(decoded(clientSecret, "tls.key"), read(join(tree, "clients/edge-proxy/client.key")));
    // The backend: its own server cert from the tree, requiring client certs from the same CA.
    const backend = join(tree, "servers/backend.mcp-system.svc");
    const caFile = writeFile(join(dir, "backend-hop/ca.crt"), find(objects, "ConfigMap").data?.["ca.crt"] ?? "");
    const certFile = writeFile(join(dir, "backend-hop/tls.crt"), decoded(clientSecret, "tls.crt"));
    const keyFile = writeFile(join(dir, "backend-hop/tls.key"), decoded(clientSecret, "tls.key"));
    const [withCert, without] = await curlAgainst(
      { cert: read(join(backend, "server.crt")), key: read(join(backend, "server.key")), ca: read(caFile) },
      "backend.mcp-system.svc",
      caFile,
      [certFile, keyFile],
    );
    assert.equal(withCert.code, 0, withCert.stderr);
    assert.equal(withCert.stdout, "hello edge-proxy\n");
    assert.notEqual(without.code, 0);
  });

  it("the BackendTLSPolicy checks the backend's cert with the ConfigMap's CA for its hostname (openssl verify agrees)", () => {
    const policy: IBackendTLSPolicySpec = {
      targetRefs: [{ group: "", kind: "Service", name: "mcp-gateway" }],
      validation: {
        caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "mcp-gateway-ca" }],
        hostname: "backend.mcp-system.svc",
      },
    };
    assert.deepEqual(find(objects, "BackendTLSPolicy").spec, policy);
    const caFile = writeFile(join(dir, "backend/ca.crt"), find(objects, "ConfigMap").data?.["ca.crt"] ?? "");
    const backendCert = join(tree, "servers/backend.mcp-system.svc/server.crt");
    const verify = (host: string) =>
      verifyStrict(caFile, backendCert, ["-purpose", "sslserver", "-verify_hostname", host]);
    assert.equal(verify("backend.mcp-system.svc").code, 0, verify("backend.mcp-system.svc").stderr);
    assert.notEqual(verify("other.mcp-system.svc").code, 0, "a hostname the cert lacks fails");
  });

  it("--passthrough: a TLS listener in Passthrough mode and a TLSRoute; the same Secret and ConfigMap for the backend", () => {
    const r = run(["--passthrough", "--port", "8443", "--backend", "mtls-backend:9443"]);
    assert.equal(r.code, 0, r.stderr);
    const passthrough = parseObjects(r.stdout);
    assert.deepEqual(
      passthrough.map((o) => `${o.kind}/${o.metadata.name}`),
      ["Secret/mcp-gateway-tls", "ConfigMap/mcp-gateway-ca", "Gateway/mcp-gateway", "TLSRoute/mcp-gateway"],
    );
    validate(passthrough);
    const gateway: IGatewaySpec = {
      gatewayClassName: "eg",
      listeners: [
        { name: "tls-passthrough", protocol: "TLS", port: 8443, hostname: HOST, tls: { mode: "Passthrough" } },
      ],
    };
    // No spec.tls: a Passthrough listener never sees the client's cert.
    assert.deepEqual(find(passthrough, "Gateway").spec, gateway);
    assert.equal(find(passthrough, "TLSRoute").apiVersion, "gateway.networking.k8s.io/v1");
    const route: ITLSRouteSpec = {
      parentRefs: [
        { group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway", sectionName: "tls-passthrough" },
      ],
      hostnames: [HOST],
      rules: [{ backendRefs: [{ group: "", kind: "Service", name: "mtls-backend", port: 9443 }] }],
    };
    assert.deepEqual(find(passthrough, "TLSRoute").spec, route);
    assert.deepEqual(find(passthrough, "Secret").data, find(objects, "Secret").data);
    assert.deepEqual(find(passthrough, "ConfigMap").data, find(objects, "ConfigMap").data);
  });

  it("--envoy-gateway: a ClientTrafficPolicy with tls.clientValidation.caCertificateRefs instead of spec.tls.frontend", () => {
    const r = run([
      "--envoy-gateway",
      "--name",
      "edge",
      "--namespace",
      NAMESPACE,
      "--gateway-class",
      "envoy-gateway.example",
      "--hostname",
      HOST,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const envoy = parseObjects(r.stdout);
    validate(envoy);
    assert.deepEqual(
      envoy.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        "Secret/edge-tls",
        "ConfigMap/edge-ca",
        "Gateway/edge",
        "HTTPRoute/edge",
        "ClientTrafficPolicy/edge-client-validation",
      ],
    );
    const gateway = find(envoy, "Gateway");
    assert.equal(gateway.spec.gatewayClassName, "envoy-gateway.example");
    assert.equal(gateway.spec.tls, undefined, "one place validates client certs");
    assert.deepEqual(find(envoy, "ClientTrafficPolicy").spec, {
      targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "edge", sectionName: "https" }],
      tls: { clientValidation: { caCertificateRefs: [{ group: "", kind: "ConfigMap", name: "edge-ca" }] } },
    });
    // The transcribed shape can fail: a misspelt field is caught.
    const misspelt = structuredClone(find(envoy, "ClientTrafficPolicy"));
    misspelt.spec.tls.clientValidation.caCertificateRef = misspelt.spec.tls.clientValidation.caCertificateRefs;
    assert.throws(() => checkShape(misspelt, CLIENT_TRAFFIC_POLICY, "ClientTrafficPolicy"), /caCertificateRef is not/);
  });

  it("every string that lands in the YAML is checked first: bad input is an MtlsError with exit 2", async () => {
    const bad: Array<[Partial<GatewayApiExportOptions>, RegExp]> = [
      [{ namespace: "Bad_NS" }, /--namespace: "Bad_NS"/],
      [{ name: "edge\nkind: Secret" }, /--name: "edge\\nkind: Secret" is not a Kubernetes name/],
      [{ name: "x".repeat(50) }, /--name: .* is too long/],
      [{ gatewayClass: "eg\u0007" }, /--gateway-class: "eg\\u0007" is not a GatewayClass name/],
      [{ hostname: "Secure.Example.com" }, /--hostname: "Secure\.Example\.com" is not a hostname/],
      [{ hostname: "127.0.0.1" }, /--hostname: "127\.0\.0\.1" is not a hostname/],
      [{ hostname: "secure.example.com\n" }, /--hostname: "secure\.example\.com\\n" is not a hostname/],
      [{ hostname: "other.example.com" }, /other\.example\.com is not a name of .*server\.crt/],
      [{ port: "0" }, /--port/],
      [{ port: "https" }, /--port/],
      [{ backend: "svc:99999" }, /--backend: "svc:99999" is not NAME:PORT/],
      [{ backendHostname: "*.mcp-system.svc" }, /--backend-hostname: .* is not a hostname/],
      [{ passthrough: true, envoyGateway: true }, /--passthrough and --envoy-gateway/],
      [{ passthrough: true, backendHostname: "b.example" }, /--passthrough and --backend-hostname/],
      [{ backendClient: "edge-proxy" }, /--backend-client without --backend-hostname/],
      [{ backendClient: "nobody", backendHostname: "b.example" }, /--backend-client nobody: no certificate yet/],
      [{ server: "nope.example.com" }, /--server nope\.example\.com: no certificate yet/],
    ];
    for (const [options, message] of bad)
      await assert.rejects(
        exportGatewayApi({ tree, server: HOST, ...options }),
        (e: unknown) => e instanceof MtlsError && e.exitCode === 2 && message.test(e.message),
        JSON.stringify(options),
      );
    // Through the command line: exit 2, the reason on stderr, nothing on stdout.
    const r = run(["--name", "edge\nkind: Secret"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--name: "edge\\nkind: Secret" is not a Kubernetes name/);
    assert.equal(r.stdout, "");
  });
});

describe("export gateway-api under an intermediate CA", () => {
  it("tls.crt is the server cert then the intermediate: openssl verifies it against the root alone, which fails without", () => {
    const dir = tempDir();
    const tree = join(dir, "certs/mcp");
    for (const args of [
      ["ca", "--intermediate"],
      ["server", HOST],
    ]) {
      const r = cli([...args, "--out", tree, ...EC], dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    }
    const r = cli(["export", "gateway-api", "--out", tree, "--server", HOST], dir);
    assert.equal(r.code, 0, r.stderr);
    const objects = parseObjects(r.stdout);
    validate(objects);
    const secret = objects.find((o) => o.kind === "Secret");
    const leaf = read(join(tree, "servers", HOST, "server.crt"));
    const intermediate = read(join(tree, "ca/intermediate.crt"));
    // server.crt already carries the intermediate (a leaf under an intermediate does): tls.crt is it, once.
    assert.equal(decoded(secret, "tls.crt"), leaf);
    assert.ok(leaf.includes(intermediate) && leaf.indexOf(intermediate) === leaf.lastIndexOf(intermediate));
    const untrusted = writeFile(join(dir, "presented-chain.crt"), decoded(secret, "tls.crt"));
    const leafOnly = writeFile(
      join(dir, "leaf-only.crt"),
      `${leaf.split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`,
    );
    const root = join(tree, "ca/ca.crt");
    const verify = (extra: string[]) => verifyStrict(root, leafOnly, ["-purpose", "sslserver", ...extra]);
    assert.equal(verify(["-untrusted", untrusted]).code, 0, verify(["-untrusted", untrusted]).stderr);
    assert.notEqual(verify([]).code, 0, "the root alone cannot verify the leaf: the intermediate in tls.crt is needed");
    // The ConfigMap carries the whole chain, so client certs from the intermediate verify too.
    assert.equal(
      objects.find((o) => o.kind === "ConfigMap")?.data?.["ca.crt"],
      read(join(tree, "servers", HOST, "ca.crt")),
    );
  });
});

describe("export gateway-api with an encrypted server key", () => {
  it("needs the passphrase (exit 2 without), then the Secret holds the key decrypted, the pair of the cert", () => {
    const dir = tempDir();
    const tree = join(dir, "certs/mcp");
    const made = cli(["server", HOST, "--out", tree, ...EC, "--key-passphrase-env", "PW"], dir, { PW: "open-sesame" });
    assert.equal(made.code, 0, made.stderr);
    assert.match(read(join(tree, "servers", HOST, "server.key")), /ENCRYPTED PRIVATE KEY/);
    const without = cli(["export", "gateway-api", "--out", tree, "--server", HOST], dir);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /server\.key: the key is encrypted and a Gateway cannot open an encrypted key/);
    assert.equal(without.stdout, "");
    const r = cli(["export", "gateway-api", "--out", tree, "--server", HOST, "--key-passphrase-env", "PW"], dir, {
      PW: "open-sesame",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /server\.key is encrypted: mcp-gateway-tls holds it decrypted/);
    const secret = parseObjects(r.stdout).find((o) => o.kind === "Secret");
    const key = decoded(secret, "tls.key");
    assert.doesNotMatch(key, /ENCRYPTED/);
    // openssl opens it with no passphrase, and it is the private half of tls.crt.
    const publicFromKey = openssl(["pkey", "-pubout", "-passin", "pass:"], key);
    assert.equal(publicFromKey.code, 0, publicFromKey.stderr);
    assert.equal(publicFromKey.stdout, openssl(["x509", "-noout", "-pubkey"], decoded(secret, "tls.crt")).stdout);
  });
});
