import { gatewayRequest } from "../store/leaf-requests.js";
import { issueIntoTree, resolveTree, type IssueReport, type TreeOptions } from "../store/tree.js";

/** `mtls-certs gateway`: the CA first when missing, then the gateway's client cert. */
export function issueGateway(o: TreeOptions = {}): Promise<IssueReport> {
  return issueIntoTree(o, [gatewayRequest(resolveTree(o))]);
}
