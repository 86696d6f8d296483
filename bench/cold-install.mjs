// Goal 6 of `npm run bench`: what a CI job pays to get mtls-certs on an empty npm cache.
// Two tarballs made from this tree: the package as it ships (dist/ bundles its dependencies) and
// the same code as plain tsc output with its dependencies declared, as it was published before
// the bundle; and npm's floor, a one-file package of the same name that prints the version. For
// each, with a fresh cache every time (so the registry is really asked and every
// tarball really downloaded): `npm install <tarball>` in an empty project, and the first
// `npx <tarball> --version` in an empty folder.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

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

/** npm with a cache of its own and nothing else that could reach past it. */
function npm(args, cwd, cache) {
  const t = performance.now();
  const r = spawnSync(
    "npm",
    [...args, "--cache", cache, "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel", "error"],
    { cwd, encoding: "utf8", env: { ...process.env, npm_config_prefer_offline: "", npm_config_offline: "" } },
  );
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`npm ${args.join(" ")} failed in ${cwd}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function npx(args, cwd, cache) {
  const t = performance.now();
  const r = spawnSync("npx", ["--yes", "--cache", cache, "--no-update-notifier", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_prefer_offline: "", npm_config_offline: "" },
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`npx ${args.join(" ")} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout.trim() };
}

function tarballs(root, work) {
  const pack = (dir, destination) => {
    mkdirSync(destination, { recursive: true });
    const name = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", destination], {
      cwd: dir,
    });
    return join(destination, name.toString().trim().split("\n").pop());
  };
  // The package as it ships: `npm run bench` has just built dist/.
  const bundled = pack(root, join(work, "bundled"));
  // The same code unbundled: tsc's output, and the dependencies declared.
  const stage = join(work, "unbundled");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const f of [...pkg.files, "README.md", "LICENSE"].filter((f) => f !== "dist/"))
    cpSync(join(root, f), join(stage, f), { recursive: true });
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--outDir", join(stage, "dist")]);
  delete pkg.scripts;
  delete pkg.devDependencies;
  pkg.dependencies = runtimeDependencies(root);
  writeFileSync(join(stage, "package.json"), JSON.stringify(pkg, null, 2));
  // npm's own floor: a package of one file that only prints the version, same name and version.
  const floor = join(work, "floor");
  mkdirSync(join(floor, "bin"), { recursive: true });
  writeFileSync(
    join(floor, "bin", "mtls-certs.js"),
    `#!/usr/bin/env node\nconsole.log(${JSON.stringify(pkg.version)});\n`,
  );
  writeFileSync(
    join(floor, "package.json"),
    JSON.stringify({ name: pkg.name, version: pkg.version, bin: { "mtls-certs": "bin/mtls-certs.js" } }, null, 2),
  );
  return {
    bundled,
    unbundled: pack(stage, join(work, "unbundled-tarball")),
    floor: pack(floor, join(work, "floor-tarball")),
    dependencies: Object.keys(pkg.dependencies),
  };
}

export async function coldInstall({ root, work, runs, report }) {
  const { bundled, unbundled, floor, dependencies } = tarballs(root, work);
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const size = (f) => `${(statSync(f).size / 1024).toFixed(0)} kB`;
  console.log(`  unbundled tarball ${size(unbundled)}, declares ${dependencies.join(", ")}`);
  console.log(`  bundled tarball ${size(bundled)}, declares no dependencies`);
  const kinds = { unbundled, bundled, floor };
  const times = {
    install: { unbundled: [], bundled: [], floor: [] },
    npx: { unbundled: [], bundled: [], floor: [] },
  };
  const added = {};
  let n = 0;
  for (let i = 0; i < runs; i++) {
    for (const [kind, tarball] of Object.entries(kinds)) {
      const app = join(work, `app-${kind}-${i}`);
      mkdirSync(app);
      writeFileSync(join(app, "package.json"), '{ "name": "app", "version": "1.0.0", "private": true }\n');
      const install = npm(["install", tarball], app, join(work, `cache-${n++}`));
      times.install[kind].push(install.ms);
      added[kind] = /added (\d+) package/.exec(install.stdout)?.[1] ?? "?";
      const empty = join(work, `npx-${kind}-${i}`);
      mkdirSync(empty);
      const first = npx(["--package", tarball, "--", "mtls-certs", "--version"], empty, join(work, `cache-${n++}`));
      if (first.stdout !== version)
        throw new Error(`npx ${tarball}: --version printed ${first.stdout}, not ${version}`);
      times.npx[kind].push(first.ms);
    }
  }
  // What a cold install costs is npm's own work (the same for one package or 28) plus what it
  // downloads: bundled/unbundled = F / (F + D) depends on the network and the load, not on us.
  // The goal is the part we control: the bundled package costs what npm's floor costs (a
  // one-file package), within 25%; the old 3x-faster-than-unbundled stays as information.
  for (const what of ["install", "npx"]) {
    const [before, after, least] = ["unbundled", "bundled", "floor"].map((kind) => median(times[what][kind]));
    const label =
      what === "install" ? "6a. cold npm install of the tarball" : "6b. cold first npx mtls-certs --version";
    const each = (kind) => times[what][kind].map(seconds).join(", ");
    console.log(`  ${what} runs: unbundled ${each("unbundled")}; bundled ${each("bundled")}; floor ${each("floor")}`);
    console.log(
      `  ${label}: unbundled ${seconds(before)} (${added.unbundled} packages added), bundled ${seconds(after)} (${added.bundled}), floor ${seconds(least)}: bundled ${(before / after).toFixed(2)}x faster than unbundled (information)`,
    );
    report(
      `${label}, bundled vs npm's floor`,
      `${(after / least).toFixed(2)}x the floor`,
      "<= 1.25x",
      after / least <= 1.25,
    );
  }
}
