/**
 * What must be undone when SIGINT or SIGTERM stops a run: temp files removed, locks released.
 * Modules that create such things register a synchronous undo here; the CLI runs them all.
 *
 * File operations run in libuv's thread pool, so an open(2) may still be queued when the signal
 * arrives: undoing at once could remove a temp file (or lock) that appears a moment later. So an
 * interrupt first refuses new file operations, waits for those under way (bounded), then undoes.
 */
import { unlinkSync } from "node:fs";
import { MtlsError } from "../errors.js";

const undos = new Set<() => void>();
let interruptedBy: NodeJS.Signals | undefined;
let inFlight = 0;
let onIdle: (() => void) | undefined;

/** How long an interrupt waits for file operations under way (they may queue behind RSA key generation in the thread pool). */
const INTERRUPT_GRACE_MS = 5_000;

/** Registers the undo that removes every path in `paths` (temp files, locks) as the set is then. */
export function removeOnInterrupt(paths: Set<string>): void {
  onInterrupt(() => {
    for (const path of paths) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
    paths.clear();
  });
}

export function onInterrupt(undo: () => void): void {
  undos.add(undo);
}

export function runInterruptCleanup(): void {
  for (const undo of undos) undo();
}

/**
 * Runs one file operation that leaves something to undo if cut short (a temp file, a lock).
 * Once the run is interrupted, no new one starts: `what` names the file that was not written.
 */
export async function fileOperation<T>(what: string, work: () => Promise<T>): Promise<T> {
  if (interruptedBy) throw new MtlsError("E_INTERRUPTED", `${what}: not written, interrupted by ${interruptedBy}`);
  inFlight++;
  try {
    return await work();
  } finally {
    inFlight--;
    if (inFlight === 0) onIdle?.();
  }
}

/**
 * Stops new file operations, waits for the ones under way (at most INTERRUPT_GRACE_MS; not at
 * all on a second signal: the user insists), then runs every undo.
 */
export async function interruptRun(signal: NodeJS.Signals): Promise<void> {
  const first = interruptedBy === undefined;
  interruptedBy ??= signal;
  if (first && inFlight > 0) {
    await new Promise<void>((resolve) => {
      // The timer also keeps the event loop alive while we wait.
      const timer = setTimeout(resolve, INTERRUPT_GRACE_MS);
      onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  runInterruptCleanup();
}
