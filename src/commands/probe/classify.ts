/**
 * From what the dials saw to one reason: the first failure in the order the gateway meets them
 * (the connection, TLS itself, the server's cert as a strict peer judges it, the client cert),
 * each with the text an operator acts on. Pure: outcomes in, a verdict out.
 */
import type { VerifyProblemCode, VerifyReport } from "../../pki/chain-verdict.js";
import type { ProbeFailure } from "../../report/probe-report.js";
import type { DialOutcome, HandshakeDone } from "./dial.js";

export interface Verdict {
  readonly reason: ProbeFailure;
  readonly message: string;
  readonly fix: string;
}

/** What the messages name: the plugin, where it was dialed, how it is reached. */
export interface ClassifyContext {
  readonly name: string;
  readonly address: string;
  readonly host: string;
  readonly transport: "mcp" | "grpc";
  readonly timeoutMs: number;
  /** Where the CA the probe trusts came from, for messages. */
  readonly caFile: string;
}

/** A dial that got no TLS session, or none that a strict gateway would keep. */
export function dialFailure(o: Exclude<DialOutcome, HandshakeDone>, c: ClassifyContext): Verdict {
  const seconds = `${c.timeoutMs / 1000} s`;
  if (o.stage === "connect") {
    if (o.code === "ENOTFOUND" || o.code === "EAI_AGAIN")
      return {
        reason: "dns-failure",
        message: `${c.host} does not resolve from here (${o.code})`,
        fix: "check the host in the plugin's address; a Compose service name resolves only inside its network: probe from there, or pass --connect HOST:PORT (a published port) with the plugin's name",
      };
    if (o.code === "ECONNREFUSED")
      return {
        reason: "connection-refused",
        message: `nothing listens on ${c.address} (connection refused)`,
        fix: "start the plugin, or correct the port in its address (Compose: the container's port; Kubernetes: the Service's)",
      };
    if (o.code === "ETIMEDOUT")
      return {
        reason: "timeout",
        message: `no TCP answer from ${c.address} within ${seconds}`,
        fix: "check that the address is reachable from where the gateway runs (firewall, network policy); --timeout waits longer",
      };
    return {
      reason: "connect-failed",
      message: `cannot connect to ${c.address}: ${o.code} (${o.message})`,
      fix: "check the address and the route to it from where the gateway runs",
    };
  }
  if (o.notTls !== undefined)
    return {
      reason: "not-tls",
      message: `${c.address} does not speak TLS: it answered ${JSON.stringify(o.notTls)} (an HTTP server, or the plugin's health port?)`,
      fix: "point the address at the plugin's TLS port, or turn TLS on in the plugin (PLUGINS_SERVER_SSL_ENABLED=true with its cert and key) or in the proxy in front of it",
    };
  if (o.code === "ETIMEDOUT")
    return {
      reason: "timeout",
      message: `${c.address} took the connection but did not answer the TLS hello within ${seconds}`,
      fix: "is this the plugin's TLS port? --timeout waits longer",
    };
  if (o.silent)
    return {
      reason: "connection-closed",
      message: `${c.address} closed the connection without answering the TLS hello`,
      fix: "is this the plugin's TLS port? the plugin's (or its proxy's) log says why it hung up",
    };
  const alert = o.alert ?? alertName(o.code);
  if (o.code === "ERR_SSL_UNSUPPORTED_PROTOCOL" || alert === "protocol_version")
    return {
      reason: "tls-version",
      message: `${c.address} offers only TLS older than 1.2, which the gateway refuses (${alert ?? o.code})`,
      fix: "allow TLS 1.2 and 1.3 on the plugin's server or proxy",
    };
  if (alert !== undefined && CLIENT_CERT_ALERTS.has(alert)) return clientCertRefused(alert, "TLS 1.2", c);
  // A server that sends its alert and closes with our flight unread resets the connection, and the
  // reset can discard the alert before it is read: after a CertificateRequest, that is a refusal.
  if (alert === undefined && o.askedForCertificate === true && (o.code === "ECONNRESET" || o.code === "EPIPE"))
    return clientCertRefused("none: it reset the connection after the gateway sent its cert", "TLS 1.2", c);
  return {
    reason: "handshake-failed",
    message: `the TLS handshake with ${c.address} failed: ${alert ? `the server sent alert ${alert}` : firstLine(o.message)}`,
    fix: "compare the plugin's TLS settings (versions, ciphers, key type) with the gateway's; the plugin's log names its side of it",
  };
}

/** The order a strict client meets the problems of a chain: trust, dates, policy, name, revocation. */
const SERVER_CERT_ORDER: ReadonlyArray<[ProbeFailure, (code: VerifyProblemCode) => boolean]> = [
  ["server-cert-untrusted", (code) => code === "unknown-issuer" || code === "bad-signature"],
  ["server-cert-expired", (code) => code === "expired"],
  ["server-cert-not-yet-valid", (code) => code === "not-yet-valid"],
  ["server-cert-strict", (code) => !NOT_POLICY.has(code)],
  ["server-name-mismatch", (code) => code === "host-mismatch"],
  ["server-cert-revoked", (code) => code === "revoked"],
];
const NOT_POLICY = new Set<VerifyProblemCode>([
  "unknown-issuer",
  "bad-signature",
  "expired",
  "not-yet-valid",
  "host-mismatch",
  "revoked",
  "crl-not-from-issuer",
  "crl-expired",
]);

/** The first problem of the server's chain, as the strict-peer verdict (what `verify` says) found it. */
export function serverCertFailure(done: HandshakeDone, verdict: VerifyReport, c: ClassifyContext): Verdict | undefined {
  for (const [reason, matches] of SERVER_CERT_ORDER) {
    const p = verdict.problems.find((x) => matches(x.code));
    if (p === undefined) continue;
    const subject = p.subject === verdict.chain[0]?.subject ? "the server's cert" : `"${p.subject}" in its chain`;
    if (reason === "server-name-mismatch")
      return {
        reason,
        message: `${c.host} is not a name of the server's cert: ${p.message}. The gateway checks it (cpex's default${c.transport === "grpc" ? "; gRPC always does" : ""}); its Compose and Kubernetes manifests turn the check off with PLUGINS_CLIENT_MTLS_CHECK_HOSTNAME=false because the Makefile's certs lack these names, which is what this hides`,
        fix: p.fix,
      };
    const strict =
      reason === "server-cert-strict"
        ? ` (${p.code}: Python 3.13's default context, VERIFY_X509_STRICT, refuses it)`
        : "";
    return { reason, message: `${subject}: ${p.message}${strict}`, fix: p.fix };
  }
  // Nothing the verdict knows, but OpenSSL itself refused the chain: say what it said.
  if (done.authorizationError !== null)
    return {
      reason: "server-cert-untrusted",
      message: `OpenSSL does not trust the server's chain against ${c.caFile}: ${done.authorizationError}`,
      fix: "`mtls-certs verify` the plugin's server cert with --ca set to the CA the gateway mounts",
    };
  return undefined;
}

/** After a handshake that the server's cert passes: ALPN for gRPC, then the client cert. */
export function afterHandshakeFailure(done: HandshakeDone, c: ClassifyContext): Verdict | undefined {
  if (c.transport === "grpc" && done.alpn !== "h2")
    return {
      reason: "no-h2",
      message: `${c.address} did not pick ALPN h2 (${done.alpn === false ? "it picked none" : `it picked ${done.alpn}`}): gRPC needs HTTP/2 over TLS`,
      fix: "point the target at the plugin's gRPC port; a proxy in front of it must offer h2 (nginx: grpc_pass behind `listen … ssl http2`)",
    };
  if (done.after === "alert" && done.alert !== undefined) {
    const alert =
      alertName(done.alert.code) ??
      (done.alert.code === "ECONNRESET" ? "none: it reset the connection" : done.alert.code);
    return clientCertRefused(alert, `${done.protocol}, after the handshake`, c);
  }
  if (done.after === "closed" && done.protocol === "TLSv1.3" && done.askedForCertificate !== false)
    return clientCertRefused("none: it closed the connection", "TLSv1.3, after the handshake", c);
  if (done.askedForCertificate === false)
    return {
      reason: "client-cert-not-requested",
      message: `${c.address} did not ask for a client certificate: mutual TLS is off on ${c.name}, anyone who reaches it is let in`,
      fix:
        c.transport === "grpc"
          ? "require client certs on the plugin: PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH=require with PLUGINS_GRPC_SERVER_SSL_CA_CERTS set to the CA"
          : "require client certs on the plugin: PLUGINS_SERVER_SSL_CERT_REQS=2 with PLUGINS_SERVER_SSL_CA_CERTS set to the CA (or `ssl_verify_client on;` / HAProxy `verify required` in the proxy in front of it)",
    };
  return undefined;
}

/** The second dial, with no client cert: a server that lets it in does not require one. */
export function anonymousFailure(
  withoutCert: DialOutcome,
  asked: boolean | undefined,
  c: ClassifyContext,
): Verdict | undefined {
  if (withoutCert.stage !== "done" || withoutCert.after !== "answered") return undefined;
  return {
    reason: "accepts-anonymous",
    message: `${c.address} ${asked === true ? "asks for a client certificate but" : "(whether it asks for a client certificate could not be read)"} let in a second handshake that sent none: client certs are optional there, anyone who reaches it is let in`,
    fix:
      c.transport === "grpc"
        ? "make them required: PLUGINS_GRPC_SERVER_SSL_CLIENT_AUTH=require (not optional)"
        : "make them required: PLUGINS_SERVER_SSL_CERT_REQS=2 (CERT_REQUIRED, not 1), nginx `ssl_verify_client on;` (not optional), HAProxy `verify required`",
  };
}

/** The alerts a server sends about the client's certificate (RFC 8446 section 6.2). */
const CLIENT_CERT_ALERTS = new Set([
  "bad_certificate",
  "unsupported_certificate",
  "certificate_revoked",
  "certificate_expired",
  "certificate_unknown",
  "unknown_ca",
  "access_denied",
  "certificate_required",
]);

const ALERT_CAUSE: Record<string, string> = {
  unknown_ca: "it does not trust the CA that issued the gateway's cert (its CA file is another CA's)",
  certificate_expired: "the gateway's client cert has expired, or is not yet valid, by the plugin's clock",
  certificate_revoked: "its CRL lists the gateway's client cert",
  unsupported_certificate: "the cert may not be used by a TLS client (no clientAuth in its extendedKeyUsage)",
  certificate_required: "it got no client cert",
};

function clientCertRefused(alert: string, when: string, c: ClassifyContext): Verdict {
  const cause = ALERT_CAUSE[alert];
  return {
    reason: "client-cert-refused",
    message: `${c.address} refused the gateway's client cert with alert ${alert} (${when})${cause ? `: ${cause}` : ""}`,
    fix: "`mtls-certs verify` the gateway's cert (`mtls-certs verify gateway`); give the plugin the tree's ca/ca.crt as its CA file, and renew what expired",
  };
}

/** `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA` → `unknown_ca`; undefined when the code is no alert. */
function alertName(code: string): string | undefined {
  const m = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(code);
  return m?.[1]?.toLowerCase();
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:/, "");
}
