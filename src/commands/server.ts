import { checkDnsName, checkIp, checkName } from "../pki/names.js";
import { PROFILES, dns, ip, serverSubject, uniqueSans, type San } from "../pki/profiles.js";
import { leafFiles, type TreePaths } from "../store/paths.js";
import { issueIntoTree, resolveTree, type IssueReport, type LeafRequest, type TreeOptions } from "../store/tree.js";

export interface ExtraSanOptions {
  /** Extra DNS SANs (`--san`); one leading `*.` label allowed. */
  san?: readonly string[];
  /** Extra IP SANs (`--ip`), IPv4 or IPv6. */
  ip?: readonly string[];
}

export interface ServerOptions extends TreeOptions, ExtraSanOptions {}

/** `--san` and `--ip` values as SANs, each checked, the flag and value named when refused. */
export function extraSans(o: ExtraSanOptions): San[] {
  return [
    ...(o.san ?? []).map((v) => dns(checkDnsName(v, "--san"))),
    ...(o.ip ?? []).map((v) => ip(checkIp(v, "--ip"))),
  ];
}

/**
 * A named server's cert (seed 003's `gateway.local` behind nginx): serverAuth, SANs the name and
 * each extra, in `certs/mcp/servers/<name>/`.
 */
export function serverRequest(tree: TreePaths, name: string, extra: readonly San[] = []): LeafRequest {
  return {
    files: leafFiles(tree, "server", name),
    profile: PROFILES.server,
    subject: serverSubject(name),
    sans: uniqueSans([dns(checkDnsName(name, "server name")), ...extra]),
  };
}

/** `mtls-certs server <name>`: the CA first when missing, then the server's cert. */
export function issueServer(name: string, o: ServerOptions = {}): Promise<IssueReport> {
  checkName(name, "server name");
  return issueIntoTree(o, [serverRequest(resolveTree(o), name, extraSans(o))]);
}
