/**
 * `npm run build:exe`: build/exe/mtls-certs-<platform>-<arch>, one file that runs with no Node
 * installed (Node's single executable applications: this Node's own binary with our code
 * injected). dist/ is left as it is.
 *
 * - Node 20's SEA runs one CommonJS script, so src/ is bundled again here: CommonJS, no code
 *   splitting (every `await import()` is inlined).
 * - What dist/ reads from the package at run time comes from src/package-files.ts; this build
 *   replaces that module with one holding the templates and package.json inline, and check's
 *   worker thread as source that `new Worker(source, { eval: true })` starts.
 * - Reproducible: no code cache, no snapshot, no timestamps; the same commit built with the same
 *   Node binary gives the same bytes. SHA256SUMS beside the executable names both.
 */
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// `node scripts/build-exe.mjs [dir]`: the tests build a second copy elsewhere to compare bytes.
const OUT = resolve(process.argv[2] ?? join(ROOT, "build", "exe"));
const NAME = `mtls-certs-${process.platform}-${process.arch}`;
// The fuse Node's binary carries for SEA (Node's docs, "Single executable applications").
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

/** The files src/package-files.ts reads from the package: package.json and templates/. */
function packageFiles() {
  const files = { "package.json": readFileSync(join(ROOT, "package.json"), "utf8") };
  for (const name of readdirSync(join(ROOT, "templates")).sort())
    files[`templates/${name}`] = readFileSync(join(ROOT, "templates", name), "utf8");
  return files;
}

/** An esbuild plugin: src/package-files.ts becomes a module with the files (and worker) inline. */
function embedPackageFiles(workerSource) {
  const source = [
    `const files = ${JSON.stringify(packageFiles())};`,
    "export function readPackageFile(path) {",
    '  if (!Object.hasOwn(files, path)) throw new Error(path + ": not in this executable");',
    "  return files[path];",
    "}",
    'export function packageVersion() { return JSON.parse(files["package.json"]).version; }',
    `export function embeddedCheckWorker() { return ${JSON.stringify(workerSource)}; }`,
  ].join("\n");
  return {
    name: "embed-package-files",
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]package-files\.ts$/ }, () => ({ contents: source, loader: "js" }));
    },
  };
}

/** One CommonJS file from an entry's source, nothing written. */
async function bundle(contents, workerSource) {
  const { outputFiles } = await build({
    absWorkingDir: ROOT,
    stdin: { contents, resolveDir: ROOT, sourcefile: "exe-entry.ts", loader: "ts" },
    bundle: true,
    splitting: false,
    format: "cjs",
    platform: "node",
    target: "node20.11",
    write: false,
    // As in scripts/bundle.mjs: @peculiar/x509's ES build, whose `export *` esbuild can follow.
    alias: { "@peculiar/x509": "./node_modules/@peculiar/x509/build/x509.es.js" },
    plugins: [embedPackageFiles(workerSource)],
    // check.ts names import.meta.url only when no worker source is embedded, never here.
    logOverride: { "empty-import-meta": "silent" },
    logLevel: "warning",
  });
  return outputFiles[0].text;
}

// The worker first (it embeds nothing), then the CLI with the worker's source inside.
const worker = await bundle('import "./src/store/check-worker.ts";', undefined);
const script = await bundle('import { main } from "./src/cli.ts";\nmain(process.argv.slice(2));', worker);
const scriptFile = join(OUT, "mtls-certs.cjs");
writeFileSync(scriptFile, script);

const blob = join(OUT, "sea-prep.blob");
const config = join(OUT, "sea-config.json");
writeFileSync(
  config,
  JSON.stringify({
    main: "mtls-certs.cjs", // relative: the blob records this path, and must not record where it was built
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: false,
    useSnapshot: false,
  }),
);
const sea = spawnSync(process.execPath, ["--experimental-sea-config", config], { cwd: OUT, encoding: "utf8" });
if (sea.status !== 0) throw new Error(`node --experimental-sea-config: ${sea.stderr}`);

const exe = join(OUT, NAME);
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
// Node's binary carries its debug symbols (13 MB of its 99): without them the executable stays
// well under the 100 MB a file may have on GitHub. strip is binutils' (.ci/run installs it).
const strip = spawnSync("strip", [exe], { encoding: "utf8" });
if (strip.status !== 0) throw new Error(`strip ${exe}: ${strip.error?.message ?? strip.stderr}`);
const { inject } = createRequire(import.meta.url)("postject");
// postject's ELF library warns about Node's note sections ("Can't find string offset for section
// name '.note.100'") on stderr; the injection succeeds all the same, and the tests run the result.
await inject(exe, "NODE_SEA_BLOB", readFileSync(blob), { sentinelFuse: SEA_FUSE });
for (const f of [scriptFile, blob, config]) rmSync(f);

const sha256 = createHash("sha256").update(readFileSync(exe)).digest("hex");
const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
writeFileSync(
  join(OUT, "SHA256SUMS"),
  `# mtls-certs ${version}, built by npm run build:exe with Node ${process.version} (${process.execPath})\n${sha256}  ${NAME}\n`,
);
console.log(`${exe}: ${readFileSync(exe).length} bytes, sha256 ${sha256}`);
