/**
 * Issue 28 §5: the command hints start with is the one the user ran (src/cli/invocation.ts), as a
 * table of invocations; the real runs are in output-style.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { asInvoked, invokedCommand } from "../src/cli/invocation.js";
import { BIN } from "./helpers.js";

describe("invokedCommand", () => {
  const onPath = (found: string | undefined) => () => found;
  it("npx, npm exec and npm scripts: `npx mtls-certs`", () => {
    for (const env of [{ npm_command: "exec" }, { npm_command: "run-script" }, { npm_lifecycle_event: "certs" }])
      assert.equal(invokedCommand({ script: BIN, env, cwd: "/", onPath: onPath(undefined) }), "npx mtls-certs");
  });
  it("the name on PATH when PATH leads to this very file; else the path, relative inside the working directory", () => {
    assert.equal(invokedCommand({ script: BIN, env: {}, cwd: "/", onPath: onPath(BIN) }), "mtls-certs.js");
    assert.equal(invokedCommand({ script: BIN, env: {}, cwd: "/elsewhere", onPath: onPath("/other") }), BIN);
    assert.equal(
      invokedCommand({
        script: "/srv/gw/node_modules/.bin/mtls-certs",
        env: {},
        cwd: "/srv/gw",
        onPath: onPath(undefined),
      }),
      "./node_modules/.bin/mtls-certs",
    );
    assert.equal(
      invokedCommand({ script: "/srv/my gw/mtls-certs", env: {}, cwd: "/tmp", onPath: onPath(undefined) }),
      "'/srv/my gw/mtls-certs'",
    );
  });
  it("MTLS_CERTS_COMMAND, from a wrapper, wins", () => {
    const env = { MTLS_CERTS_COMMAND: "make certs-mcp-run ARGS=", npm_command: "exec" };
    assert.equal(invokedCommand({ script: BIN, env, cwd: "/", onPath: onPath(BIN) }), "make certs-mcp-run ARGS=");
  });
  it("asInvoked rewrites commands in backticks only, never a name in a table", () => {
    assert.equal(
      asInvoked("plugin   mtls-certs  ok; next: `mtls-certs renew --ca`", "npx mtls-certs"),
      "plugin   mtls-certs  ok; next: `npx mtls-certs renew --ca`",
    );
  });
});
