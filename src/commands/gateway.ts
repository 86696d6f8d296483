import { gatewayRequest } from "../store/leaf-requests.js";
import { issueIntoTree } from "../store/tree.js";
import { resolveTree } from "../store/tree-access.js";
import type { IssueReport, TreeOptions } from "../store/issue-types.js";

/** `mtls-certs gateway`: the CA first when missing, then the gateway's client cert. */
export function issueGateway(o: TreeOptions = {}): Promise<IssueReport> {
  return issueIntoTree(o, [gatewayRequest(resolveTree(o))]);
}
