/**
 * The import rules of CONTRIBUTING.md (layers only look down), read from src/ with TypeScript's own
 * import scanner: `import type`, `export … from` and `await import()` all count, so a dynamic
 * import cannot hide a cycle and a type cannot reach up a layer.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { ROOT } from "./helpers.js";

const SRC = join(ROOT, "src");

/** Every module of src/ (path relative to src/, `.ts`) with the src/ modules it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) {
        const { importedFiles } = ts.preProcessFile(readFileSync(path, "utf8"), true, true);
        graph.set(
          relative(SRC, path),
          importedFiles
            .map((f) => f.fileName)
            .filter((f) => f.startsWith("."))
            .map((f) => relative(SRC, resolve(dirname(path), f)).replace(/\.js$/, ".ts")),
        );
      }
    }
  };
  walk(SRC);
  return graph;
}

/** The cycles of a graph, each as the path that closes it (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const layer = (module: string): string => (module.includes("/") ? module.split("/")[0]! : module.replace(/\.ts$/, ""));

/** The command a module of commands/ belongs to: `X` for commands/X.ts and commands/X/**. */
const commandOf = (module: string): string => module.split("/")[1]!.replace(/\.ts$/, "");

/**
 * Who may import a module of commands/ (issue 24's import rule): the CLI (cli.ts, cli/) and the
 * library API (index.ts); a command only its own helpers, in its own folder (commands/X.ts and
 * commands/X/** may import commands/X/**). What several commands share lives below them.
 */
function mayImportCommand(from: string, to: string): boolean {
  if (from === "cli.ts" || from === "index.ts" || layer(from) === "cli") return true;
  return layer(from) === "commands" && to.startsWith(`commands/${commandOf(from)}/`);
}

/**
 * STYLE.md's floors, top to bottom: cli → commands → export, report → config, store → pki → the
 * bottom modules. A module imports its own floor or one below it. config/ shares store's floor: it
 * reads its file through store's readers, and check's read of the tree asks it for the wanted
 * names. package-files.ts imports nothing of ours: the bottom. index.ts and memory.ts (the library
 * API) are not placed on a floor and not judged here.
 */
const FLOORS: Readonly<Record<string, number>> = {
  cli: 5,
  commands: 4,
  export: 3,
  report: 3,
  config: 2,
  store: 2,
  pki: 1,
  defaults: 0,
  errors: 0,
  "control-characters": 0,
  human: 0,
  "package-files": 0,
};

/** STYLE.md: new files 300 lines at most; issue 24 split every file that was over. */
const MAX_LINES = 300;

/** `from -> to` for every import of the graph that `breaks` says breaks a rule, sorted. */
function edgesWhere(graph: Map<string, string[]>, breaks: (from: string, to: string) => boolean): string[] {
  return [...graph]
    .flatMap(([from, tos]) => tos.filter((to) => breaks(from, to)).map((to) => `${from} -> ${to}`))
    .sort();
}

const importsCommand = (from: string, to: string): boolean => layer(to) === "commands" && !mayImportCommand(from, to);

describe("src/ imports only look down (STYLE.md: layers)", () => {
  const graph = importGraph();

  it("reads the imports it judges: static, type-only and dynamic", () => {
    // If the scanner stopped seeing one kind, every rule below would pass on nothing.
    assert.ok(
      graph.get("cli/check.ts")?.includes("commands/check.ts"),
      "cli/check.ts imports commands/check.ts in its action",
    );
    assert.ok(graph.get("commands/check.ts")?.includes("pki/check-entry.ts"), "a type-only import is seen");
    assert.ok(graph.get("store/ledger-adoption.ts")?.includes("store/revocation-status.ts"));
    assert.ok(graph.size > 50, `${graph.size} modules`);
  });

  it("judges each import the way the rule reads", () => {
    // The rule's own cases, so a mistake in mayImportCommand cannot pass the tests below on nothing.
    assert.ok(mayImportCommand("cli.ts", "commands/all.ts"));
    assert.ok(mayImportCommand("cli/leaves.ts", "commands/sign.ts"));
    assert.ok(mayImportCommand("index.ts", "commands/renew/index.ts"));
    assert.ok(mayImportCommand("commands/probe/index.ts", "commands/probe/dial.ts"));
    assert.ok(mayImportCommand("commands/check.ts", "commands/check/read.ts"));
    assert.ok(!mayImportCommand("commands/sign.ts", "commands/server.ts"));
    assert.ok(!mayImportCommand("commands/check.ts", "commands/check-ca-policy.ts"));
    assert.ok(!mayImportCommand("commands/renew/plan.ts", "commands/renew.ts"));
    assert.ok(!mayImportCommand("commands/fingerprint.ts", "commands/renew/index.ts"));
    assert.ok(!mayImportCommand("memory.ts", "commands/ca.ts"));
    assert.ok(!mayImportCommand("store/tree.ts", "commands/revoke.ts"));
  });

  it("has no import cycle, dynamic imports and `import type` included", () => {
    assert.deepEqual(cycles(graph), []);
  });

  it("only cli.ts, cli/ and index.ts import commands/", () => {
    const found = edgesWhere(graph, (from, to) => layer(from) !== "commands" && importsCommand(from, to));
    assert.deepEqual(
      found,
      [],
      "call the command from cli/ or index.ts; what a module below needs from it belongs below it",
    );
  });

  it("a command imports no other command: only its own folder, one level deep", () => {
    const found = edgesWhere(graph, (from, to) => layer(from) === "commands" && importsCommand(from, to));
    assert.deepEqual(
      found,
      [],
      "move what two commands share below commands/ (store/, pki/, report/), or the helper into commands/<command>/",
    );
    const nested = [...graph.keys()].filter((m) => layer(m) === "commands" && m.split("/").length > 3);
    assert.deepEqual(nested, [], "a command's helpers sit in commands/<command>/, one level deep");
  });

  it("store/, pki/, export/ and report/ never import commands/ or cli/ (`import type` counts)", () => {
    const found = edgesWhere(
      graph,
      (from, to) =>
        ["store", "pki", "export", "report"].includes(layer(from)) && ["commands", "cli"].includes(layer(to)),
    );
    assert.deepEqual(found, [], "a type several layers share lives in the lowest of them (report/, store/, pki/)");
  });

  it("no file of src/ is over 300 lines", () => {
    const over = [...graph.keys()]
      .filter((m) => readFileSync(join(SRC, m), "utf8").split("\n").length - 1 > MAX_LINES)
      .sort();
    assert.deepEqual(over, [], `split by topic or along read/judge/plan/execute/report: ${MAX_LINES} lines at most`);
  });

  it("a module imports its own floor or one below (STYLE.md: cli → commands → export, report → config, store → pki)", () => {
    const floor = (m: string): number | undefined => FLOORS[layer(m)];
    const upward = edgesWhere(graph, (from, to) => (floor(to) ?? -1) > (floor(from) ?? Number.POSITIVE_INFINITY));
    assert.deepEqual(upward, [], "what a lower floor needs from a higher one belongs on the lower floor");
  });

  it("the bottom modules import nothing of ours: everything may import them", () => {
    for (const bottom of ["defaults.ts", "errors.ts", "control-characters.ts", "human.ts", "package-files.ts"])
      assert.deepEqual(graph.get(bottom), [], bottom);
  });
});
