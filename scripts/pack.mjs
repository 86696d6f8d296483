/**
 * `npm run tarball`: build/mtls-certs-<version>.tgz, the package as users install it (and as
 * `npm publish <tarball>` uploads it). Packed from a staging copy whose package.json has no
 * scripts and no devDependencies: this repository's `prepare` (the build) means nothing to a user,
 * npm 11 warns about it on install, and the bundle in dist/ already carries every dependency.
 * The repository's own package.json keeps both.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "build");
const STAGE = join(OUT, "package");

const run = (command, args, cwd) => {
  const r = spawnSync(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${r.status})`);
  return r.stdout;
};

run("npm", ["run", "--silent", "build"], ROOT);
rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
// What npm adds to every tarball, then the package's own "files".
for (const path of ["README.md", "LICENSE", ...pkg.files]) {
  if (!existsSync(join(ROOT, path))) throw new Error(`${path}: in package.json "files" but missing`);
  cpSync(join(ROOT, path), join(STAGE, path), { recursive: true });
}
const { scripts: _scripts, devDependencies: _devDependencies, ...published } = pkg;
writeFileSync(join(STAGE, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
const tarball = run("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", OUT], STAGE).trim();
console.log(join(OUT, tarball.split("\n").at(-1)));
