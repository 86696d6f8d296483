import { GATEWAY_SUBJECT, PROFILES } from "../pki/profiles.js";
import { leafFiles, type TreePaths } from "../store/paths.js";
import { issueIntoTree, resolveTree, type IssueReport, type LeafRequest, type TreeOptions } from "../store/tree.js";

/** The gateway's client certificate: `certs/mcp/gateway/client.{key,crt}`. */
export function gatewayRequest(tree: TreePaths): LeafRequest {
  return {
    files: leafFiles(tree, "gateway", "gateway"),
    profile: PROFILES.gateway,
    subject: GATEWAY_SUBJECT,
    sans: [],
  };
}

/** `mtls-certs gateway`: the CA first when missing, then the gateway's client cert. */
export function issueGateway(o: TreeOptions = {}): Promise<IssueReport> {
  return issueIntoTree(o, [gatewayRequest(resolveTree(o))]);
}
