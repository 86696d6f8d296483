/**
 * `mtls-certs renew`: re-issues every leaf that has expired or expires within the window, with
 * the same subject (byte for byte), SANs, extensions, profile and key type, under the tree's CA,
 * which is kept as it is. The previous cert and key go to a dated backup folder inside the tree
 * (0600). `renew --ca` first rotates the CA; `ca --finish-rotation` ends the change-over.
 *
 * Exit codes are for cron and systemd (issue 10): what matters is the state afterwards, not
 * whether something was renewed. `renewNeedsAttention` is the one rule.
 *
 * The work is split: plan.ts decides what to renew and why, execute.ts re-issues one leaf
 * (backup.ts keeps the old pair), rotation.ts is `renew --ca` and `ca --finish-rotation`,
 * report.ts builds what renew tells. This file runs them in order.
 */
import { DEFAULT_RENEW_WITHIN_DAYS } from "../../defaults.js";
import { MtlsError } from "../../errors.js";
import { capWarning, validityFor } from "../../pki/issue.js";
import { createLimiter } from "../../pki/limiter.js";
import { checkName } from "../../pki/names.js";
import { extraSans } from "../../pki/name-policy.js";
import { loadSigningCa, type LoadedCa } from "../../store/ca-store.js";
import { foreignLeftovers, withExistingTree } from "../../store/tree-access.js";
import { listIssuedLeaves } from "../../store/leaf-list.js";
import type { LeafFiles } from "../../store/paths.js";
import { adoptionLines, reconcileLedger } from "../../store/ledger-adoption.js";
import { exists } from "../../store/write.js";
import { checkTree } from "../../store/check-tree.js";
import { wantedSans as wantedSansOf } from "../../config/wanted-sans.js";
import { loadPluginConfig } from "../../config/plugin-config.js";
import { readTreeInventory } from "../../store/inventory.js";
import { caPublicKeysOf } from "../../store/leaf-key.js";
import { caPublicKeysAfterRotation, reconcileReadsOf, revocationAfterRotation, signingReads } from "./tree-read.js";
import { entryFails } from "../../pki/check-entry.js";
import { BackupFolder, restoreInterrupted } from "./backup.js";
import { renewLeaf } from "./execute.js";
import { readLeaves, type LeafRead } from "./leaf-read.js";
import type { KnownFiles } from "../../store/file-facts.js";
import { planFor, readDetails, readLeaf, previousCaCert, renewalDays, selectLeaves, signerCert } from "./plan.js";
import { failure, planned } from "./report.js";
import { rotateCa } from "./rotation.js";
import type { CaRotation, FailedCert, RenewReport, RenewedCert } from "../../report/renew-types.js";
import type { LeafPlan, RenewOptions, Signer } from "./types.js";
import { plural } from "../../human.js";

export { renewExitCode, renewNeedsAttention } from "./report.js";
export { finishCaRotation, type FinishRotationOptions, type FinishRotationReport } from "./rotation.js";
export type { RenewOptions } from "./types.js";
export type { CaRotation, CertState, FailedCert, RenewReport, RenewedCert } from "../../report/renew-types.js";

/** Leaves read at once: keeps a tree of thousands under the open-file limit. */
const READ_CONCURRENCY = 64;

export async function renewTree(o: RenewOptions = {}): Promise<RenewReport> {
  for (const name of o.names ?? []) checkName(name.replace(/^[a-z]+\//, ""), "renew: name");
  if (o.reuseKey && o.keyType !== undefined)
    throw new MtlsError(
      "E_USAGE",
      "--reuse-key and --key-type ask for both the old key and a new key type",
      "give one of them",
    );
  if (o.keepLeaves && !o.ca) throw new MtlsError("E_USAGE", "--keep-leaves only goes with --ca");
  const flagSans = extraSans(o);
  if (flagSans.length > 0 && (o.names ?? []).length !== 1)
    throw new MtlsError(
      "E_USAGE",
      `--san/--ip add names to one leaf; ${(o.names ?? []).length === 0 ? "no leaf was named" : `${(o.names ?? []).length} were named`}`,
      "name the leaf: `mtls-certs renew NAME --san HOST`",
    );
  return withExistingTree(o, async (tree) => {
    const now = o.now ?? new Date();
    const within = o.within ?? DEFAULT_RENEW_WITHIN_DAYS;
    const dryRun = Boolean(o.dryRun);
    const leaves = selectLeaves(await listIssuedLeaves(tree), o.names);
    const config = o.config === undefined ? undefined : await loadPluginConfig(o.config);
    const wantedSans = wantedSansOf(config);
    // The files of the tree the run read (ca/'s here, the leaves' below) and wrote since, by path:
    // the rotation, the renewals and the closing check take them from here, opening none again.
    const known: KnownFiles = new Map();
    // The tree read once (store/inventory.ts): the ledger, ca/ and the CRLs, for the reconcile and
    // the signer now, and for the closing report when no rotation changed the CA meanwhile.
    const inventory = await readTreeInventory(tree, { config, leaves: leaves.selected, known });
    const backup = new BackupFolder(tree, now);
    const warnings: string[] = [];
    // What the tree issued (a ledgerless tree is adopted here); written once at the end.
    // Each selected leaf's cert read once, here: the reconcile, the repair and the plan share it.
    // Its key, ca.crt copy and bundles too, into `known`, where renew's writes are recorded: the
    // closing check judges those and opens none of them again.
    const reads = await readLeaves(leaves.selected, known);
    const readOf = (files: LeafFiles): LeafRead => reads.get(files)!;
    const reconciled = await reconcileLedger(
      tree,
      now,
      leaves.selected,
      (files) => reads.get(files)?.cert,
      await reconcileReadsOf(inventory, now),
    );
    const { book } = reconciled;
    const restored = dryRun ? [] : await restoreInterrupted(tree, reads.values(), o.keyPassphrase, book);
    try {
      return await renewWithLedger();
    } finally {
      if (!dryRun) await book.save(tree);
    }

    async function renewWithLedger(): Promise<RenewReport> {
      let rotation: { ca: LoadedCa | undefined; report: CaRotation } | undefined;
      if (o.ca) rotation = await rotateCa(tree, leaves.all, o, now, backup, known);
      // A dry run of a rotation has no new CA to compare with: every leaf would move to it.
      const rotatingDry = Boolean(o.ca && dryRun);
      const signer: Signer = {
        tree,
        cert: rotatingDry ? undefined : await signerCert(tree, rotation?.ca, now, reconciled.cas),
        role: (await exists(tree.intermediateCert)) ? "intermediate" : "ca",
        previous: await previousCaCert(tree, rotation !== undefined, reconciled.cas, known),
        caPublicKeys:
          rotation === undefined
            ? caPublicKeysOf(tree, [reconciled.cas.caPem, reconciled.cas.intermediatePem, reconciled.cas.previousPem])
            : o.reuseKey
              ? caPublicKeysAfterRotation(tree, known)
              : undefined,
      };

      const failed: FailedCert[] = [];
      const plans: LeafPlan[] = [];
      // Leaves due by date that the CA's notAfter keeps from living longer (plan.ts).
      const capped: string[] = [];
      const caNotAfter = signer.cert ? new Date(signer.cert.validTo) : undefined;
      const keptPaths = new Set<string>();
      // --keep-leaves: the change-over's first step touches the CA and the bundles only.
      const reading = createLimiter(READ_CONCURRENCY);
      // Named like our temp files but not ours (a directory, a link, a FIFO): that leaf fails (exit 2), no other.
      const leftoverIn = new Map<LeafFiles, string>();
      for (const line of foreignLeftovers(tree)) {
        const files = leaves.selected.find((l) => l.role !== "https" && line.startsWith(`${l.dir}/`));
        if (files === undefined) warnings.push(line);
        else leftoverIn.set(files, [leftoverIn.get(files), line].filter(Boolean).join("\n"));
      }
      await Promise.all(
        (o.keepLeaves ? [] : leaves.selected).map((files) =>
          reading(async () => {
            try {
              const leftover = leftoverIn.get(files);
              if (leftover !== undefined) throw new MtlsError("E_NOT_REGULAR_FILE", leftover);
              const disk = await readLeaf(readOf(files), signer, book);
              if (disk === undefined) return; // an empty directory: nothing to renew
              const plan = planFor(files, disk, wantedSans, o, now, within, rotatingDry, caNotAfter, flagSans);
              if (plan.reasons.length > 0) plans.push(plan);
              else keptPaths.add(files.cert);
              if (plan.caExpiresFirst) capped.push(files.name);
            } catch (e) {
              failed.push(failure(files, e));
            }
          }),
        ),
      );
      if (o.keepLeaves) for (const files of leaves.selected) keptPaths.add(files.cert);

      const renewed: RenewedCert[] = [];
      if (plans.length > 0) {
        // Refuses a dead CA (exit 1, its dates, the `renew --ca` hint) before anything is written.
        const ca = dryRun
          ? undefined
          : (rotation?.ca ??
            (await loadSigningCa(tree, {
              now,
              passphrase: o.caPassphrase,
              read: signingReads(inventory, reconciled.cas),
            })));
        const limit = createLimiter(o.jobs);
        // --reuse-key never signs a key whose cert the CRL lists (a tree adopted with its CRL included).
        // The CRLs as the run read them at its start; after a rotation, judged again against the CAs
        // it wrote (from `known`: the files as read and written, none opened again).
        const revocation = !o.reuseKey
          ? undefined
          : rotation === undefined
            ? reconciled.revocation
            : await revocationAfterRotation(tree, known, now);
        o.onProgress?.(`${dryRun ? "planning" : "renewing"} ${plural(plans.length, "certificate")}`);
        await Promise.all(
          plans.map(async (plan) => {
            try {
              const revoked = revocation?.leafProblem(plan.disk.node.serialNumber);
              const old = await readDetails(plan, readOf(plan.files), o, signer, revoked);
              // A self-signed https cert stays self-signed: no CA signs it and none caps its dates.
              const selfSigned = old.signedBy === "self";
              const days = renewalDays(plan.files, o);
              const caNotAfter = signer.cert && !selfSigned ? new Date(signer.cert.validTo) : undefined;
              const validity = validityFor({ days, now, notBefore: o.notBefore, notAfter: o.notAfter }, caNotAfter);
              const capped = capWarning(plan.files.cert, validity);
              if (capped) warnings.push(capped);
              renewed.push(
                ca === undefined
                  ? planned(plan, old, validity, o, signer)
                  : await renewLeaf(
                      plan,
                      old,
                      selfSigned ? undefined : ca,
                      validity,
                      o,
                      limit,
                      backup,
                      signer,
                      warnings,
                      book,
                      now,
                      known,
                    ),
              );
            } catch (e) {
              // What a failed renewal wrote is not known for sure: the closing check reads the leaf.
              readOf(plan.files).forget();
              failed.push(failure(plan.files, e));
            }
          }),
        );
      }

      if (capped.length > 0)
        warnings.push(
          `the CA expires first: \`mtls-certs renew --ca\`; ${capped.length} certificate(s) due for renewal (${capped.join(", ")}) would get no later notAfter than they have (the CA's ${caNotAfter?.toISOString()}), so none was re-issued`,
        );
      // Saved before the check below reads it (the finally saves only on a failure before here).
      if (!dryRun) await book.save(tree);
      // `renew NAME` reports on the leaves it selected: their check, not the whole tree's.
      const after = await checkTree({
        out: tree.root,
        now,
        within,
        config: o.config,
        leaves: o.names?.length ? leaves.selected : undefined,
        // ca/ as read at the start, unless a rotation changed it (a dry run's changed nothing).
        inventory: rotation === undefined || dryRun ? inventory : undefined,
        // Saved just above: the same record, not read and parsed again (a dry run saved nothing).
        ledger: dryRun ? undefined : book.ledger,
        // The tree's files as read at the start and written since (a rotation's writes too).
        known,
      });
      const selectedPaths = new Set(leaves.selected.map((l) => l.cert));
      const relevant = after.certificates.filter(
        (c) => c.role === "ca" || c.role === "intermediate" || selectedPaths.has(c.path),
      );
      const byName = (a: { role: string; name: string }, b: { role: string; name: string }) =>
        a.role.localeCompare(b.role) || a.name.localeCompare(b.name);
      return {
        root: tree.root,
        renewedAt: now.toISOString(),
        within,
        dryRun,
        backup: backup.used ? backup.path : null,
        ca: rotation?.report ?? null,
        renewed: renewed.sort(byName),
        kept: after.certificates.filter((c) => keptPaths.has(c.path)),
        failed: failed.sort(byName),
        warnings: [...warnings, ...after.warnings],
        attention: relevant.filter((c) => entryFails(c, true)),
        // A dry run writes no ledger: it says what the real run would adopt.
        adopted: [
          ...restored,
          ...adoptionLines(reconciled).map((l) => (dryRun ? l.replace(/^adopted /, "would adopt ") : l)),
        ],
      };
    }
  });
}
