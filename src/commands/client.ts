import { MtlsError } from "../errors.js";
import { checkDnsName, checkName } from "../pki/names.js";
import { requested } from "../pki/name-policy.js";
import { PROFILES, clientSubject, type San } from "../pki/profiles.js";
import { leafFiles, type TreePaths } from "../store/paths.js";
import { issueIntoTree, resolveTree, type IssueReport, type LeafRequest, type TreeOptions } from "../store/tree.js";

export interface ClientOptions extends TreeOptions {
  /** The subject's CN (`--cn`). Default: the client's name. An e-mail address also becomes an rfc822Name SAN. */
  cn?: string;
}

/** RFC 5280's upper bound for a CN (ub-common-name). */
const MAX_CN_LENGTH = 64;

/** A CN that names a person or a service; refuses control characters and what X.509 cannot hold. */
export function checkCommonName(cn: string, where = "--cn"): string {
  if (cn.length === 0 || cn.length > MAX_CN_LENGTH || /[\u0000-\u001f\u007f]/.test(cn) || cn.trim() !== cn) {
    throw new MtlsError(
      "E_BAD_NAME",
      `${where}: ${JSON.stringify(cn)} is not a usable common name`,
      `use 1-${MAX_CN_LENGTH} printable characters without leading or trailing spaces`,
    );
  }
  return cn;
}

/** `admin@example.com` → an rfc822Name SAN; anything with an `@` must be a plain address. */
export function emailSan(cn: string, where = "--cn"): San | undefined {
  if (!cn.includes("@")) return undefined;
  const at = cn.lastIndexOf("@");
  const local = cn.slice(0, at);
  const domain = cn.slice(at + 1);
  if (
    !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(local) ||
    local.startsWith(".") ||
    local.endsWith(".") ||
    local.includes("..")
  ) {
    throw new MtlsError(
      "E_BAD_NAME",
      `${where}: ${JSON.stringify(cn)} is not an e-mail address`,
      "a CN with an @ becomes an rfc822Name SAN, so it must be local-part@domain",
    );
  }
  checkDnsName(domain, where);
  return { type: "email", value: cn };
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

/** `mtls-certs client <name>`: the CA first when missing, then the client's cert. */
export function issueClient(name: string, o: ClientOptions = {}): Promise<IssueReport> {
  checkName(name, "client name");
  return issueIntoTree(o, [clientRequest(resolveTree(o), name, o.cn)]);
}
