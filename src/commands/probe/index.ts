/**
 * `mtls-certs probe [name...]`: dial every external plugin as the gateway will (its client cert,
 * the CA it trusts, TLS 1.2 or later, hostname checks on) and say, per link, that it works or
 * which step fails and why. Read (config, files) → dial (two handshakes) → judge → report.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { isIP } from "node:net";
import { join } from "node:path";
import { loadPluginConfig } from "../../config/plugin-config.js";
import { DEFAULT_OUT } from "../../defaults.js";
import { MtlsError } from "../../errors.js";
import { parseCerts, judgeChain, type VerifyReport } from "../../pki/chain-verdict.js";
import { parseCrls } from "../../pki/crl-verdict.js";
import { createLimiter } from "../../pki/limiter.js";
import { treePaths } from "../../store/paths.js";
import { readBytes } from "../../store/write.js";
import { treeCrlFile } from "../../store/ca-store.js";
import { days, humanDate } from "../../human.js";
import { failed, type ProbeReport, type ProbeResult, type ProbeTls } from "../../report/probe-report.js";
import { afterHandshakeFailure, anonymousFailure, dialFailure, serverCertFailure, type Verdict } from "./classify.js";
import { dial, type HandshakeDone } from "./dial.js";
import { parseAddress, stackUrl, targetOf, type ProbeTarget } from "./targets.js";

export interface ProbeOptions {
  /** Plugins to probe; all external plugins of the config when empty. */
  readonly names?: readonly string[];
  readonly config: string;
  /** The tree the gateway's files come from. Default: an mcp-stack.yaml's, else certs/mcp. */
  readonly out?: string;
  /** The gateway's client cert, key and CA, as it mounts them. Default: the tree's gateway/client.{crt,key} and ca/ca.crt. */
  readonly gatewayCert?: string;
  readonly gatewayKey?: string;
  readonly ca?: string;
  readonly keyPassphrase?: string;
  /** CRL the server's cert is checked against. Default: the tree's (ca/bundle.crl during a rotation, else ca/ca.crl), when there is one. */
  readonly crl?: string;
  /** `HOST:PORT` to dial instead of the plugin's own address; needs exactly one name. */
  readonly connect?: string;
  /** Per dial. Default 5000. */
  readonly timeoutMs?: number;
  /** Dials at once. Default 8. */
  readonly jobs?: number;
  readonly now?: Date;
}

interface Files {
  readonly caFile: string;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase: string | undefined;
  readonly crlFile: string | undefined;
  readonly crl: Buffer | undefined;
}

export async function probePlugins(o: ProbeOptions): Promise<ProbeReport> {
  const now = o.now ?? new Date();
  const names = o.names ?? [];
  const connect = o.connect === undefined ? undefined : parseAddress(o.connect, "--connect");
  if (connect !== undefined && names.length !== 1)
    throw new MtlsError(
      "E_USAGE",
      "--connect dials one address: name exactly one plugin",
      "mtls-certs probe MyPlugin --connect 127.0.0.1:8443",
    );
  const config = await loadPluginConfig(o.config);
  if (!config.found)
    throw new MtlsError(
      "E_NOT_FOUND",
      `${o.config}: no such file: probe needs the plugin config (or mcp-stack.yaml) to know where the plugins are`,
      "pass --config FILE",
    );
  for (const name of names)
    if (!config.plugins.some((p) => p.name === name))
      throw new MtlsError(
        "E_NOT_FOUND",
        `${o.config}: no external plugin named ${JSON.stringify(name)}`,
        `external plugins there: ${config.plugins.map((p) => p.name).join(", ") || "none"}`,
      );
  const plugins = names.length === 0 ? config.plugins : config.plugins.filter((p) => names.includes(p.name));
  const files = await readFiles({ ...o, out: o.out ?? config.stack?.out });
  const timeoutMs = o.timeoutMs ?? 5000;
  const limit = createLimiter(o.jobs ?? 8);
  const results = await Promise.all(
    plugins.map((p) =>
      limit(() => probeOne(targetOf({ ...p, url: stackUrl(p, config.deployment) }, connect), files, timeoutMs, now)),
    ),
  );
  return { config: o.config, checkedAt: now.toISOString(), ok: !results.some(failed), results };
}

async function readFiles(o: ProbeOptions): Promise<Files> {
  const tree = treePaths(o.out ?? DEFAULT_OUT);
  const caFile = o.ca ?? tree.caCert;
  const crlFile = o.crl ?? (await treeCrlFile(tree));
  const [ca, cert, key, crl] = await Promise.all([
    required(caFile, "--ca"),
    required(o.gatewayCert ?? join(tree.gatewayDir, "client.crt"), "--gateway-cert"),
    required(o.gatewayKey ?? join(tree.gatewayDir, "client.key"), "--gateway-key"),
    crlFile === undefined ? undefined : required(crlFile, "--crl"),
  ]);
  const keyFile = o.gatewayKey ?? join(tree.gatewayDir, "client.key");
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey({ key, passphrase: o.keyPassphrase })))
      throw new MtlsError(
        "E_KEY_MISMATCH",
        `${keyFile}: not the key of the gateway's cert`,
        "pass the pair the gateway mounts with --gateway-cert and --gateway-key",
      );
  } catch (e) {
    if (e instanceof MtlsError) throw e;
    throw new MtlsError(
      "E_PASSPHRASE",
      `${keyFile}: cannot read the gateway's client key, or its cert (${(e as Error).message.split("\n")[0]})`,
      "an encrypted key needs --key-passphrase-env VAR or --key-passphrase-stdin",
    );
  }
  return { caFile, ca, cert, key, passphrase: o.keyPassphrase, crlFile, crl };
}

async function required(file: string, flag: string): Promise<Buffer> {
  const bytes = await readBytes(file);
  if (bytes === undefined)
    throw new MtlsError(
      "E_NOT_FOUND",
      `${file}: no such file`,
      `pass the file the gateway mounts with ${flag}, or --out for another tree`,
    );
  return bytes;
}

async function probeOne(t: ProbeTarget, f: Files, timeoutMs: number, now: Date): Promise<ProbeResult> {
  const base = { name: t.name, transport: t.transport, target: t.target };
  if (t.kind === "no-dial")
    return { ...base, address: null, serverName: null, reason: t.reason, message: t.message, fix: t.fix, tls: null };
  const address = `${t.host.includes(":") ? `[${t.host}]` : t.host}:${t.port}`;
  const c = { name: t.name, address, host: t.serverName, transport: t.transport, timeoutMs, caFile: f.caFile };
  const spec = {
    host: t.host,
    port: t.port,
    // No SNI for an address (RFC 6066 section 3), as Python's ssl does.
    servername: isIP(t.serverName) === 0 ? t.serverName : undefined,
    alpn: t.alpn,
    request: t.request,
    ca: f.ca,
    timeoutMs,
  };
  const result = (v: Verdict | undefined, tls: ProbeTls | null, ok = ""): ProbeResult => ({
    ...base,
    address,
    serverName: t.serverName,
    reason: v?.reason ?? "ok",
    message: v?.message ?? ok,
    fix: v?.fix ?? null,
    tls,
  });
  const withCert = await dial({ ...spec, cert: f.cert, key: f.key, passphrase: f.passphrase });
  if (withCert.stage !== "done") return result(dialFailure(withCert, c), null);
  const verdict = await judgeServerChain(withCert, t.serverName, f, now);
  const first = serverCertFailure(withCert, verdict, c) ?? afterHandshakeFailure(withCert, c);
  if (first !== undefined) return result(first, tlsFacts(withCert, verdict, now, null));
  const withoutCert = await dialWithoutCert(spec);
  const anonymous = anonymousFailure(withoutCert, withCert.askedForCertificate, c);
  const tls = tlsFacts(withCert, verdict, now, anonymous !== undefined);
  return result(anonymous, tls, anonymous === undefined ? okMessage(tls) : "");
}

/**
 * The second dial, with no client cert. A dial that got no TCP connection or no handshake in time
 * says nothing of the server's client-cert policy (a busy server, a lost packet), so it is tried
 * once more before the server is taken to require client certs: else a slow plugin that lets
 * anyone in reads as ok.
 */
async function dialWithoutCert(spec: Parameters<typeof dial>[0]): ReturnType<typeof dial> {
  const first = await dial(spec);
  const unanswered = first.stage === "connect" || (first.stage === "handshake" && first.code === "ETIMEDOUT");
  return unanswered ? dial(spec) : first;
}

async function judgeServerChain(done: HandshakeDone, host: string, f: Files, now: Date): Promise<VerifyReport> {
  const der = (b: Buffer) => `-----BEGIN CERTIFICATE-----\n${b.toString("base64")}\n-----END CERTIFICATE-----\n`;
  return judgeChain({
    file: "the server's chain",
    caFile: f.caFile,
    crlFile: f.crlFile ?? null,
    certs: parseCerts(Buffer.from(done.chain.map(der).join("")), "the server's chain", now),
    anchors: parseCerts(f.ca, f.caFile, now),
    crls: f.crl === undefined ? undefined : parseCrls(f.crl, f.crlFile ?? "the CRL"),
    host,
    purpose: "server",
    now,
  });
}

function tlsFacts(done: HandshakeDone, verdict: VerifyReport, now: Date, anonymous: boolean | null): ProbeTls {
  const leaf = verdict.chain[0];
  const notAfter = leaf?.notAfter ?? null;
  return {
    protocol: done.protocol,
    cipher: done.cipher,
    alpn: done.alpn === false ? null : done.alpn,
    serverSubject: leaf?.subject ?? null,
    serverSerial: leaf?.serial ?? null,
    serverNotAfter: notAfter,
    serverDaysLeft: notAfter === null ? null : Math.floor((Date.parse(notAfter) - now.getTime()) / 86_400_000),
    askedForClientCert: done.askedForCertificate ?? null,
    acceptedClientCert: done.after === "answered" ? true : done.after === "alert" ? false : null,
    acceptsNoClientCert: anonymous,
  };
}

function okMessage(t: ProbeTls): string {
  return [
    `${t.protocol} ${t.cipher}${t.alpn ? ` (ALPN ${t.alpn})` : ""}`,
    `server cert serial ${t.serverSerial}, ${days(t.serverDaysLeft ?? 0)} left (until ${humanDate(t.serverNotAfter)})`,
    `requires a client cert: accepted ours, refused a handshake without one`,
  ].join("; ");
}
