/**
 * One TLS dial, the way the gateway makes it (TLS 1.2 or later, its client cert, the name it
 * dials as SNI), but without giving up at the first failure: the server's chain is taken as it
 * comes (rejectUnauthorized off) so that it can be judged with the strict-peer policy, and after
 * the handshake the dial waits for the server's first word, since in TLS 1.3 a server refuses a
 * client cert only after the client has finished its handshake (RFC 8446 section 4.4.2.4).
 */
import { connect as connectTcp } from "node:net";
import { connect as connectTls, type TLSSocket } from "node:tls";
import { looksLikeTls, plaintextAlert, serverAskedForCertificate, tapSocket } from "./transcript.js";

export interface DialSpec {
  /** Where to connect (the URL's host, or --connect's). */
  readonly host: string;
  readonly port: number;
  /** SNI: the name the gateway dials; undefined for an IP address (no SNI for addresses, RFC 6066). */
  readonly servername: string | undefined;
  readonly alpn: readonly string[];
  /** Written once the handshake is done, to make the server answer (an HTTP request, the HTTP/2 preface). */
  readonly request: Buffer;
  readonly ca: Buffer;
  /** The client cert and key; both undefined for the dial without a client cert. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly passphrase?: string;
  readonly timeoutMs: number;
}

/** How far the dial got, and what it saw. */
export type DialOutcome =
  /** No TCP connection: `code` is the errno (ECONNREFUSED, ENOTFOUND, …) or ETIMEDOUT. */
  | { readonly stage: "connect"; readonly code: string; readonly message: string }
  /** TCP connected, no TLS session. */
  | {
      readonly stage: "handshake";
      /** Node's error code (ERR_SSL_…), or ETIMEDOUT, or ECONNRESET. */
      readonly code: string;
      readonly message: string;
      /** What the server sent, when it was not TLS: its first line. */
      readonly notTls: string | undefined;
      /** Nothing came back before the connection ended. */
      readonly silent: boolean;
      /** The alert the server sent in the clear, read from its bytes (`unknown_ca`). */
      readonly alert: string | undefined;
      /** TLS 1.2: the server's CertificateRequest was seen, so the client sent its cert before the end. */
      readonly askedForCertificate: boolean | undefined;
    }
  | HandshakeDone;

export interface HandshakeDone {
  readonly stage: "done";
  readonly protocol: string;
  readonly cipher: string;
  readonly alpn: string | false;
  /** The server's chain as it presented it, leaf first (DER). */
  readonly chain: readonly Buffer[];
  /** OpenSSL's own verdict on the chain against `ca` (null: trusted). */
  readonly authorizationError: string | null;
  readonly askedForCertificate: boolean | undefined;
  /**
   * What the server did after the handshake: answered (data or a session ticket: it took the
   * client), refused with an alert (`alert` set), closed, or stayed silent until the timeout.
   */
  readonly after: "answered" | "alert" | "closed" | "silent";
  readonly alert: { readonly code: string; readonly message: string } | undefined;
}

export async function dial(spec: DialSpec): Promise<DialOutcome> {
  const deadline = Date.now() + spec.timeoutMs;
  const tcp = connectTcp({ host: spec.host, port: spec.port });
  const connected = await new Promise<DialOutcome | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(failed("connect", "ETIMEDOUT", "no answer")), spec.timeoutMs);
    tcp.once("connect", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    tcp.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(failed("connect", e.code ?? "ECONNREFUSED", e.message));
    });
  });
  if (connected !== undefined) {
    tcp.destroy();
    return connected;
  }
  const { stream, received } = tapSocket(tcp);
  const keylog: string[] = [];
  const socket = connectTls({
    socket: stream,
    servername: spec.servername,
    ca: spec.ca,
    cert: spec.cert,
    key: spec.key,
    passphrase: spec.passphrase,
    ALPNProtocols: [...spec.alpn],
    minVersion: "TLSv1.2",
    // The chain is judged below, with the strict-peer policy and the name, not by Node alone.
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  socket.on("keylog", (line: Buffer) => keylog.push(line.toString("latin1")));
  try {
    return await new Promise<DialOutcome>((resolve) => {
      const timer = setTimeout(() => finish("ETIMEDOUT"), Math.max(0, deadline - Date.now()));
      let done: Omit<HandshakeDone, "after" | "alert"> | undefined;
      const finish = (code: string, message = "", after?: HandshakeDone["after"]): void => {
        clearTimeout(timer);
        if (done === undefined) {
          const bytes = received();
          resolve({
            stage: "handshake",
            code,
            message: code === "ETIMEDOUT" ? "the handshake did not finish in time" : message,
            notTls: bytes.length > 0 && !looksLikeTls(bytes) ? firstLine(bytes) : undefined,
            silent: bytes.length === 0,
            alert: plaintextAlert(bytes),
            askedForCertificate: serverAskedForCertificate(bytes, "TLSv1.2", undefined, []),
          });
        } else if (after === undefined) {
          resolve({ ...done, after: code === "ETIMEDOUT" ? "silent" : "alert", alert: { code, message } });
        } else {
          resolve({ ...done, after, alert: undefined });
        }
      };
      socket.once("secureConnect", () => {
        done = handshakeFacts(socket, received(), keylog);
        socket.write(spec.request);
        // TLS 1.2: the server judged the client cert before its Finished; nothing more to wait for.
        if (done.protocol !== "TLSv1.3") finish("", "", "answered");
      });
      socket.once("data", () => finish("", "", "answered"));
      socket.once("session", () => finish("", "", "answered"));
      socket.once("error", (e: NodeJS.ErrnoException) => finish(e.code ?? "ERR_TLS", e.message));
      socket.once("close", () => finish("ECONNRESET", "the server closed the connection", "closed"));
    });
  } finally {
    socket.destroy();
    tcp.destroy();
  }
}

function failed(stage: "connect", code: string, message: string): DialOutcome {
  return { stage, code, message };
}

function handshakeFacts(
  socket: TLSSocket,
  received: Buffer,
  keylog: readonly string[],
): Omit<HandshakeDone, "after" | "alert"> {
  const protocol = socket.getProtocol() ?? "unknown";
  const cipher = socket.getCipher().standardName;
  const chain: Buffer[] = [];
  // The chain as sent: each certificate's issuer as the peer's list gives it, until it repeats.
  for (let c = socket.getPeerCertificate(true); c?.raw !== undefined && chain.length < 10; c = c.issuerCertificate) {
    if (chain.some((seen) => seen.equals(c.raw))) break;
    chain.push(c.raw);
  }
  const error = socket.authorizationError as unknown as Error | string | null | undefined;
  return {
    stage: "done",
    protocol,
    cipher,
    alpn: socket.alpnProtocol ?? false,
    chain,
    authorizationError: error === null || error === undefined ? null : String(error),
    askedForCertificate: serverAskedForCertificate(received, protocol, cipher, keylog),
  };
}

/** The first line of what a server that does not speak TLS said, printable. */
function firstLine(bytes: Buffer): string {
  const line = bytes.subarray(0, 200).toString("latin1").split(/\r?\n/)[0] ?? "";
  return line.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}
