// Goal 6 of `npm run bench`: what a CI job pays to get mtls-certs on an empty npm cache, the way
// a user gets it: `npm install mtls-certs@<version>` and `npx mtls-certs@<version>` by name, from
// a registry. Four packages of the same name and version, each served by a local registry
// (bench/registry.mjs) on 127.0.0.1:
// - bundled: the package as it ships (`npm run tarball`: dist/ bundles its dependencies);
// - unbundled: the same code as plain tsc output with its dependencies declared, as it was
//   published before the bundle (its dependencies come from the upstream registry);
// - floor: npm's floor, one file that prints the version;
// - floor of N files: the floor plus one-line files at the bundled tarball's N paths, so npm does
//   the per-file work it does for ours and nothing else.
// Why by name and not `npm install ./x.tgz`: for a tarball path npm (pacote) unpacks the whole
// tarball twice more into its cache's tmp/ to read package.json (strace: 3 writes of each file),
// so a path install pays three times the per-file cost a registry install pays.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { cpuNote, cpuRatio, measure, median, seconds, walls } from "./measure.mjs";
import { startRegistry } from "./registry.mjs";

/** The packages src/ imports (its runtime dependencies before bundling), with the installed versions. */
function runtimeDependencies(root) {
  const names = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (const [, spec] of text.matchAll(/(?:from |import\(|import )"([^"]+)"/g)) {
          if (spec.startsWith(".") || spec.startsWith("node:")) continue;
          names.add(
            spec
              .split("/")
              .slice(0, spec.startsWith("@") ? 2 : 1)
              .join("/"),
          );
        }
      }
    }
  };
  walk(join(root, "src"));
  return Object.fromEntries(
    [...names]
      .sort()
      .map((n) => [n, `^${JSON.parse(readFileSync(join(root, "node_modules", n, "package.json"), "utf8")).version}`]),
  );
}

/**
 * npm or npx with a cache of its own and nothing else that could reach past it: wall and CPU time.
 * The options go first: after npx's `--` they would be the command's, and npx would use ~/.npm.
 */
const npm = (command, args, cwd, cache) =>
  measure(
    command,
    ["--cache", cache, "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel", "error", ...args],
    {
      cwd,
      env: { ...process.env, npm_config_prefer_offline: "", npm_config_offline: "" },
      stdout: true,
    },
  );

const pack = (dir, destination) => {
  mkdirSync(destination, { recursive: true });
  const name = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", destination], {
    cwd: dir,
  });
  return join(destination, name.toString().trim().split("\n").pop());
};

/** A package of the floor's bin and package.json, plus a one-line file at each of `paths`. */
function floorPackage(dir, pkg, paths) {
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(
    join(dir, "bin", "mtls-certs.js"),
    `#!/usr/bin/env node\nconsole.log(${JSON.stringify(pkg.version)});\n`,
  );
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: pkg.name, version: pkg.version, bin: { "mtls-certs": "bin/mtls-certs.js" } }, null, 2),
  );
  for (const path of paths) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), "-\n");
  }
  return pack(dir, `${dir}-tarball`);
}

function tarballs(root, work) {
  // The package as it ships (scripts/pack.mjs builds dist/ again and stages package.json).
  const shipped = execFileSync(process.execPath, [join(root, "scripts/pack.mjs")], { cwd: root, encoding: "utf8" })
    .trim()
    .split("\n")
    .pop();
  const bundled = join(work, "bundled.tgz");
  copyFileSync(shipped, bundled);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  // The same code unbundled: tsc's output, and the dependencies declared.
  const stage = join(work, "unbundled");
  for (const f of [...pkg.files, "README.md", "LICENSE"].filter((f) => f !== "dist/"))
    cpSync(join(root, f), join(stage, f), { recursive: true });
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--outDir", join(stage, "dist")]);
  const { scripts: _scripts, devDependencies: _devDependencies, ...unbundledPkg } = pkg;
  unbundledPkg.dependencies = runtimeDependencies(root);
  writeFileSync(join(stage, "package.json"), JSON.stringify(unbundledPkg, null, 2));
  const paths = execFileSync("tar", ["-tzf", bundled], { encoding: "utf8" })
    .split("\n")
    .filter((p) => p.startsWith("package/") && !p.endsWith("/"))
    .map((p) => p.slice("package/".length));
  const others = paths.filter((p) => p !== "package.json" && p !== "bin/mtls-certs.js");
  return {
    tarballs: {
      unbundled: pack(stage, join(work, "unbundled-tarball")),
      bundled,
      floor: floorPackage(join(work, "floor"), pkg, []),
      floorFiles: floorPackage(join(work, "floor-files"), pkg, others),
    },
    files: paths.length,
    dependencies: Object.keys(unbundledPkg.dependencies),
  };
}

export async function coldInstall({ root, work, runs, report }) {
  const { tarballs: kinds, files, dependencies } = tarballs(root, work);
  const { name, version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const upstream = execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8" }).trim();
  const registry = await startRegistry({ name, tarballs: kinds, upstream });
  const size = (kind) => `${(statSync(kinds[kind]).size / 1024).toFixed(0)} kB`;
  // A cold install is a second or two of npm's own work that varies with the machine's load, so
  // at least 5 runs of each.
  const installRuns = Math.max(5, runs);
  console.log(`  unbundled tarball ${size("unbundled")}, declares ${dependencies.join(", ")}`);
  console.log(`  bundled tarball ${size("bundled")}, ${files} files, declares no dependencies`);
  console.log(
    `  installed by name from a registry on 127.0.0.1 (other packages: ${upstream}), median of ${installRuns}`,
  );
  const times = { install: {}, npx: {} };
  for (const what of Object.keys(times)) for (const kind of Object.keys(kinds)) times[what][kind] = [];
  const added = {};
  let n = 0;
  try {
    for (let i = 0; i < installRuns; i++) {
      for (const kind of Object.keys(kinds)) {
        const from = `--registry=${registry.url(kind)}`;
        const app = join(work, `app-${kind}-${i}`);
        mkdirSync(app);
        writeFileSync(join(app, "package.json"), '{ "name": "app", "version": "1.0.0", "private": true }\n');
        const install = npm("npm", ["install", `${name}@${version}`, from], app, join(work, `cache-${n++}`));
        times.install[kind].push(install);
        added[kind] = /added (\d+) package/.exec(install.stdout)?.[1] ?? "?";
        const empty = join(work, `npx-${kind}-${i}`);
        mkdirSync(empty);
        const npxCache = join(work, `cache-${n++}`);
        const first = npm(
          "npx",
          ["--yes", from, "--package", `${name}@${version}`, "--", name, "--version"],
          empty,
          npxCache,
        );
        if (first.stdout !== version) throw new Error(`npx ${kind}: --version printed ${first.stdout}, not ${version}`);
        if (!existsSync(join(npxCache, "_npx"))) throw new Error(`npx ${kind} did not install into its own cache`);
        times.npx[kind].push(first);
      }
    }
  } finally {
    await registry.close();
  }
  // A cold install is npm's own work (resolving, the cache, unpacking each file) plus downloads.
  // What the package controls beyond its file count: its bytes, its dependencies (none) and, on
  // the first npx, its start-up. The goal compares it with the floor of as many files; the
  // one-file floor shows what the file count costs, and unbundled the old 3x, as information.
  for (const what of ["install", "npx"]) {
    const t = times[what];
    const m = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, median(walls(t[kind]))]));
    const cpu = (kind) => median(t[kind].map((x) => x.cpu));
    const label = what === "install" ? "6a. cold npm install" : "6b. cold first npx --version";
    const each = (kind) => walls(t[kind]).map(seconds).join(", ");
    console.log(
      `  ${what} runs: unbundled ${each("unbundled")}; bundled ${each("bundled")}; floor ${each("floor")}; floor of ${files} files ${each("floorFiles")}`,
    );
    console.log(
      `  ${label}: unbundled ${seconds(m.unbundled)} (${added.unbundled} packages added), bundled ${seconds(m.bundled)} (${added.bundled}): ${(m.unbundled / m.bundled).toFixed(2)}x faster (information)`,
    );
    const perFile = (cpu("floorFiles") - cpu("floor")) / (files - 2);
    console.log(
      `  npm's floor: 1 file ${seconds(m.floor)}, ${files} files ${seconds(m.floorFiles)}${cpuNote(t.floor, t.floorFiles)}: ${Number.isNaN(perFile) ? "" : `${perFile.toFixed(2)} ms of CPU a file; `}bundled ${seconds(m.bundled)}${cpuNote(t.bundled)}, ${(m.bundled / m.floor).toFixed(2)}x the one-file floor (information)`,
    );
    report(
      `${label}: bundled vs npm's floor of ${files} files`,
      `${(m.bundled / m.floorFiles).toFixed(2)}x the floor${cpuRatio(t.bundled, t.floorFiles)}`,
      "<= 1.25x",
      m.bundled / m.floorFiles <= 1.25,
    );
  }
}
