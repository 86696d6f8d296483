/**
 * The suite prints no warnings (issue 17): temp dirs are removed at exit by one listener, not one
 * per dir (eleven set off MaxListenersExceededWarning).
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers/promises";
import { tempDir } from "./helpers.js";

it("making 50 temp dirs adds no exit listeners per dir and emits no warning", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  const before = process.listenerCount("exit");
  for (let i = 0; i < 50; i++) tempDir();
  assert.equal(process.listenerCount("exit"), before);
  await setImmediate(); // warnings are emitted on the next tick
  process.off("warning", onWarning);
  assert.deepEqual(warnings, []);
});
