/**
 * Start-up (issue 5): `--help` and `--version` must not load the crypto, YAML or terminal stack.
 * An ESM resolve hook records every file the process loads. dist/ is a bundle (issue 17): a file
 * there holds many modules, each after a `// src/…` or `// node_modules/…` comment esbuild writes,
 * so the modules loaded are those comments in the files loaded.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN, tempDir, writeFile } from "./helpers.js";

function modulesLoadedBy(args: string[]): string[] {
  const dir = tempDir();
  const log = join(dir, "modules.log");
  const hooks = writeFile(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}`,
  );
  const register = writeFile(
    join(dir, "register.mjs"),
    `import { register } from "node:module";\nregister(${JSON.stringify("file://" + hooks)});\n`,
  );
  const r = spawnSync(process.execPath, ["--import", register, BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 0, r.stderr);
  const files = readFileSync(log, "utf8").split("\n").filter(Boolean);
  const bundled = files
    .filter((url) => url.startsWith("file:") && url.includes("/dist/"))
    .flatMap((url) => [...readFileSync(fileURLToPath(url), "utf8").matchAll(/^\/\/ ((?:src|node_modules)\/\S+)$/gm)])
    .map((m) => m[1]!);
  return [...files, ...bundled];
}

const HEAVY = [
  "@peculiar",
  "reflect-metadata",
  "tsyringe",
  "asn1",
  "/yaml/",
  "/ora/",
  "/chalk/",
  "/pki/",
  "/store/tree",
  "/commands/",
];

describe("start-up", () => {
  for (const args of [["--help"], ["--version"], ["all", "--help"]]) {
    it(`mtls-certs ${args.join(" ")} loads no crypto, YAML or spinner modules`, () => {
      const loaded = modulesLoadedBy(args);
      assert.ok(
        loaded.some((u) => u.includes("/dist/cli.js")),
        "the hook saw the CLI load",
      );
      assert.ok(
        loaded.some((u) => u.includes("commander")),
        "the hook saw commander load",
      );
      const heavy = loaded.filter((u) => HEAVY.some((h) => u.includes(h)));
      assert.deepEqual(heavy, []);
    });
  }

  it("the lazily imported work is in dist/ but in files --help does not load (the check above can fail)", () => {
    const all = modulesLoadedBy(["all", "--key-type", "ecdsa-p256", "-q", "--out", join(tempDir(), "mcp")]);
    for (const h of ["@peculiar", "reflect-metadata", "/pki/", "/commands/"]) {
      assert.ok(
        all.some((u) => u.includes(h)),
        `${h}: not seen when \`all\` runs`,
      );
    }
  });
});
