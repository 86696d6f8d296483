import { checkName } from "../pki/names.js";
import { extraSans, type ExtraSanOptions } from "../pki/name-policy.js";
import { serverRequest } from "../store/leaf-requests.js";
import { issueIntoTree, resolveTree, type IssueReport, type TreeOptions } from "../store/tree.js";

export interface ServerOptions extends TreeOptions, ExtraSanOptions {}

/** `mtls-certs server <name>`: the CA first when missing, then the server's cert. */
export function issueServer(name: string, o: ServerOptions = {}): Promise<IssueReport> {
  checkName(name, "server name");
  return issueIntoTree(o, [serverRequest(resolveTree(o), name, extraSans(o))]);
}
