/**
 * What a command asks the tree for (the options every writing command takes, one leaf request)
 * and what a run reports back: the shapes tree.ts's issueIntoTree, renew and the report share.
 */
import type * as x509 from "../pki/x509.js";
import type { ErrorCode } from "../errors.js";
import type { KeyType } from "../pki/keys.js";
import type { CaSubjectOptions, Profile, Role, San, Subject } from "../pki/profiles.js";
import type { LeafFiles } from "./paths.js";
import type { CertResult } from "./cert-result.js";

/** Options every command that writes the tree takes; the names match the CLI flags. */
export interface TreeOptions {
  /** The tree's root. Default `certs/mcp`, relative to the current directory. */
  out?: string;
  /** Validity of new leaf certificates in days. Default 825 (MCP_CERT_DAYS). */
  days?: number;
  /** Validity of a new (or rotated) CA in days. Default 3650 (MCP_CA_DAYS); an intermediate gets 1825. */
  caDays?: number;
  /** Key type of new keys. Default rsa4096. */
  keyType?: KeyType;
  /** The clock. Default: now. */
  now?: Date;
  /** Explicit validity for new leaves, for test fixtures; wins over `now`/`days`. */
  notBefore?: Date;
  notAfter?: Date;
  /** How many keys to generate at once. Default: the number of cores. */
  jobs?: number;
  /** Encrypts new leaf keys with this passphrase (and opens encrypted leaf keys). */
  keyPassphrase?: string;
  /** Encrypts a new CA (and intermediate) key, and opens an encrypted one: never the leaves' passphrase. */
  caPassphrase?: string;
  /** Subject of a new CA. */
  caSubject?: CaSubjectOptions;
  /** Extensions a new CA gets (nameConstraints). */
  caExtensions?: readonly x509.Extension[];
  /** A new CA also gets an intermediate (pathlen 0) that signs every leaf (`ca --intermediate`). */
  intermediate?: boolean;
  /** How long to wait for another run's lock, in ms. */
  lockWaitMs?: number;
  /**
   * Group of the leaf keys (`--key-group`, env MTLS_CERTS_KEY_GROUP): 0640 in that group from the
   * first byte, so a container user in it can read them. Never the CA's key.
   */
  keyGroup?: number;
  /** The gateway's key's group when it differs (`--gateway-key-group`): its image reads as 10001. */
  gatewayKeyGroup?: number;
  /** Progress for people; never key material. */
  onProgress?: (message: string) => void;
}

/** One certificate a leaf command asks for. */
export interface LeafRequest {
  readonly files: LeafFiles;
  readonly profile: Profile;
  /** Names for a new cert, or an existing cert's exact name (renewal keeps it byte for byte). */
  readonly subject: Subject | x509.Name;
  readonly sans: readonly San[];
  /** Extensions beyond the profile's, e.g. ones an existing cert carries that renewal keeps. */
  readonly extensions?: readonly x509.Extension[];
  /** 0600 unless the role needs otherwise (https: 0640, for a container's group 0). */
  readonly keyMode?: number;
  /** Group of the key file, set before its first byte is written (`https --group`). */
  readonly keyGroup?: number;
}

export interface IssueReport {
  readonly root: string;
  readonly certificates: CertResult[];
  readonly warnings: string[];
  /** `all` on an existing tree: how many kept certs need attention, and the one command to run next. */
  readonly attention?: number;
  /** `all`: certs that `check` would report expiring (not failing) right after, and its window in days. */
  readonly expiring?: { readonly count: number; readonly within: number };
  readonly next?: string | null;
  /** What the issuance ledger adopted on this run, one line per cert (ledger.ts adoptionLines). */
  readonly adopted?: string[];
  /** Named like our temp files but not ours (foreignLeftovers): also in `warnings`; `all` exits 2 after the run. */
  readonly leftovers?: readonly string[];
  /** Leaves not signed (a name the name policy refused), each with why: the run exits 2. */
  readonly failed?: FailedLeaf[];
}

/** A leaf a run did not sign, and why (as renew's `failed`). */
export interface FailedLeaf {
  readonly role: Role;
  readonly name: string;
  readonly cert: string;
  readonly error: { code: ErrorCode; message: string; hint: string | null };
}
