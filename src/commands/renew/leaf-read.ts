/**
 * Each leaf renew selected, read once as the run starts: its cert (what the ledger's reconcile,
 * the repair of a killed run and the plan all look at), its key by descriptor with that
 * descriptor's fstat, its ca.crt copy and the bundles beside it, the way check's read opens them
 * (store/inventory-leaf.ts readLeafFiles). What renew then writes is recorded in the same place
 * (write.ts), so the closing check judges what was read and written without opening the files
 * again. A leaf's directory is its owner's to write: two reads of one name can return two files,
 * so the checks and the work use the same bytes (issue 24: each file of the tree opened at most once).
 */
import type { KeyFileStat } from "../../store/key-mode.js";
import type { CertTextRead } from "../../store/ledger-adoption.js";
import { KEY_FILE, readChecked } from "../../store/leaf-file.js";
import { LEAVES_PER_TURN, readLeafFiles } from "../../store/inventory-leaf.js";
import { bundlesOf } from "../../store/leaf-bundles.js";
import type { LeafFiles } from "../../store/paths.js";
import { textOrThrow, type KnownFiles } from "../../store/file-facts.js";

export interface KeyRead {
  readonly bytes: Buffer;
  /** The fstat of the descriptor the bytes came from: the mode and group renewal carries over. */
  readonly stat: KeyFileStat;
}

export class LeafRead {
  private keyRead: Promise<KeyRead | undefined> | undefined;

  constructor(
    readonly files: LeafFiles,
    readonly cert: CertTextRead,
    /** The run's files as read and written (shared by every leaf of the run). */
    private readonly known: KnownFiles,
  ) {}

  /** The cert's text; throws what refused the file (a link, a FIFO, too large), as a read by name would. */
  certPem(): string | undefined {
    if ("error" in this.cert) throw this.cert.error;
    return this.cert.text;
  }

  /** The key, opened once without following links; undefined when there is none. */
  key(): Promise<KeyRead | undefined> {
    this.keyRead ??= this.heldKey() ?? readChecked(this.files.key, KEY_FILE);
    return this.keyRead;
  }

  /** The key as the start read found it; undefined to read it by name (its refusal is that read's error). */
  private heldKey(): Promise<KeyRead | undefined> | undefined {
    const held = this.known.get(this.files.key);
    if (held?.found === "missing") return Promise.resolve(undefined);
    // Text that is not UTF-8 would not round-trip: those bytes are read as they are.
    if (held?.found !== "read" || held.text.includes("\uFFFD")) return undefined;
    return Promise.resolve({ bytes: Buffer.from(held.text, "utf8"), stat: held.stat });
  }

  /** The repair wrote the key anew (temp + rename): a new file, read afresh when re-issuing needs it. */
  keyReplaced(): void {
    this.keyRead = undefined;
    this.known.delete(this.files.key);
  }

  /** The repair rewrote files of this leaf: what the run held of it is read anew by the closing check. */
  forget(): void {
    const { files } = this;
    for (const path of [files.cert, files.key, files.caCopy, files.combined, ...bundlesOf(files).map((b) => b.path)])
      if (path !== undefined) this.known.delete(path);
  }
}

/** The selected leaves read once into `known`: one LeafRead each. */
export async function readLeaves(leaves: readonly LeafFiles[], known: KnownFiles): Promise<Map<LeafFiles, LeafRead>> {
  const reads = new Map<LeafFiles, LeafRead>();
  for (const [i, files] of leaves.entries()) {
    // Synchronous reads (file-facts.ts): a big tree yields between slices, as check's read does.
    if (i > 0 && i % LEAVES_PER_TURN === 0) await new Promise(setImmediate);
    const held = readLeafFiles(files, known);
    // A refusal is kept as the error a read by name throws (file-facts.ts), not read a second time:
    // the name may lead to another file by then.
    let cert: CertTextRead;
    try {
      cert = { text: textOrThrow(held) };
    } catch (error) {
      cert = { error };
    }
    reads.set(files, new LeafRead(files, cert, known));
  }
  return reads;
}
