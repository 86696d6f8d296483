/**
 * The gateway's deploy config, mcp-stack.yaml (`cforge gateway`): its `certificates:` section
 * says where the tree is and how long certs last, its `deployment:` where the plugins run (hence
 * the hosts the tooling dials). The file is data, often from a repository, so the tree it names
 * must stay inside the project and belong to the project's owner.
 */
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { isMap, isScalar, type Node, type YAMLMap } from "yaml";
import { MtlsError } from "../errors.js";
import { hasControlCharacter } from "../control-characters.js";
import { checkDnsName, parseDays } from "../pki/names.js";
import { DEFAULT_GATEWAY_NAMESPACE, DEFAULT_OUT } from "../defaults.js";
import type { StackCertificates, StackDeployment } from "./config-data.js";
import type { NodeAt, ShapeError } from "./yaml-position.js";
import { directoryOwnershipProblems } from "../store/directory-ownership.js";
import { realDirectory } from "../store/output-file.js";

const TREE_DIRS = { ca_path: "ca", gateway_path: "gateway", plugins_path: "plugins" } as const;

export function parseStackCertificates(node: Node, at: NodeAt, shape: ShapeError): StackCertificates {
  if (!isMap(node))
    throw shape(node, "`certificates` must be a mapping (validity_days, ca_path, gateway_path, plugins_path)");
  const daysNode = node.get("validity_days", true);
  let days: number | undefined;
  if (daysNode !== undefined && daysNode !== null) {
    if (!isScalar(daysNode) || (typeof daysNode.value !== "number" && typeof daysNode.value !== "string"))
      throw shape(daysNode as Node, "certificates.validity_days must be a number of days");
    days = parseDays(String(daysNode.value), `${at(daysNode as Node)}: certificates.validity_days`);
  }
  // mtls-certs keeps the tree together: each path must be <root>/ca, <root>/gateway, <root>/plugins.
  let out: string | undefined;
  let outFrom = "";
  for (const [key, dir] of Object.entries(TREE_DIRS)) {
    const pathNode = node.get(key, true);
    if (pathNode === undefined || pathNode === null) continue;
    if (!isScalar(pathNode) || typeof pathNode.value !== "string" || pathNode.value === "")
      throw shape(pathNode as Node, `certificates.${key} must be a path`);
    const path = pathNode.value.replace(/\/+$/, "");
    // The deploy config is data, often from a repository: it may not point the CA outside the
    // project (cforge reads these paths relative to the current directory, so that is the project).
    if (hasControlCharacter(path))
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} has a control character or newline, which no path of the tree may hold`,
      );
    if (!isInside(process.cwd(), resolve(path)))
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} leaves the project folder ${process.cwd()}`,
      );
    if (basename(path) !== dir)
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} must end in /${dir}: mtls-certs writes <root>/ca, <root>/gateway and <root>/plugins`,
      );
    const root = dirname(path);
    if (out !== undefined && resolve(out) !== resolve(root))
      throw shape(
        pathNode as Node,
        `certificates.${key} ${JSON.stringify(pathNode.value)} is not under ${out}, the root ${outFrom} names; mtls-certs keeps ca, gateway and plugins in one tree`,
      );
    out ??= root;
    outFrom ||= `certificates.${key}`;
  }
  const useCertManager = node.get("use_cert_manager") === true;
  return { days, out, useCertManager };
}

export function parseStackDeployment(node: Node | undefined, at: NodeAt, shape: ShapeError): StackDeployment {
  if (node === undefined || node === null) return { type: undefined, namespace: DEFAULT_GATEWAY_NAMESPACE };
  if (!isMap(node)) throw shape(node, "`deployment` must be a mapping (type, namespace)");
  const text = (key: string): string | undefined => {
    const value = node.get(key, true);
    if (value === undefined || value === null) return undefined;
    if (!isScalar(value) || typeof value.value !== "string")
      throw shape(value as Node, `deployment.${key} must be a string`);
    return value.value;
  };
  const namespace = text("namespace");
  return {
    type: text("type"),
    namespace:
      namespace === undefined
        ? DEFAULT_GATEWAY_NAMESPACE
        : checkDnsName(namespace, `${at(node)}: deployment.namespace`),
  };
}

/** mcp-stack.yaml's `plugins[].port` (optional): a TCP port. */
export function parseStackPort(item: YAMLMap, field: string, shape: ShapeError): number | undefined {
  const node = item.get("port", true);
  if (node === undefined || node === null) return undefined;
  const value = isScalar(node) ? Number(node.value) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw shape(node as Node, `${field}.port must be a TCP port (1-65535)`);
  return value;
}

/**
 * The lexical check in parseStackCertificates cannot see a symlink: a repository may ship
 * `certs -> /somewhere/else`. The tree's real path (its nearest existing ancestor resolved) must
 * stay inside the project's real path too.
 */
export async function assertStackTreeInsideProject(file: string, out: string): Promise<void> {
  const [project, real] = await Promise.all([realDirectory(process.cwd()), realDirectory(out)]);
  if (!isInside(project, real))
    throw new MtlsError(
      "E_CONFIG_SHAPE",
      `${file}: certificates.*_path: the tree ${JSON.stringify(out)} leads through a symbolic link to ${real}, outside the project folder ${project}`,
      "point certificates.*_path at a directory inside the project",
    );
  // Component by component, no link followed: a tree inside a leaf directory (plugins/evil/t, with
  // t/ca a link to the real ca/) is the leaf owner's, and so is any directory another user owns.
  const problems = await directoryOwnershipProblems(process.cwd(), out);
  if (problems.length > 0)
    throw new MtlsError(
      "E_CONFIG_SHAPE",
      `${file}: certificates.*_path: the tree ${JSON.stringify(out)} is not the project owner's alone:\n${problems.join("\n")}`,
      "point certificates.*_path at a directory only the project's owner (or root) can write, such as ./certs/mcp",
    );
}

/**
 * The gateway's deploy tooling (cforge) mounts `certs/mcp` whatever `certificates.*_path` say
 * (checked against its builder, 2026-12): a stack that puts the tree elsewhere gets certs the
 * tooling never reads, and it then emits no cert Secrets. The warning says so; undefined when the
 * stack keeps `certs/mcp` (or names no path).
 */
export function stackTreeWarning(config: {
  readonly file: string;
  readonly stack?: StackCertificates;
}): string | undefined {
  const out = config.stack?.out;
  if (out === undefined || resolve(out) === resolve(DEFAULT_OUT)) return undefined;
  return `${config.file}: certificates.*_path put the tree in ${out}, but the gateway's deploy tooling (cforge) reads and mounts ${DEFAULT_OUT} whatever those paths say; keep ca_path/gateway_path/plugins_path under ./${DEFAULT_OUT} for cforge`;
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
