/**
 * Each leaf renew selected, read once: its cert as the run starts (what the ledger's reconcile,
 * the repair of a killed run and the plan all look at), its key by descriptor on first need (the
 * repair, or re-issuing) and then kept, with the fstat of that descriptor. A leaf's directory is
 * its owner's to write: two reads of one name can return two files, so the checks and the work
 * use the same bytes (issue 24: each file of the tree opened at most once).
 */
import type { KeyFileStat } from "../../store/key-mode.js";
import type { CertTextRead } from "../../store/ledger-adoption.js";
import { KEY_FILE, readChecked } from "../../store/leaf-file.js";
import type { LeafFiles } from "../../store/paths.js";
import { readCertText } from "../../store/write.js";
import { createLimiter } from "../../pki/limiter.js";

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
  ) {}

  /** The cert's text; throws what refused the file (a link, a FIFO, too large), as a read by name would. */
  certPem(): string | undefined {
    if ("error" in this.cert) throw this.cert.error;
    return this.cert.text;
  }

  /** The key, opened once without following links; undefined when there is none. */
  key(): Promise<KeyRead | undefined> {
    this.keyRead ??= readChecked(this.files.key, KEY_FILE);
    return this.keyRead;
  }

  /** The repair wrote the key anew (temp + rename): a new file, read afresh when re-issuing needs it. */
  keyReplaced(): void {
    this.keyRead = undefined;
  }
}

/** Leaves read at once: keeps a tree of thousands under the open-file limit. */
const READ_CONCURRENCY = 64;

export async function readLeaves(leaves: readonly LeafFiles[]): Promise<Map<LeafFiles, LeafRead>> {
  const reading = createLimiter(READ_CONCURRENCY);
  const reads = await Promise.all(
    leaves.map((files) =>
      reading(async () => {
        const cert: CertTextRead = await readCertText(files.cert).then(
          (text) => ({ text }),
          (error: unknown) => ({ error }),
        );
        return new LeafRead(files, cert);
      }),
    ),
  );
  return new Map(reads.map((read) => [read.files, read]));
}
