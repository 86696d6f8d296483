/**
 * Issue 25 item 8: `cforge gateway` writes PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME=false into both
 * manifests it renders, whatever the stack asks. `export hostname-checks` writes the Compose
 * override and the kustomize patch that turn the check on; here they are applied to the builder's
 * rendered output (test/fixtures/cforge-rendered, written from its templates) the way the tools
 * apply them, and the value the gateway then gets is read back.
 *
 * Neither tool runs here: the Compose plugin is not installed (`docker compose` is an unknown
 * command) and `kubectl kustomize` is not either. So the merges run in Python with PyYAML (a YAML
 * 1.1 reader, as Compose's go-yaml and kubectl's are), following their rules:
 * - Compose (compose-go, override/merge.go `mergeEnvironment`): each file's `environment` becomes a
 *   list of KEY=value (a mapping sorted by key), the override's list is appended after the base's,
 *   and the list becomes the container's variables in order, a later KEY replacing an earlier one.
 * - kustomize: a strategic-merge patch applies to the object with the same kind, name and
 *   namespace; `containers` and a container's `env` merge by `name` (their patchMergeKey), so the
 *   patch's entry replaces the rendered entry's value. In a container, `env` wins over `envFrom`.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { cli, ROOT, tempDir, writeFile } from "./helpers.js";

const RENDERED = join(ROOT, "test", "fixtures", "cforge-rendered");
const VARIABLE = "PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME";

const APPLY = `
import json, sys, yaml

def compose_sequence(environment):
    if isinstance(environment, dict):
        return sorted(k if v is None else "%s=%s" % (k, v) for k, v in environment.items())
    return list(environment or [])

def compose_effective(base_file, override_files, service):
    entries = []
    for f in [base_file] + override_files:
        doc = yaml.safe_load(open(f))
        svc = (doc.get("services") or {}).get(service)
        if svc is not None:
            entries += compose_sequence(svc.get("environment"))
    variables = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        variables[key] = value if sep else None
    return variables

def merge_by_name(base, patch):
    out = [dict(e) for e in base]
    for p in patch:
        match = next((e for e in out if e.get("name") == p.get("name")), None)
        if match is None:
            out.append(p)
        else:
            out[out.index(match)] = strategic(match, p)
    return out

def strategic(base, patch):
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for k, v in patch.items():
            if k in ("containers", "env") and isinstance(v, list):
                merged[k] = merge_by_name(base.get(k) or [], v)
            elif k in merged:
                merged[k] = strategic(merged[k], v)
            else:
                merged[k] = v
        return merged
    return patch

def same_object(a, b):
    key = lambda o: (o.get("apiVersion"), o.get("kind"), o["metadata"].get("name"), o["metadata"].get("namespace"))
    return key(a) == key(b)

def kustomize(rendered_file, patch_files):
    objects = [o for o in yaml.safe_load_all(open(rendered_file)) if o]
    patches = [p for f in patch_files for p in yaml.safe_load_all(open(f)) if p]
    for patch in patches:
        targets = [i for i, o in enumerate(objects) if same_object(o, patch)]
        if len(targets) != 1:
            sys.exit("patch %s/%s matches %d objects" % (patch["kind"], patch["metadata"]["name"], len(targets)))
        objects[targets[0]] = strategic(objects[targets[0]], patch)
    return objects

def effective_env(objects, deployment, container):
    d = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == deployment)
    c = next(c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == container)
    variables = {}
    for source in c.get("envFrom") or []:
        secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == source["secretRef"]["name"])
        variables.update(secret.get("stringData") or {})
    for e in c.get("env") or []:
        variables[e["name"]] = e.get("value")
    return d, variables

args = json.loads(sys.argv[1])
compose = compose_effective(args["compose"], args["composeOverrides"], "mcpgateway")
objects = kustomize(args["kubernetes"], args["patches"])
deployment, k8s = effective_env(objects, "mcpgateway", "mcpgateway")
print(json.dumps({"compose": compose, "kubernetes": k8s, "deployment": deployment}))
`;

interface Applied {
  compose: Record<string, unknown>;
  kubernetes: Record<string, unknown>;
  deployment: Record<string, unknown>;
}

/** The model run on the rendered fixtures (Debian's python3: it has PyYAML). */
function runModel(dir: string, composeOverrides: string[], patches: string[]): SpawnSyncReturns<string> {
  const script = join(dir, "apply.py");
  writeFile(script, APPLY);
  const args = {
    compose: join(RENDERED, "docker-compose.yaml"),
    kubernetes: join(RENDERED, "gateway-deployment.yaml"),
    composeOverrides,
    patches,
  };
  return spawnSync("python3", [script, JSON.stringify(args)], { encoding: "utf8" });
}

function applyAsTheToolsDo(dir: string, composeOverrides: string[], patches: string[]): Applied {
  const run = runModel(dir, composeOverrides, patches);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Applied;
}

describe("export hostname-checks over what cforge rendered", () => {
  const dir = tempDir();
  const override = join(dir, "docker-compose.override.yml");
  const patch = join(dir, "hostname-checks.yaml");

  before(() => {
    const compose = cli(["export", "hostname-checks", "-o", override], dir);
    assert.equal(compose.code, 0, compose.stderr);
    const kustomize = cli(["export", "hostname-checks", "--format", "kustomize", "-o", patch], dir);
    assert.equal(kustomize.code, 0, kustomize.stderr);
  });

  it("the rendered manifests alone give the gateway false, though the stack asked for true", () => {
    const applied = applyAsTheToolsDo(dir, [], []);
    assert.equal(applied.compose[VARIABLE], "false");
    assert.equal(applied.kubernetes[VARIABLE], "false");
  });

  it("with the override and the patch, the gateway gets the string true in Compose and Kubernetes", () => {
    const applied = applyAsTheToolsDo(dir, [override], [patch]);
    assert.equal(applied.compose[VARIABLE], "true");
    assert.equal(applied.kubernetes[VARIABLE], "true");
    // The patch changed that one entry, nothing else of the container.
    const container = (applied.deployment as { spec: { template: { spec: { containers: unknown[] } } } }).spec.template
      .spec.containers[0] as { env: Array<{ name: string }>; envFrom: unknown[] };
    assert.deepEqual(
      container.env.map((e) => e.name),
      [
        "PLUGINS_CLIENT_MTLS_CA_BUNDLE",
        "PLUGINS_CLIENT_MTLS_CERTFILE",
        "PLUGINS_CLIENT_MTLS_KEYFILE",
        "PLUGINS_CLIENT_MTLS_VERIFY",
        VARIABLE,
      ],
    );
    assert.equal(container.envFrom.length, 1);
    // The patched Deployment is still a valid apps/v1 Deployment.
    new Deployment(applied.deployment as ConstructorParameters<typeof Deployment>[0]).validate();
  });

  it("a patch for another namespace matches nothing: kustomize would refuse it, and so does the model", () => {
    const elsewhere = join(dir, "elsewhere.yaml");
    const run = cli(
      ["export", "hostname-checks", "--format", "kustomize", "--namespace", "other", "-o", elsewhere],
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    const model = runModel(dir, [], [elsewhere]);
    assert.notEqual(model.status, 0);
    assert.match(model.stderr, /matches 0 objects/);
  });

  it("every value is a string under YAML 1.1 and 1.2: the true stays a string, not a boolean", () => {
    for (const file of [override, patch]) {
      for (const version of ["1.1", "1.2"] as const) {
        const docs = parseAllDocuments(readFileSync(file, "utf8"), { version });
        assert.ok(Array.isArray(docs));
        const objects = docs.map((d) => d.toJS() as Record<string, unknown>).filter((o) => o !== null);
        assert.equal(objects.length, 1, `${file}: one document`);
        const found: unknown[] = [];
        JSON.stringify(objects[0], (key, value: unknown) => {
          if (key === VARIABLE || key === "value") found.push(value);
          return value;
        });
        assert.deepEqual(found, ["true"], `${file} as YAML ${version}`);
      }
    }
  });

  it("bad input is exit 2 naming the flag", () => {
    const format = cli(["export", "hostname-checks", "--format", "helm"], dir);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format: "helm"/);
    const namespace = cli(["export", "hostname-checks", "--format", "kustomize", "--namespace", "Bad_NS"], dir);
    assert.equal(namespace.code, 2);
    assert.match(namespace.stderr, /--namespace/);
    const composeNamespace = cli(["export", "hostname-checks", "--namespace", "mcp-gateway"], dir);
    assert.equal(composeNamespace.code, 2);
    assert.match(composeNamespace.stderr, /only with --format kustomize/);
  });
});
