/**
 * The leaf each issuing role asks for: its files in the tree, profile, subject and SANs. One
 * place, because `gateway`, `plugin`, `server` and `client` issue these, `all` issues the gateway's
 * and every plugin's, and `sign` puts a CSR's key into the request the role's command would make.
 */
import { checkCommonName, emailSan, requested } from "../pki/name-policy.js";
import { checkDnsName } from "../pki/names.js";
import {
  GATEWAY_SUBJECT,
  PROFILES,
  clientSubject,
  dns,
  pluginSans,
  pluginSubject,
  serverSubject,
  uniqueSans,
  type San,
} from "../pki/profiles.js";
import { leafFiles, type TreePaths } from "./paths.js";
import type { LeafRequest } from "./issue-types.js";

/** The gateway's client certificate: `certs/mcp/gateway/client.{key,crt}`. */
export function gatewayRequest(tree: TreePaths): LeafRequest {
  return {
    files: leafFiles(tree, "gateway", "gateway"),
    profile: PROFILES.gateway,
    subject: GATEWAY_SUBJECT,
    sans: [],
  };
}

/** A plugin's server cert: the Makefile's SANs for its name, then `extra`. */
export function pluginRequest(tree: TreePaths, name: string, extra: readonly San[] = []): LeafRequest {
  return {
    files: leafFiles(tree, "plugin", name),
    profile: PROFILES.plugin,
    subject: pluginSubject(name),
    sans: pluginSans(name, extra),
  };
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

/**
 * A client cert for an API client, backend or environment (seeds 000-003): clientAuth, in
 * `certs/mcp/clients/<name>/` with client.pem (cert then key) for curl `--cert`.
 */
export function clientRequest(tree: TreePaths, name: string, cn = name): LeafRequest {
  const email = emailSan(checkCommonName(cn));
  return {
    files: leafFiles(tree, "client", name),
    profile: PROFILES.client,
    subject: clientSubject(cn),
    // The address the user named (--cn): the one e-mail SAN the name policy lets a client have.
    sans: email ? [requested(email, "cn", "--cn")] : [],
  };
}
