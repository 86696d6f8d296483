/**
 * What renew takes from the one read of the tree (store/inventory.ts) it makes at its start, under
 * the lock: the ledger, the CA certs, the bundle and the CRLs, for the ledger's reconcile and the
 * signer; the closing report judges the same read. Nothing of ca/ is opened twice.
 */
import { certsInPem } from "../../pki/node-facts.js";
import { textOrThrow } from "../../store/file-facts.js";
import type { CaFacts, TreeInventory } from "../../store/inventory.js";
import type { ReconcileReads } from "../../store/ledger-adoption.js";
import type { TreeIssuers } from "../../store/issued-here.js";
import { readLedger } from "../../store/ledger.js";
import { revocationStatusOf, type RevocationStatus } from "../../store/revocation-status.js";
import { readKnown, type KnownFiles } from "../../store/file-facts.js";
import type { TreePaths } from "../../store/paths.js";
import { caPublicKeysOf, type CaPublicKey } from "../../store/leaf-key.js";

export async function reconcileReadsOf(inventory: TreeInventory, now: Date): Promise<ReconcileReads> {
  const { tree } = inventory;
  const read = inventory.ledger;
  // A damaged ledger stops renew with the reader's own error (its code and what to do), as before.
  const ledger = read.found === "read" ? read.ledger : read.found === "missing" ? undefined : await readLedger(tree);
  // A CA file that could not be read stops renew as a read by name would (readText's refusal).
  const pemOf = (ca: CaFacts | undefined) => (ca === undefined ? undefined : textOrThrow(ca.cert.read));
  const intermediatePem = pemOf(inventory.intermediate);
  const caPem = pemOf(inventory.root);
  const previousPem = pemOf(inventory.previous);
  const issuers = [intermediatePem, caPem, previousPem].flatMap((pem) => certsInPem(pem ?? ""));
  const revocation = await revocationStatusOf(
    tree,
    {
      crl: textOrThrow(inventory.crl),
      signer: async () => intermediatePem ?? caPem,
      previousCa: async () => previousPem,
      previousCrl: async () => (inventory.previousCrl ? textOrThrow(inventory.previousCrl) : undefined),
    },
    now,
  );
  return {
    ledger,
    cas: { intermediatePem, caPem, previousPem, issuers },
    bundlePem: inventory.bundle.found === "read" ? inventory.bundle.text : undefined,
    revocation,
  };
}

/** What loadSigningCa needs of the same read: the CA certs, the keys' text when read, the bundle. */
export function signingReads(inventory: TreeInventory, cas: TreeIssuers) {
  return {
    ...cas,
    caKeyPem: inventory.root.key?.text,
    intermediateKeyPem: inventory.intermediate?.key?.text,
    // A bundle that could not be read refuses signing as reading it by name would.
    bundle: { pem: textOrThrow(inventory.bundle) },
  };
}

/**
 * The CRLs judged against the CAs a rotation left (the new one signing, the old one in
 * ca/previous/), as readRevocationStatus reads them, from `known`: ca/'s files as the run read
 * and wrote them.
 */
export async function revocationAfterRotation(
  tree: TreePaths,
  known: KnownFiles,
  now: Date,
): Promise<RevocationStatus> {
  const text = async (path: string) => heldText(path, known);
  return revocationStatusOf(
    tree,
    {
      crl: await text(tree.caCrl),
      signer: async () => (await text(tree.intermediateCert)) ?? (await text(tree.caCert)),
      previousCa: () => text(tree.previousCaCert),
      previousCrl: () => text(tree.previousCaCrl),
    },
    now,
  );
}

/** The CAs' public keys after a rotation (--reuse-key refuses a CA's key), from `known` as above. */
export function caPublicKeysAfterRotation(tree: TreePaths, known: KnownFiles): CaPublicKey[] {
  return caPublicKeysOf(
    tree,
    [tree.caCert, tree.intermediateCert, tree.previousCaCert].map((path) => heldText(path, known)),
  );
}

/** `path` as `known` holds it, else read once into it; a held refusal is thrown as a read would. */
function heldText(path: string, known: KnownFiles): string | undefined {
  return textOrThrow(readKnown(path, {}, known));
}
