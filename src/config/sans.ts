/**
 * The names a config asks a plugin's certificate to carry: the host of each address the gateway
 * dials (mcp.url's, grpc.target's) becomes one SAN through one rule, so `all`, `check` and
 * `renew` agree on what a plugin cert must name.
 */
import { isIP } from "node:net";
import { MtlsError } from "../errors.js";
import { checkDnsName } from "../pki/names.js";
import { dns, ip, type San } from "../pki/profiles.js";

/** True for an `http://` URL: the gateway reaches that plugin without TLS. */
export function isPlainHttp(url: string): boolean {
  return /^http:/i.test(url);
}

/** The SAN a client connecting to `url` checks: an IP SAN for an address, else a DNS SAN. */
export function sanForUrl(url: string, where: string): San {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new MtlsError("E_BAD_URL", `${where}: ${JSON.stringify(url)} is not a URL`);
  }
  if (!host) throw new MtlsError("E_BAD_URL", `${where}: ${JSON.stringify(url)} has no host`);
  return sanForHost(host.startsWith("[") ? host.slice(1, -1) : host, where);
}

/**
 * The SAN for a host the gateway dials (mcp.url's, grpc.target's): every such host goes through
 * here, so one rule decides which names a plugin cert may carry.
 */
export function sanForHost(host: string, where: string): San {
  return isIP(host) ? ip(host) : dns(checkDnsName(host, where));
}
