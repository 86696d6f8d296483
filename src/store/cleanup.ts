/**
 * What must be undone when SIGINT or SIGTERM stops a run: temp files removed, locks released.
 * Modules that create such things register a synchronous undo here; the CLI runs them all.
 */
const undos = new Set<() => void>();

export function onInterrupt(undo: () => void): void {
  undos.add(undo);
}

export function runInterruptCleanup(): void {
  for (const undo of undos) undo();
}
