/**
 * Issue 25 §9: `export k8s --trust-manager` writes a trust-manager Bundle whose sources hold every
 * CA still trusted, before, during and after a CA rotation. Validated with ajv against the
 * openAPIV3Schema of trust-manager's own Bundle CRD (test/fixtures/trust-manager, see its README),
 * and the CAs it hands out checked with openssl verify against the tree's old and new leaves.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse, parseAllDocuments } from "yaml";
import { ROOT, cli, openssl, read, tempDir, writeFile } from "./helpers.js";

interface Bundle {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: {
    sources: Array<Record<string, unknown>>;
    target: { configMap?: { key: string }; namespaceSelector?: { matchLabels: Record<string, string> } };
  };
}

/** The v1alpha1 schema of trust-manager's Bundle CRD, compiled by ajv (x-kubernetes-* keywords ignored). */
function bundleValidator() {
  const crd = parse(read(join(ROOT, "test/fixtures/trust-manager/trust.cert-manager.io_bundles.yaml"))) as {
    spec: {
      group: string;
      names: { kind: string };
      versions: Array<{ name: string; schema: { openAPIV3Schema: object } }>;
    };
  };
  assert.equal(`${crd.spec.group}/${crd.spec.names.kind}`, "trust.cert-manager.io/Bundle");
  const version = crd.spec.versions.find((v) => v.name === "v1alpha1");
  assert.ok(version, "the CRD serves v1alpha1");
  return new Ajv({ strict: false, allErrors: true }).compile(version.schema.openAPIV3Schema);
}

function bundleOf(yamlText: string): Bundle {
  const bundles = parseAllDocuments(yamlText, { version: "1.1" })
    .map((d) => d.toJS() as Bundle)
    .filter((o) => o?.kind === "Bundle");
  assert.equal(bundles.length, 1, "one Bundle");
  return bundles[0]!;
}

describe("export k8s --trust-manager: a Bundle of every CA still trusted", () => {
  const dir = tempDir("mtls-certs-trust-manager-");
  const tree = join(dir, "certs/mcp");
  const fast = ["--key-type", "ecdsa-p256", "-q"];
  const validate = bundleValidator();
  let oldLeaf: string;

  const exportBundle = (): { bundle: Bundle; stderr: string } => {
    const r = cli(["export", "k8s", "--out", tree, "--trust-manager"], dir);
    assert.equal(r.code, 0, r.stderr);
    return { bundle: bundleOf(r.stdout), stderr: r.stderr };
  };
  const assertValid = (bundle: Bundle) => {
    const ok = validate(bundle);
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
    // The CRD's CEL rule (x-kubernetes-validations, which ajv does not run): exactly one kind per source.
    for (const source of bundle.spec.sources) assert.deepEqual(Object.keys(source), ["inLine"]);
  };
  /** openssl verify -x509_strict of `leaf` against the CAs the Bundle hands out. */
  const verifiesAgainst = (bundle: Bundle, leaf: string) => {
    const cafile = writeFile(join(dir, "bundle-ca.crt"), bundle.spec.sources.map((s) => s.inLine).join(""));
    return openssl(["verify", "-x509_strict", "-CAfile", cafile, leaf]).code === 0;
  };

  before(() => {
    assert.equal(cli(["all", "--out", tree, ...fast], dir).code, 0);
    oldLeaf = writeFile(join(dir, "old-plugin.crt"), read(join(tree, "plugins/example-plugin-a/server.crt")));
  });

  it("the ajv validator from the CRD is real: a source that is not a string fails it", () => {
    const bad = {
      apiVersion: "trust.cert-manager.io/v1alpha1",
      kind: "Bundle",
      metadata: { name: "x" },
      spec: { sources: [{ inLine: 5 }], target: {} },
    };
    assert.equal(validate(bad), false);
  });

  it("one CA: one inLine source, ca/ca.crt; a cluster-scoped Bundle targeting the namespace's ConfigMap", () => {
    const { bundle, stderr } = exportBundle();
    assertValid(bundle);
    assert.equal(bundle.metadata.name, "mcp-ca-bundle");
    assert.equal(bundle.metadata.namespace, undefined, "Bundle is cluster-scoped");
    assert.deepEqual(bundle.spec.target, {
      configMap: { key: "ca.crt" },
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mcp-gateway" } },
    });
    assert.deepEqual(
      bundle.spec.sources.map((s) => s.inLine),
      [read(join(tree, "ca/ca.crt"))],
    );
    assert.ok(verifiesAgainst(bundle, oldLeaf));
    assert.match(stderr, /Bundle mcp-ca-bundle .* with 1 CA\(s\)/);
  });

  it("during a rotation both CAs are sources: old and new leaves verify against it; after finishing, the new CA alone", () => {
    const renew = cli(["renew", "--ca", "--out", tree, ...fast], dir);
    assert.equal(renew.code, 0, renew.stdout + renew.stderr);
    const newLeaf = join(tree, "plugins/example-plugin-a/server.crt");
    assert.notEqual(read(newLeaf), read(oldLeaf), "renew --ca re-issued the leaf");
    const during = exportBundle().bundle;
    assertValid(during);
    assert.equal(during.spec.sources.length, 2);
    const sources = during.spec.sources.map((s) => s.inLine as string);
    const newCa = read(join(tree, "ca/ca.crt"));
    const oldCa = read(join(tree, "ca/previous/ca.crt"));
    for (const ca of [newCa, oldCa]) {
      const first = `${ca.split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`;
      assert.ok(sources.includes(first), "each CA still trusted is a source");
    }
    assert.ok(verifiesAgainst(during, oldLeaf), "a leaf of the old CA still verifies");
    assert.ok(verifiesAgainst(during, newLeaf), "a leaf of the new CA verifies");

    assert.equal(cli(["ca", "--finish-rotation", "--out", tree], dir).code, 0);
    const after = exportBundle().bundle;
    assertValid(after);
    assert.equal(after.spec.sources.length, 1);
    assert.ok(verifiesAgainst(after, newLeaf));
    assert.equal(verifiesAgainst(after, oldLeaf), false, "the old CA is no longer handed out");
  });
});
