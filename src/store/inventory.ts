/**
 * The tree read once, into plain data: the CAs (current, intermediate, a rotation's previous, the
 * bundle every ca.crt copy holds), the directories the CA keys live in, the CRLs, the issuance
 * ledger, the config's wanted names and every leaf directory (inventory-leaf.ts). Each file is
 * opened at most once, by descriptor, keys and the files a leaf's owner could plant without
 * following links (file-facts.ts); nothing is judged here. `check` judges it (leaf-verdict.ts,
 * tree-verdict.ts); a command that needs one fact of the tree takes it from here, not from a
 * second read.
 */
import type { PluginConfig } from "../config/config-data.js";
import { stackTreeWarning } from "../config/stack.js";
import { wantedSans } from "../config/wanted-sans.js";
import type { Role, San } from "../pki/profiles.js";
import { readKnown, type FileRead, type KnownFiles } from "./file-facts.js";
import { readCertFacts, readKeyFacts, type CertFacts, type KeyFacts } from "./inventory-leaf.js";
import { unsafeDirectories } from "./key-mode.js";
import { readLedger, type Ledger } from "./ledger.js";
import { listIssuedLeaves } from "./leaf-list.js";
import type { LeafFiles, TreePaths } from "./paths.js";
import { assertTreeExists } from "./tree-access.js";
import { exists } from "./write.js";

/** A CA's cert and (when the cert parsed) its key. */
export interface CaFacts {
  readonly role: Extract<Role, "ca" | "intermediate">;
  /** "previous" for the CA a rotation is taking out. */
  readonly name: "ca" | "intermediate" | "previous";
  readonly keyPath: string;
  readonly cert: CertFacts;
  readonly key: KeyFacts | undefined;
  /** The root's key when an intermediate signs: it may rightly live offline (issue 7). */
  readonly keyOptional: boolean;
}

export type LedgerRead =
  | { readonly found: "missing" }
  | { readonly found: "read"; readonly ledger: Ledger }
  | { readonly found: "damaged"; readonly message: string };

export interface TreeInventory {
  readonly tree: TreePaths;
  readonly root: CaFacts;
  /** The tree root down to ca/: who could swap the CA key (key-mode.ts unsafeDirectories). */
  readonly caDirectoryProblems: readonly string[];
  readonly intermediate: CaFacts | undefined;
  readonly previous: CaFacts | undefined;
  readonly previousDirectoryProblems: readonly string[];
  /** ca/bundle.crt: what the ca.crt copies hold under an intermediate or a rotation. */
  readonly bundle: FileRead;
  /** ca/ca.crl, and ca/previous/ca.crl (read only beside a CRL). */
  readonly crl: FileRead;
  readonly previousCrl: FileRead | undefined;
  readonly ledger: LedgerRead;
  /** Plugin name → the SANs the config asks its cert to carry; empty without a config. */
  readonly wanted: ReadonlyMap<string, readonly San[]>;
  /** The config's tree is not this one (config/stack.ts), when it says so. */
  readonly stackWarning: string | undefined;
  /** The leaf directories to judge: every one, or those asked for (see InventoryOptions.leaves). */
  readonly leaves: readonly LeafFiles[];
}

export interface InventoryOptions {
  /** The plugin config, already loaded: its wanted SANs are part of the inventory. */
  readonly config?: PluginConfig;
  /**
   * Only these leaves (the CAs always), for a command that touches a few. During a CA rotation
   * every leaf is listed all the same: the rotation's warning counts those the previous CA signs.
   */
  readonly leaves?: readonly LeafFiles[];
  /** The ledger as the caller holds it, just written (renew): not read and parsed again. */
  readonly ledger?: Ledger;
  /**
   * ca/'s files as the caller holds them (renew: read by this inventory at its start, or written
   * by its CA rotation since): taken from here, not opened again; those read are added.
   */
  readonly known?: KnownFiles;
}

function readCa(
  certPath: string,
  keyPath: string,
  role: CaFacts["role"],
  name: CaFacts["name"],
  keyOptional = false,
  known?: KnownFiles,
): CaFacts {
  const cert = readCertFacts(certPath, known);
  const key = cert.cert === undefined ? undefined : readKeyFacts(keyPath, cert.cert, true, known);
  return { role, name, keyPath, cert, key, keyOptional };
}

/** Everything but the leaves' own files: the CAs, CRLs, ledger and the list of leaf directories. */
export async function readTreeInventory(tree: TreePaths, o: InventoryOptions = {}): Promise<TreeInventory> {
  await assertTreeExists(tree);
  // Presence by lstat (a name, dangling or not), as every command decides it; the read is below.
  const [hasIntermediate, hasPrevious] = await Promise.all([
    exists(tree.intermediateCert),
    exists(tree.previousCaCert),
  ]);
  const [caDirectoryProblems, previousDirectoryProblems, ledger, leaves] = await Promise.all([
    unsafeDirectories(tree.root, tree.caDir),
    hasPrevious ? unsafeDirectories(tree.previousCaDir, tree.previousCaDir) : [],
    o.ledger
      ? ({ found: "read", ledger: o.ledger } satisfies LedgerRead)
      : readLedger(tree).then(
          (ledger): LedgerRead => (ledger === undefined ? { found: "missing" } : { found: "read", ledger }),
          (e: unknown): LedgerRead => ({ found: "damaged", message: e instanceof Error ? e.message : String(e) }),
        ),
    o.leaves !== undefined && !hasPrevious ? o.leaves : listIssuedLeaves(tree),
  ]);
  const { known } = o;
  const crl = readKnown(tree.caCrl, {}, known);
  return {
    tree,
    root: readCa(tree.caCert, tree.caKey, "ca", "ca", hasIntermediate, known),
    caDirectoryProblems,
    intermediate: hasIntermediate
      ? readCa(tree.intermediateCert, tree.intermediateKey, "intermediate", "intermediate", false, known)
      : undefined,
    previous: hasPrevious ? readCa(tree.previousCaCert, tree.previousCaKey, "ca", "previous", false, known) : undefined,
    previousDirectoryProblems,
    bundle: readKnown(tree.caBundle, {}, known),
    crl,
    previousCrl: crl.found === "missing" ? undefined : readKnown(tree.previousCaCrl, {}, known),
    ledger,
    wanted: wantedSans(o.config),
    stackWarning: o.config && stackTreeWarning(o.config),
    leaves,
  };
}
