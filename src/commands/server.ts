import { checkName } from "../pki/names.js";
import { extraSans, type ExtraSanOptions } from "../pki/name-policy.js";
import { serverRequest } from "../store/leaf-requests.js";
import { issueIntoTree } from "../store/tree.js";
import { resolveTree } from "../store/tree-access.js";
import type { IssueReport, TreeOptions } from "../store/issue-types.js";

export interface ServerOptions extends TreeOptions, ExtraSanOptions {}

/** `mtls-certs server <name>`: the CA first when missing, then the server's cert. */
export function issueServer(name: string, o: ServerOptions = {}): Promise<IssueReport> {
  checkName(name, "server name");
  return issueIntoTree(o, [serverRequest(resolveTree(o), name, extraSans(o))]);
}
