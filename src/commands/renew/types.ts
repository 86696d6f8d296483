/**
 * The shapes renew plans and executes with. What it reports (RenewReport and its parts) lives in
 * report/renew-types.ts, where the renderer and the deploy hook read it without importing a command.
 */
import type { X509Certificate as NodeCert } from "node:crypto";
import type { KeyType } from "../../pki/keys.js";
import type { San } from "../../pki/profiles.js";
import type * as x509 from "../../pki/x509.js";
import type { LeafFiles, TreePaths } from "../../store/paths.js";
import type { LedgerEntry } from "../../store/ledger.js";
import type { KeyFileStat } from "../../store/key-mode.js";
import type { CaPublicKey } from "../../store/leaf-key.js";
import type { TreeOptions } from "../../store/issue-types.js";
import type { SignedBy } from "../../pki/check-entry.js";

export interface RenewOptions extends TreeOptions {
  /** Validity of the renewed https cert (certs/cert.pem) in days. Default 365; `days` is the mcp certs'. */
  httpsDays?: number;
  /** Renew what expires within this many days. Default 30. */
  within?: number;
  /** Only these leaves: `gateway`, `https`, a plugin/server/client name, or `plugin/<name>`. Default: all. */
  names?: readonly string[];
  /** Keep each leaf's key (clients pinning the SPKI keep working). Default: a new key. */
  reuseKey?: boolean;
  /** Renew the selected leaves whatever their dates. */
  force?: boolean;
  /** Plan only: nothing is written. */
  dryRun?: boolean;
  /** Plugin config: a SAN it asks for that a plugin's cert lacks is added on renewal. */
  config?: string;
  /**
   * Extra DNS names (`--san`) and IP addresses (`--ip`) for the one leaf named: it is re-issued
   * now with them (no `force` needed), and the ledger records them so every later renew keeps them.
   */
  san?: readonly string[];
  ip?: readonly string[];
  /** Rotate the CA first (new key, same subject); every ca.crt copy trusts old and new. */
  ca?: boolean;
  /** With `ca`: only the CA and the bundles; the leaves are renewed by a later `renew`. */
  keepLeaves?: boolean;
  /**
   * The key type of new keys. Unset (the default for renew): each leaf keeps its own key type.
   * Overrides TreeOptions.keyType's meaning of "default rsa4096".
   */
  keyType?: KeyType;
}

/** The cert that signs renewed leaves, and the one a rotation moved out. */
export interface Signer {
  tree: TreePaths;
  /** Undefined in a dry run of a rotation (the new CA does not exist yet). */
  cert: NodeCert | undefined;
  role: SignedBy;
  previous: NodeCert | undefined;
  /** The CAs' public keys from the certs read at the start; undefined after a rotation (read anew). */
  caPublicKeys: CaPublicKey[] | undefined;
}

/** What deciding needs, read for every leaf with Node's fast parser. */
export interface LeafOnDisk {
  node: NodeCert;
  pem: string;
  /** Known up front only during a rotation (the previous CA's leaves are due); else filled in later. */
  signedBy: SignedBy | null;
  /** The ledger's record of this very cert; undefined only for the self-signed https cert. */
  entry: LedgerEntry | undefined;
  /**
   * Signed from a CSR (`sign`), as the LEDGER records it (source "csr", this serial and SPKI,
   * valid): no key file is ours, and renewal signs the cert's own public key again. Never read
   * from the leaf directory, which the leaf's owner can write.
   */
  fromCsr: boolean;
  /** The ledger has this cert revoked ("revoked (keyCompromise) on …"): due now, never kept. */
  revokedInLedger?: string;
}

/** What re-issuing needs, read only for the leaves that are due. */
export interface OldLeaf extends LeafOnDisk {
  peculiar: x509.X509Certificate;
  /** Empty for a leaf signed from a CSR: its key is not ours. */
  keyPem: string;
  /** The fstat of the descriptor keyPem was read from (its mode and group carry over); none for a CSR leaf. */
  keyStat: KeyFileStat | undefined;
  keyEncrypted: boolean;
  keyType: KeyType;
  /** The CRL's word on this cert ("revoked … in ca/ca.crl"), read only for --reuse-key. */
  revoked: string | undefined;
  /** The SANs recorded when the tree issued it (the same cert: the ledger has its fingerprint). */
  sans: San[];
}

export interface LeafPlan {
  files: LeafFiles;
  disk: LeafOnDisk;
  reasons: string[];
  /** SANs the plugin config, the ledger's asked names or `--san`/`--ip` ask for that the old cert lacks. */
  addSans: San[];
  /**
   * Due by date, but not re-issued: the CA caps the new notAfter at or before the current one, so
   * a new key would buy no time (and the nightly renew would re-key it every night until then).
   */
  caExpiresFirst: boolean;
}
