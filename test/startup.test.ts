/**
 * Start-up (issue 5): `--help` and `--version` must not load the crypto, YAML or terminal stack.
 * An ESM resolve hook records every module the process loads; we look at that list.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
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
  return spawnSync("cat", [log], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
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
});
