/**
 * `npm run build`: dist/ as the package ships it. One self-contained ESM bundle with code
 * splitting (so the published package declares no runtime dependencies: one download on a cold
 * `npx`), the type declarations from tsc, and the licence texts of every bundled package.
 *
 * - Entry points: dist/cli.js (the bin imports it), dist/index.js (the library), and
 *   dist/check-worker.js (check's worker thread, found as `./check-worker.js` next to the chunk
 *   that starts it, so chunks stay in dist/ too).
 * - Every `await import()` in src becomes its own chunk: `--help` loads cli.js and commander, not
 *   the crypto or YAML chunks (test/startup.test.ts reads the module comments esbuild leaves).
 * - Not minified: stack traces and the `// node_modules/…` module comments stay readable.
 */
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");

rmSync(DIST, { recursive: true, force: true });

// Type-check everything and write dist/**/*.d.ts (the bundle carries no types of its own).
const tsc = spawnSync(
  process.execPath,
  [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json", "--emitDeclarationOnly"],
  {
    cwd: ROOT,
    stdio: "inherit",
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const { metafile } = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    cli: "src/cli.ts",
    index: "src/index.ts",
    "check-worker": "src/store/check-worker.ts",
  },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.11",
  chunkNames: "chunk-[hash]",
  // CommonJS dependencies (commander, yaml, tsyringe, …) call require() for Node's built-ins;
  // an ES module has no `require`, so each output file makes one.
  banner: {
    js: 'import { createRequire as __mtlsCreateRequire } from "node:module";\nconst require = __mtlsCreateRequire(import.meta.url);',
  },
  // @peculiar/x509's ES build, not its CommonJS main: src/pki/x509.ts re-exports it with
  // `export *`, which esbuild can only resolve statically for an ES module. From the CommonJS
  // build, a chunk that `await import("../pki/x509.js")` loads had no exports at all
  // (`X509Crl is not a constructor` in export nginx/haproxy/caddy once the tree had a CRL).
  alias: { "@peculiar/x509": "./node_modules/@peculiar/x509/build/x509.es.js" },
  metafile: true,
  logLevel: "warning",
});

writeFileSync(join(DIST, "THIRD_PARTY_LICENSES.md"), thirdPartyLicenses(Object.keys(metafile.inputs)));
writeFileSync(join(DIST, "pki", "x509.d.ts"), await x509StandIns());
removeUnreachableDeclarations();

/** Every dist/**\/*.d.ts file. */
function declarationFiles(dir = DIST) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? declarationFiles(join(dir, e.name)) : e.name.endsWith(".d.ts") ? [join(dir, e.name)] : [],
  );
}

/**
 * Deletes the declarations no consumer can reach. tsc writes one for every source file (cli/,
 * the command helpers, …), but "exports" offers only dist/index.js, so the package's types are
 * dist/index.d.ts and what it imports, transitively. Each file shipped costs every cold install
 * npm's per-file work (docs/performance.md, goal 6); test/api.test.ts type-checks a consumer
 * against what is left, with skipLibCheck off.
 */
function removeUnreachableDeclarations() {
  const reachable = new Set();
  const queue = [join(DIST, "index.d.ts")];
  while (queue.length > 0) {
    const file = queue.pop();
    if (reachable.has(file)) continue;
    reachable.add(file);
    // `from "./x.js"` (import, import type, export … from), `import("./x.js")` and `import "./x.js"`.
    for (const [, spec] of readFileSync(file, "utf8").matchAll(
      /(?:\bfrom|\bimport\s*\(|\bimport)\s*["'](\.\.?\/[^"']+)["']/g,
    )) {
      const target = join(dirname(file), spec.replace(/\.js$/, ".d.ts"));
      if (!existsSync(target)) throw new Error(`${file} imports ${spec}, which has no declaration file`);
      queue.push(target);
    }
  }
  for (const file of declarationFiles()) if (!reachable.has(file)) rmSync(file);
  for (const e of readdirSync(DIST, { recursive: true, withFileTypes: true }).reverse())
    if (e.isDirectory() && readdirSync(join(e.parentPath ?? e.path, e.name)).length === 0)
      rmSync(join(e.parentPath ?? e.path, e.name), { recursive: true });
}

/**
 * dist/pki/x509.d.ts without `export * from "@peculiar/x509"`. The package is bundled into dist/,
 * not installed beside it, so a consumer's tsc with `skipLibCheck: false` could not resolve it
 * ("Cannot find module '@peculiar/x509'"). Our declarations name its types only in internal
 * signatures; these stand-ins are opaque classes for those names, and its enums with their real
 * members (read from the package itself, so they cannot drift).
 */
async function x509StandIns() {
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const used = new Set();
  for (const file of declarationFiles())
    for (const m of readFileSync(file, "utf8").matchAll(/(?<![\w/.])x509\.([A-Z]\w*)/g)) used.add(m[1]);
  const lines = [
    "/**",
    " * Generated by scripts/bundle.mjs: @peculiar/x509 is bundled into this package, not installed",
    " * beside it, so these opaque stand-ins name the types the other declarations mention.",
    " */",
  ];
  for (const name of [...used].sort()) {
    const value = x509[name];
    if (typeof value !== "function" && (typeof value !== "object" || value === null))
      throw new Error(`dist declarations name x509.${name}, which @peculiar/x509 does not export`);
    if (typeof value === "function") {
      lines.push(
        `export declare class ${name} {`,
        "  private constructor();",
        `  private readonly __x509${name}: never;`,
        "}",
      );
    } else {
      const members = Object.entries(value).filter(([k]) => Number.isNaN(Number(k)));
      if (!members.every(([, v]) => typeof v === "number")) throw new Error(`x509.${name}: not a numeric enum`);
      lines.push(`export declare enum ${name} {`, ...members.map(([k, v]) => `  ${k} = ${v},`), "}");
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The packages whose code is in the bundle, each with its licence text, for dist/THIRD_PARTY_LICENSES.md. */
function thirdPartyLicenses(inputs) {
  const packageDirs = new Set();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packageDirs.add(m[1]);
  }
  const sections = [...packageDirs]
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"));
      if (!pkg.license) throw new Error(`${dir}: bundled, but its package.json names no licence`);
      const file = readdirSync(join(ROOT, dir)).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
      const text = file
        ? readFileSync(join(ROOT, dir, file), "utf8").trim()
        : `(no licence file in the package; its package.json says ${pkg.license})`;
      return { name: pkg.name, version: pkg.version, license: pkg.license, text };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const header = [
    "# Third-party software in this package",
    "",
    "dist/ bundles the code of these packages. Their licences follow.",
    "",
    ...sections.map((s) => `- ${s.name} ${s.version} (${s.license})`),
    "",
  ];
  return [...header, ...sections.flatMap((s) => [`## ${s.name} ${s.version} (${s.license})`, "", s.text, ""])].join(
    "\n",
  );
}

if (!existsSync(join(DIST, "cli.js")) || !existsSync(join(DIST, "index.d.ts"))) {
  throw new Error("dist/cli.js or dist/index.d.ts missing after the build");
}
