/**
 * Every YAML export, read as kubectl reads it: YAML 1.1, where a plain `on`, `off`, `yes`, `no`,
 * `y`, `n`, a number, `null` or `~` is not a string. `export k8s --namespace mcp-gateway | kubectl
 * apply -f -` failed on `auth-tls-verify-client: on` ("cannot unmarshal bool into ... annotations").
 * The tree's plugins, server and namespaces are named with those very words, so every place a
 * name lands (metadata, labels, annotations, dnsNames, hosts, data) is tried.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { plainStaysString } from "../src/export/yaml.js";
import { cli, pluginConfig, tempDir, writeFile } from "./helpers.js";

/** Words YAML 1.1 or 1.2 reads as something else than a string, when written plain. */
const TRICKY = [
  "on",
  "off",
  "yes",
  "no",
  "y",
  "n",
  "Y",
  "NO",
  "null",
  "~",
  "1",
  "0x1f",
  "0o17",
  "1_000",
  "12:30",
  "1e3",
  ".inf",
];

function documents(text: string, version: "1.1" | "1.2"): unknown[] {
  const docs = parseAllDocuments(text, { version });
  assert.ok(Array.isArray(docs), "parses as a stream of documents");
  for (const doc of docs) assert.deepEqual(doc.errors, [], `YAML ${version}: each document parses`);
  return docs.map((d) => d.toJS() as unknown).filter((o) => o !== null);
}

/** Every annotation, label, data and stringData value, and every string field, must be a string. */
function assertStrings(text: string, what: string): void {
  const v11 = documents(text, "1.1");
  // Read as YAML 1.1 the objects equal what YAML 1.2 reads: no scalar changed type between the two.
  assert.deepEqual(v11, documents(text, "1.2"), `${what}: YAML 1.1 and 1.2 read the same objects`);
  for (const o of v11 as Array<Record<string, unknown>>) {
    const metadata = (o.metadata ?? {}) as Record<string, unknown>;
    const maps: Array<[string, unknown]> = [
      ["metadata.annotations", metadata.annotations],
      ["metadata.labels", metadata.labels],
      ["data", o.data],
      ["stringData", o.stringData],
    ];
    for (const [field, map] of maps) {
      if (map === undefined) continue;
      for (const [key, value] of Object.entries(map as Record<string, unknown>))
        assert.equal(typeof value, "string", `${what}: ${String(o.kind)} ${field}.${key} is ${JSON.stringify(value)}`);
    }
    for (const field of ["name", "namespace"])
      if (field in metadata)
        assert.equal(typeof metadata[field], "string", `${what}: metadata.${field} ${JSON.stringify(metadata[field])}`);
  }
}

describe("YAML exports stay strings under YAML 1.1 (kubectl's reading)", () => {
  const dir = tempDir("mtls-certs-yaml11-");
  const tree = join(dir, "certs/mcp");
  const fast = ["--key-type", "ecdsa-p256", "-q"];
  const run = (args: string[]) => {
    const r = cli(args, dir);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  before(() => {
    const config = writeFile(
      join(dir, "config.yaml"),
      pluginConfig([
        { name: "on", url: "https://on:8000/mcp" },
        { name: "no", url: "https://no:8000/mcp" },
        { name: "y", url: "https://y:8000/mcp" },
      ]),
    );
    run(["all", "--out", tree, "--config", config, ...fast]);
    writeFile(
      join(dir, "stack.yaml"),
      "deployment:\n  type: kubernetes\n  namespace: yes\nplugins:\n  - name: on\n  - name: y\ncertificates:\n  validity_days: 825\n",
    );
    for (const name of ["yes", "off"]) run(["server", name, "--out", tree, ...fast]);
    run(["client", "null", "--out", tree, ...fast]);
    run(["ca", "--intermediate", "--out", join(dir, "istio"), ...fast]);
  });

  it("plainStaysString quotes every word YAML 1.1 or 1.2 reads as another type", () => {
    for (const word of TRICKY) assert.equal(plainStaysString(word), false, word);
    for (const word of ["mcp-gateway", "true-ish", "mcp-plugin-on", "kubernetes.io/tls"])
      assert.equal(plainStaysString(word), true, word);
  });

  const kinds: Array<[string, () => string[]]> = [
    ["export k8s (defaults)", () => ["export", "k8s", "--out", tree]],
    ["export k8s --namespace on", () => ["export", "k8s", "--out", tree, "--namespace", "on"]],
    [
      "export k8s --ingress --ingress-snippet --server yes --include-ca-key --namespace no",
      () => [
        "export",
        "k8s",
        "--out",
        tree,
        "--ingress",
        "--ingress-snippet",
        "--server",
        "yes",
        "--include-ca-key",
        "--namespace",
        "no",
      ],
    ],
    [
      "export k8s --trust-manager --config (a stack in namespace yes)",
      () => ["export", "k8s", "--out", tree, "--trust-manager", "--config", join(dir, "stack.yaml")],
    ],
    ["export istio --namespace off", () => ["export", "istio", "--out", join(dir, "istio"), "--namespace", "off"]],
    [
      "export gateway-api --server yes",
      () => ["export", "gateway-api", "--out", tree, "--server", "yes", "--namespace", "y"],
    ],
    [
      "export gateway-api --passthrough",
      () => ["export", "gateway-api", "--out", tree, "--server", "off", "--passthrough", "--name", "on"],
    ],
    [
      "export gateway-api --envoy-gateway --backend-hostname --backend-client",
      () => [
        "export",
        "gateway-api",
        "--out",
        tree,
        "--server",
        "yes",
        "--envoy-gateway",
        "--backend-hostname",
        "off",
        "--backend-client",
        "null",
        "--gateway-class",
        "no",
      ],
    ],
    ["export prometheus-rules", () => ["export", "prometheus-rules"]],
    [
      "export prometheus-rules --operator --label release=on --label y=1",
      () => [
        "export",
        "prometheus-rules",
        "--operator",
        "--namespace",
        "yes",
        "--label",
        "release=on",
        "--label",
        "y=1",
      ],
    ],
    ["export env --format compose", () => ["export", "env", "--out", tree, "--plugin", "on", "--format", "compose"]],
    ["export plugin-tls", () => ["export", "plugin-tls", "--out", tree, "--plugin", "no"]],
  ];
  for (const [what, args] of kinds) {
    it(`${what}: every annotation, label and data value is a string`, () => {
      assertStrings(run(args()), what);
    });
  }

  it("the Ingress annotation that broke kubectl is quoted in the text itself", () => {
    const text = run(["export", "k8s", "--out", tree, "--ingress"]);
    assert.match(text, /nginx\.ingress\.kubernetes\.io\/auth-tls-verify-client: "on"/);
  });
});
