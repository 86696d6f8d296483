/**
 * The one read of the tree is synchronous per file (store/file-facts.ts: cheaper than a trip
 * through libuv's pool for thousands of few-kB files), so it must give the event loop a turn
 * between slices of leaves: a SIGINT's cleanup or a progress tick must not wait for a whole tree.
 * Counted, not timed: a setImmediate callback runs only when the loop gets a turn, so a read of
 * a tree of hundreds that never yields lets none run while it works.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { readLeavesFacts } from "../src/store/inventory-leaf.js";
import { listIssuedLeaves } from "../src/store/leaf-list.js";
import { treePaths, type LeafFiles } from "../src/store/paths.js";
import { readLeaves } from "../src/commands/renew/leaf-read.js";
import { cli, tempDir } from "./helpers.js";

const PLUGINS = 300;

/** How many turns the event loop got while `work` ran. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  running = false;
  return turns;
}

describe(`reading a tree of ${PLUGINS} plugins gives the event loop turns`, () => {
  let leaves: LeafFiles[];
  before(async () => {
    const cwd = tempDir();
    const made = cli(["all", "--key-type", "ecdsa-p256", "-q"], cwd);
    assert.equal(made.code, 0, made.stderr);
    const plugins = join(cwd, "certs", "mcp", "plugins");
    for (let i = 0; i < PLUGINS; i++)
      cpSync(join(plugins, "example-plugin-a"), join(plugins, `p${i}`), { recursive: true });
    leaves = await listIssuedLeaves(treePaths(join(cwd, "certs", "mcp")));
    assert.ok(leaves.length > PLUGINS, `${leaves.length} leaves listed`);
  });

  it("check's read (readLeavesFacts): every leaf read, and the loop turned between slices", async () => {
    let facts: Awaited<ReturnType<typeof readLeavesFacts>> = [];
    const turns = await turnsDuring(async () => {
      facts = await readLeavesFacts(leaves);
    });
    assert.equal(facts.length, leaves.length);
    assert.ok(
      facts.every((f) => f.cert.cert !== undefined),
      "each leaf's cert was read and parsed",
    );
    assert.ok(turns >= 3, `the loop turned ${turns} times during a read of ${leaves.length} leaves`);
  });

  it("renew's read (readLeaves): every leaf read, and the loop turned between slices", async () => {
    let count = 0;
    const turns = await turnsDuring(async () => {
      count = (await readLeaves(leaves, new Map())).size;
    });
    assert.equal(count, leaves.length);
    assert.ok(turns >= 3, `the loop turned ${turns} times during a read of ${leaves.length} leaves`);
  });
});
