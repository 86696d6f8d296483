/**
 * Files read from the tree by descriptor: the one place that opens them. A leaf directory belongs
 * to whoever can write it, so a name there may be swapped for a link, a FIFO, a hardlink of the CA
 * key or a 2 GB sparse file between two looks. Each file is opened once (O_NOFOLLOW for keys,
 * O_NONBLOCK always), its descriptor fstat'ed (a regular file; for keys one link only; at most a
 * size cap), read with the cap enforced again (the file may grow after the fstat), and anything
 * else done to it (chmod, chown, a compare) is done on that descriptor, never by its name again.
 * Writes go through write.ts (temp + rename), which replaces a name instead of writing through it.
 */
import { constants, lstatSync, promises as fs, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { MtlsError, errnoCode, fileSystemError } from "../errors.js";

/** Certificates, keys and CSRs: 1 MiB (a cert is a few kB; a chain of ten is under 20 kB). */
export const PEM_MAX_BYTES = 1024 * 1024;
/** Config files, the ledger and CRLs: 64 MiB (a 2,000-leaf ledger is about 1.3 MB). */
export const RECORD_MAX_BYTES = 64 * 1024 * 1024;

export interface OpenOptions {
  /**
   * Refuse a symlink in the last component (O_NOFOLLOW): for keys and whatever a leaf's owner could
   * plant, so a link cannot make us read (and copy, export, chmod) the CA key or /etc/shadow.
   */
  readonly noFollow?: boolean;
  /** Refuse a file with more than one name (st_nlink > 1): a hardlink of the CA key as a leaf key. */
  readonly singleLink?: boolean;
  /** Refuse (exit 2, naming the file) more bytes than this. Default RECORD_MAX_BYTES. */
  readonly maxBytes?: number;
}

/** A key, or a file holding one: never through a link, one name only, 1 MiB at most. */
export const KEY_FILE: OpenOptions = { noFollow: true, singleLink: true, maxBytes: PEM_MAX_BYTES };
/** A certificate or CSR: 1 MiB at most. */
export const CERT_FILE: OpenOptions = { maxBytes: PEM_MAX_BYTES };

/** A file open for reading, with the facts of its descriptor. */
export interface OpenedFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly stat: Stats;
}

/**
 * Opens `path` and checks its descriptor; undefined when it does not exist. Refused (exit 2,
 * naming the file and why): a link (with noFollow), anything but a regular file, a second name
 * (with singleLink), more than the size cap.
 */
export async function openChecked(path: string, o: OpenOptions = {}): Promise<OpenedFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK | (o.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP" && o.noFollow) throw symlinkRefused(path);
    throw socketRefusal(path, e, o)?.refusal ?? fileSystemError(path, "read", e);
  }
  try {
    const stat = await handle.stat();
    assertReadable(path, stat, o);
    return { path, handle, stat };
  } catch (e) {
    await handle.close();
    if (e instanceof MtlsError) throw e;
    throw fileSystemError(path, "read", e);
  }
}

/**
 * open(2) of a Unix socket fails with ENXIO: refused by its lstat as anything not a regular file
 * is (a FIFO opens, and its fstat refuses it), not as an I/O error with a chmod for advice.
 */
export function socketRefusal(
  path: string,
  e: unknown,
  o: OpenOptions,
): { stat: Stats; refusal: MtlsError } | undefined {
  if (errnoCode(e) !== "ENXIO") return undefined;
  try {
    const stat = lstatSync(path);
    const refusal = refusalOf(path, stat, o);
    return refusal && { stat, refusal };
  } catch {
    return undefined;
  }
}

function assertReadable(path: string, stat: Stats, o: OpenOptions): void {
  const refusal = refusalOf(path, stat, o);
  if (refusal) throw refusal;
}

/** Why a descriptor with these facts is not read (openChecked's refusals), or undefined. */
export function refusalOf(path: string, stat: Stats, o: OpenOptions): MtlsError | undefined {
  if (!stat.isFile())
    return new MtlsError(
      "E_NOT_REGULAR_FILE",
      `${path}: cannot read: not a regular file (${fileKind(stat)})`,
      "give the path of a regular file; nothing was read",
    );
  if (o.singleLink && stat.nlink > 1)
    return new MtlsError(
      "E_HARDLINK",
      `${path}: has ${stat.nlink} names (a hard link): a key file mtls-certs reads or writes has one`,
      `if nobody you trust linked it, it may be another key (the CA's): remove ${path} and issue the certificate again`,
    );
  const max = o.maxBytes ?? RECORD_MAX_BYTES;
  return stat.size > max ? tooLarge(path, max) : undefined;
}

export function tooLarge(path: string, max: number): MtlsError {
  return new MtlsError(
    "E_TOO_LARGE",
    `${path}: larger than ${max / (1024 * 1024)} MiB, more than such a file ever holds; not read`,
    "give the right file (a certificate, key or CSR is a few kB)",
  );
}

/** Reads at most `max` bytes from the descriptor: a file that grew past the cap since fstat is refused. */
export async function readCapped(file: OpenedFile, max = RECORD_MAX_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // Sized from the fstat (a cert is ~1 kB: two 64 KiB zero-filled buffers a file were most of
    // check's allocation); the read to the end is small, and larger again if the file grew.
    const expected = Math.max(file.stat.size - total + 1, 1024);
    const chunk = Buffer.allocUnsafe(Math.min(expected, 64 * 1024, max + 1 - total));
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.handle.read(chunk, 0, chunk.length, null));
    } catch (e) {
      throw fileSystemError(file.path, "read", e);
    }
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > max) throw tooLarge(file.path, max);
  }
}

/** Opens, checks, reads and closes: the bytes and the facts of the very descriptor they came from. */
export async function readChecked(
  path: string,
  o: OpenOptions = {},
): Promise<{ bytes: Buffer; stat: Stats } | undefined> {
  return withChecked(path, o, async (file) => ({ bytes: await readCapped(file, o.maxBytes), stat: file.stat }));
}

/** Runs `act` on the open descriptor (chmod, chown, read), then closes it; undefined when the file is missing. */
export async function withChecked<T>(
  path: string,
  o: OpenOptions,
  act: (file: OpenedFile) => Promise<T>,
): Promise<T | undefined> {
  const file = await openChecked(path, o);
  if (file === undefined) return undefined;
  try {
    return await act(file);
  } finally {
    await file.handle.close();
  }
}

/**
 * A file's text, or undefined when it does not exist. Non-blocking, regular files only, capped at
 * `maxBytes` (RECORD_MAX_BYTES by default): a FIFO, a device or a directory is refused (exit 2)
 * instead of hanging or reading /dev/zero forever.
 */
export async function readText(path: string, o: OpenOptions = {}): Promise<string | undefined> {
  return (await readBytes(path, o))?.toString("utf8");
}

/** readText's bytes: for DER and PKCS#12 input. */
export async function readBytes(path: string, o: OpenOptions = {}): Promise<Buffer | undefined> {
  return (await readChecked(path, o))?.bytes;
}

/** A private key's text (KEY_FILE): never through a symlink, never a file with a second name. */
export function readKeyText(path: string): Promise<string | undefined> {
  return readText(path, KEY_FILE);
}

/** A certificate's (or CSR's) text, 1 MiB at most. */
export function readCertText(path: string): Promise<string | undefined> {
  return readText(path, CERT_FILE);
}

export function symlinkRefused(path: string): MtlsError {
  return new MtlsError(
    "E_SYMLINK",
    `${path}: is a symbolic link; mtls-certs does not follow links for keys and leaf directories`,
    "replace the link with the real file or directory, or remove it and issue the certificate again",
  );
}

/** What a non-regular file is, for messages: "a FIFO", "a directory". */
export function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (stat.isSocket()) return "a socket";
  if (stat.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}
