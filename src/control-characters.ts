/**
 * Control characters in text that came from outside (a directory name, a subject, a flag): one
 * test for refusing them, one escape for printing them. A module of its own with no imports, so
 * the CLI's error path can use it without loading anything (`--help` loads no pki code).
 */

/** C0 controls, DEL and C1 controls: never part of a path, name or subject we write into a file or config. */
export function hasControlCharacter(text: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}

/** Prints text read from disk (a subject, a name) with control characters escaped: no ESC reaches the terminal. */
export function escapeControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
