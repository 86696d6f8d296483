/**
 * The one error type of mtls-certs. Everything below the CLI throws it; only `cli.ts` turns it
 * into an exit code and a message. `code` is stable and part of the library API.
 */

/** Exit codes: the contract with CI schedules and cron jobs. */
export const EXIT = {
  ok: 0,
  /** A check found a problem, or something still needs attention. */
  problem: 1,
  /** Bad input or usage: nothing was written. */
  usage: 2,
  sigint: 130,
  sigterm: 143,
} as const;

/** Every error code and the exit code it maps to. */
export const ERROR_CODES = {
  E_USAGE: EXIT.usage,
  E_BAD_NAME: EXIT.usage,
  /** `sign`: not a CSR, or its own signature does not verify. */
  E_BAD_CSR: EXIT.usage,
  E_BAD_DAYS: EXIT.usage,
  E_BAD_NUMBER: EXIT.usage,
  E_BAD_SAN: EXIT.usage,
  E_BAD_IP: EXIT.usage,
  E_BAD_URL: EXIT.usage,
  E_BAD_KEY_TYPE: EXIT.usage,
  E_CONFIG_SYNTAX: EXIT.usage,
  E_CONFIG_SHAPE: EXIT.usage,
  E_PASSPHRASE: EXIT.usage,
  E_NAME_CONSTRAINT: EXIT.usage,
  /** A SAN the name policy refuses for a leaf (pki/name-policy.ts): that leaf is not signed. */
  E_NAME_REFUSED: EXIT.usage,
  E_NOT_FOUND: EXIT.usage,
  E_CA_MISSING: EXIT.usage,
  E_CA_DAMAGED: EXIT.usage,
  E_CA_MISMATCH: EXIT.usage,
  E_CERT_WITHOUT_KEY: EXIT.usage,
  E_DAMAGED: EXIT.usage,
  E_NOT_SIGNED_BY_CA: EXIT.usage,
  /** A symlink where a key, a leaf directory or the tree's ca/ should be. */
  E_SYMLINK: EXIT.usage,
  /** A FIFO, device or directory where a file to read should be. */
  E_NOT_REGULAR_FILE: EXIT.usage,
  /** A key file with a second name (st_nlink > 1): it may be another file's, the CA key's. */
  E_HARDLINK: EXIT.usage,
  /** A file over its size cap (cert, key, CSR 1 MiB; config, ledger, CRL 64 MiB): not read. */
  E_TOO_LARGE: EXIT.usage,
  /** A leaf directory (or one above it) another user owns or may write (OpenSSH's StrictModes). */
  E_UNSAFE_DIRECTORY: EXIT.usage,
  /** `revoke NAME` where NAME's directory holds another leaf's recorded cert: nothing revoked. */
  E_FOREIGN_TARGET: EXIT.usage,
  /** A leaf key that is not its cert's, or is a CA's key. */
  E_KEY_MISMATCH: EXIT.usage,
  /** A CA key others can read, or a tree others can write (OpenSSH's rule): the hint has the chmod. */
  E_UNSAFE_MODE: EXIT.usage,
  /**
   * The file system refused a read or a write (permission denied, read-only, full, over quota):
   * the message names the file and the reason. Writes are atomic, so nothing is half-written.
   */
  E_FILE_SYSTEM: EXIT.usage,
  E_CA_EXPIRED: EXIT.problem,
  E_LOCKED: EXIT.problem,
  /** A file operation refused after SIGINT/SIGTERM; the signal handler exits 130/143. */
  E_INTERRUPTED: EXIT.sigint,
  E_IO: EXIT.problem,
  E_CHECK_FAILED: EXIT.problem,
  /** `ca --finish-rotation` while leaves still need the previous CA: run `renew` first. */
  E_ROTATION_PENDING: EXIT.problem,
  /** A cert in a leaf directory that the issuance ledger did not record there (ca/ledger.json). */
  E_FOREIGN: EXIT.problem,
  /** `renew --reuse-key` with a key that was revoked or is not the one the ledger recorded. */
  E_KEY_REFUSED: EXIT.problem,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class MtlsError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** What the user can do next, shown under the message. */
  readonly hint: string | undefined;

  /** `cause`: the system error behind it, when one was (its errno tells a caller what happened). */
  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MtlsError";
    this.code = code;
    this.exitCode = ERROR_CODES[code];
    this.hint = hint;
  }
}

export function isMtlsError(e: unknown): e is MtlsError {
  return e instanceof MtlsError;
}

/** A Node system error's code (ENOENT, EEXIST …) or undefined. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined;
}

/** What an errno means, in strerror(3)'s words: "EROFS" alone tells most users nothing. */
const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
  ENOENT: "no such file or directory",
  ENOTDIR: "a component of the path is not a directory",
  EISDIR: "is a directory",
  EEXIST: "already exists",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ENAMETOOLONG: "file name too long",
  ELOOP: "too many levels of symbolic links",
  EBUSY: "device or resource busy",
  EXDEV: "not on the same file system",
};

/** What to do about it; writes go through a temp file and a link or rename, so none is half-written. */
const ERRNO_HINT: Record<string, string> = {
  EACCES: "run mtls-certs as the user that owns the tree, or fix the permissions (ls -ld the file and its directory)",
  EPERM: "run mtls-certs as the user that owns the tree, or fix the permissions (ls -ld the file and its directory)",
  EROFS:
    "remount the file system read-write, or give --out a writable directory, then run the command again; nothing was half-written",
  ENOSPC: "free some space (df -h), then run the command again; temp files were removed and nothing was half-written",
  EDQUOT: "free some space under your quota (quota -s), then run the command again; nothing was half-written",
};

/**
 * A file-system error as the one error type: `<path>: cannot <action>: <reason> (<ERRNO>)`,
 * exit 2. `action` says what failed: "write", "read", "create the directory".
 */
export function fileSystemError(path: string, action: string, e: unknown): MtlsError {
  const code = errnoCode(e);
  const reason = code === undefined ? (e instanceof Error ? e.message : String(e)) : (ERRNO_TEXT[code] ?? code);
  return new MtlsError(
    "E_FILE_SYSTEM",
    `${path}: cannot ${action}: ${reason}${code === undefined ? "" : ` (${code})`}`,
    code === undefined ? undefined : ERRNO_HINT[code],
    { cause: e },
  );
}

/** Node's fs errors carry the syscall and the path: enough to name the file without a stack. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException & { syscall: string } {
  return errnoCode(e) !== undefined && typeof (e as { syscall?: unknown }).syscall === "string";
}
