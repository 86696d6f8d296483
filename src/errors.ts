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
  /** A leaf key that is not its cert's, or is a CA's key. */
  E_KEY_MISMATCH: EXIT.usage,
  /** A CA key others can read, or a tree others can write (OpenSSH's rule): the hint has the chmod. */
  E_UNSAFE_MODE: EXIT.usage,
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

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
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
