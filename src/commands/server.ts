import { checkDnsName, checkName } from "../pki/names.js";
import { extraSans, type ExtraSanOptions } from "../pki/name-policy.js";
import { PROFILES, dns, serverSubject, uniqueSans, type San } from "../pki/profiles.js";
import { leafFiles, type TreePaths } from "../store/paths.js";
import { issueIntoTree, resolveTree, type IssueReport, type LeafRequest, type TreeOptions } from "../store/tree.js";

export { extraSans, type ExtraSanOptions };

export interface ServerOptions extends TreeOptions, ExtraSanOptions {}

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
