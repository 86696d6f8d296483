import { checkName } from "../pki/names.js";
import { clientRequest } from "../store/leaf-requests.js";
import { issueIntoTree } from "../store/tree.js";
import { resolveTree } from "../store/tree-access.js";
import type { IssueReport, TreeOptions } from "../store/issue-types.js";

export interface ClientOptions extends TreeOptions {
  /** The subject's CN (`--cn`). Default: the client's name. An e-mail address also becomes an rfc822Name SAN. */
  cn?: string;
}

/** `mtls-certs client <name>`: the CA first when missing, then the client's cert. */
export function issueClient(name: string, o: ClientOptions = {}): Promise<IssueReport> {
  checkName(name, "client name");
  return issueIntoTree(o, [clientRequest(resolveTree(o), name, o.cn)]);
}
