/**
 * What the code reads from its own package at run time: the templates, package.json (the version)
 * and check's worker script. In one module because the single executable has no package on disk:
 * scripts/build-exe.mjs replaces this module with one that holds the same files inline and starts
 * the worker from embedded source (keep the exports of both in step).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's root: the first directory above this module with package.json and templates/
 * (dist/ in the package, build/src/ in tests). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "templates")) && existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("templates/ not found next to the package's package.json");
    dir = parent;
  }
}

/** A file of the package by its path from the package root, e.g. `templates/nginx.conf`. */
export function readPackageFile(path: string): string {
  return readFileSync(join(packageRoot(), path), "utf8");
}

export function packageVersion(): string {
  return (JSON.parse(readPackageFile("package.json")) as { version: string }).version;
}

/** check's worker thread as source to evaluate, when it is not a file next to check's code (the
 * executable's case); undefined here. */
export function embeddedCheckWorker(): string | undefined {
  return undefined;
}
