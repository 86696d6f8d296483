/**
 * The gateway's own HTTPS, served the way its run-gunicorn.sh serves it: Debian's gunicorn with
 * uvicorn's worker, `--certfile`/`--keyfile` from `mtls-certs https` (what v1.0.8 passes), plus
 * `--ca-certs`/`--cert-reqs 2` from the tree's CA (what the inbound-mTLS change adds, from CA_CERTS
 * and CERT_REQS). curl is the client.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { cli, freePort, tempDir, waitForPort, writeFile } from "./helpers.js";

/** A minimal ASGI app standing in for mcpgateway.main:app. */
const APP = `
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
    await send({"type": "http.response.body", "body": b"gateway ok"})
`;

async function gunicorn(dir: string, tls: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    "gunicorn",
    ["-k", "uvicorn.workers.UvicornWorker", "-w", "1", "-b", `127.0.0.1:${port}`, ...tls, "app:app"],
    { cwd: dir },
  );
  let log = "";
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  await waitForPort(port, child, () => log);
  return { port, child };
}

function curl(port: number, dir: string, client?: { cert: string; key: string }): { code: number | null; out: string } {
  const args = ["-sS", "--max-time", "10", "--cacert", join(dir, "certs/cert.pem")];
  if (client) args.push("--cert", client.cert, "--key", client.key);
  const r = spawnSync("curl", [...args, `https://localhost:${port}/`], { encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

describe("the gateway's own HTTPS with client certs, on gunicorn + uvicorn", () => {
  let dir: string;
  let alice: { cert: string; key: string };
  let mallory: { cert: string; key: string };
  const servers: ChildProcess[] = [];
  before(() => {
    dir = tempDir();
    const ec = ["--key-type", "ecdsa-p256", "-q"];
    assert.equal(cli(["https", ...ec], dir).code, 0);
    assert.equal(cli(["client", "alice", ...ec], dir).code, 0);
    const other = tempDir();
    assert.equal(cli(["client", "mallory", ...ec], other).code, 0);
    alice = {
      cert: join(dir, "certs/mcp/clients/alice/client.crt"),
      key: join(dir, "certs/mcp/clients/alice/client.key"),
    };
    mallory = {
      cert: join(other, "certs/mcp/clients/mallory/client.crt"),
      key: join(other, "certs/mcp/clients/mallory/client.key"),
    };
    writeFile(join(dir, "app.py"), APP);
  });
  after(() => {
    for (const s of servers) s.kill();
  });

  it("v1.0.8's arguments (SSL=true: --certfile --keyfile) serve HTTPS and ask for no client cert", async () => {
    const { port, child } = await gunicorn(dir, ["--certfile", "certs/cert.pem", "--keyfile", "certs/key.pem"]);
    servers.push(child);
    assert.deepEqual(curl(port, dir), { code: 0, out: "gateway ok" });
  });

  it("with CA_CERTS=<tree ca.crt> CERT_REQS=2 (--ca-certs --cert-reqs 2): a tree client is served; none or another CA's, refused", async () => {
    const { port, child } = await gunicorn(dir, [
      "--certfile",
      "certs/cert.pem",
      "--keyfile",
      "certs/key.pem",
      "--ca-certs",
      "certs/mcp/ca/ca.crt",
      "--cert-reqs",
      "2",
    ]);
    servers.push(child);
    assert.deepEqual(curl(port, dir, alice), { code: 0, out: "gateway ok" });
    const none = curl(port, dir);
    assert.notEqual(none.code, 0);
    assert.doesNotMatch(none.out, /gateway ok/);
    const foreign = curl(port, dir, mallory);
    assert.notEqual(foreign.code, 0);
    assert.doesNotMatch(foreign.out, /gateway ok/);
  });
});
