/**
 * Did the server ask for a client certificate? Node's TLS does not say, and a server that never
 * asks (mutual TLS off) looks, from the client, like one that asks and takes anything. So the
 * probe keeps the bytes the server sent and reads its handshake: in TLS 1.2 the
 * CertificateRequest is in the clear; in TLS 1.3 it is encrypted with the server's handshake
 * traffic key, which Node hands out through the `keylog` event (RFC 8446 section 7.1-7.3).
 */
import { createDecipheriv, createHmac } from "node:crypto";
import { Duplex } from "node:stream";
import type { Socket } from "node:net";

const RECORD = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;
const HANDSHAKE = { certificateRequest: 13, serverHelloDone: 14, finished: 20 } as const;

/** A Duplex over `socket` that keeps every byte the server sends, for `tls.connect({ socket })`. */
export function tapSocket(socket: Socket): { stream: Duplex; received: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (d: Buffer) => {
    chunks.push(d);
    if (!stream.push(d)) socket.pause();
  });
  socket.on("end", () => stream.push(null));
  socket.on("error", (e) => stream.destroy(e));
  return { stream, received: () => Buffer.concat(chunks) };
}

/** The TLS records in `bytes`, as far as they are complete. */
function* records(bytes: Buffer): Generator<{ type: number; header: Buffer; body: Buffer }> {
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = bytes.readUInt16BE(at + 3);
    if (at + 5 + length > bytes.length) return;
    yield { type: bytes[at]!, header: bytes.subarray(at, at + 5), body: bytes.subarray(at + 5, at + 5 + length) };
    at += 5 + length;
  }
}

/** Handshake message types in a handshake byte stream (type, 24-bit length, body). */
function messageTypes(stream: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 4 <= stream.length; at += 4 + stream.readUIntBE(at + 1, 3)) types.push(stream[at]!);
  return types;
}

/** Does `bytes` start like a TLS record (a handshake or an alert, TLS 1.0 to 1.3)? */
export function looksLikeTls(bytes: Buffer): boolean {
  return bytes.length >= 3 && (bytes[0] === RECORD.handshake || bytes[0] === RECORD.alert) && bytes[1] === 3;
}

/** Alert descriptions (RFC 8446 section 6, RFC 5246 section 7.2), as OpenSSL names them. */
const ALERTS: Record<number, string> = {
  10: "unexpected_message",
  40: "handshake_failure",
  42: "bad_certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  49: "access_denied",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  109: "missing_extension",
  112: "unrecognized_name",
  116: "certificate_required",
  120: "no_application_protocol",
};

/**
 * The alert the server sent in the clear during the handshake (TLS 1.2, or TLS 1.3 before its
 * keys): a server that sends it and closes at once can reset the connection before Node reads
 * it, so the bytes are read here.
 */
export function plaintextAlert(received: Buffer): string | undefined {
  for (const r of records(received)) {
    if (r.type === RECORD.changeCipherSpec || r.type === RECORD.applicationData) return undefined;
    if (r.type === RECORD.alert && r.body.length >= 2) return ALERTS[r.body[1]!] ?? `alert ${r.body[1]}`;
  }
  return undefined;
}

/**
 * True when the server's handshake held a CertificateRequest, false when it ended without one,
 * undefined when it cannot be read (a cipher suite this does not know, bytes missing).
 */
export function serverAskedForCertificate(
  received: Buffer,
  protocol: string | null,
  cipher: string | undefined,
  keylog: readonly string[],
): boolean | undefined {
  if (protocol === "TLSv1.2") {
    const handshake: Buffer[] = [];
    for (const r of records(received)) {
      if (r.type === RECORD.changeCipherSpec) break;
      if (r.type === RECORD.handshake) handshake.push(r.body);
    }
    const types = messageTypes(Buffer.concat(handshake));
    if (types.includes(HANDSHAKE.certificateRequest)) return true;
    return types.includes(HANDSHAKE.serverHelloDone) ? false : undefined;
  }
  if (protocol !== "TLSv1.3") return undefined;
  const suite = cipher === undefined ? undefined : TLS13_SUITES[cipher];
  const secretLine = keylog.find((l) => l.startsWith("SERVER_HANDSHAKE_TRAFFIC_SECRET "));
  if (suite === undefined || secretLine === undefined) return undefined;
  const secret = Buffer.from(secretLine.trim().split(" ")[2] ?? "", "hex");
  const key = expandLabel(suite.hash, secret, "key", suite.keyLength);
  const iv = expandLabel(suite.hash, secret, "iv", 12);
  const handshake: Buffer[] = [];
  let sequence = 0n;
  for (const r of records(received)) {
    if (r.type !== RECORD.applicationData) continue;
    const plain = decrypt(suite.aead, key, nonce(iv, sequence++), r.header, r.body);
    if (plain === undefined) return undefined;
    // TLSInnerPlaintext: content, the real content type, then zero padding.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (plain[end] !== RECORD.handshake) continue;
    handshake.push(plain.subarray(0, end));
    const types = messageTypes(Buffer.concat(handshake));
    if (types.includes(HANDSHAKE.certificateRequest)) return true;
    if (types.includes(HANDSHAKE.finished)) return false;
  }
  return undefined;
}

const TLS13_SUITES: Record<string, { aead: string; hash: string; keyLength: number }> = {
  TLS_AES_128_GCM_SHA256: { aead: "aes-128-gcm", hash: "sha256", keyLength: 16 },
  TLS_AES_256_GCM_SHA384: { aead: "aes-256-gcm", hash: "sha384", keyLength: 32 },
  TLS_CHACHA20_POLY1305_SHA256: { aead: "chacha20-poly1305", hash: "sha256", keyLength: 32 },
};

/** HKDF-Expand-Label with an empty context, one HMAC block (RFC 8446 section 7.1). */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  return createHmac(hash, secret)
    .update(info)
    .update(Buffer.from([1]))
    .digest()
    .subarray(0, length);
}

/** The per-record nonce: the IV XOR the 64-bit record sequence number (RFC 8446 section 5.3). */
function nonce(iv: Buffer, sequence: bigint): Buffer {
  const out = Buffer.from(iv);
  for (let i = 0; i < 8; i++) out[11 - i]! ^= Number((sequence >> BigInt(8 * i)) & 0xffn);
  return out;
}

function decrypt(aead: string, key: Buffer, iv: Buffer, header: Buffer, body: Buffer): Buffer | undefined {
  if (body.length < 16) return undefined;
  try {
    const decipher = createDecipheriv(aead as "aes-128-gcm", key, iv, { authTagLength: 16 });
    decipher.setAAD(header);
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
  } catch {
    return undefined;
  }
}
