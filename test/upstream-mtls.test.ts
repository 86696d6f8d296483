/**
 * Upstream MCP servers behind mutual TLS: `export gateway-registration` prints the body of the
 * gateway's POST /gateways, and a Python client that builds its context from that body the way
 * the gateway's SSL context cache does (default context, ca_certificate as cadata, client cert
 * and key as paths or inline PEM through temp files) gets through a server that requires client
 * certs; without a client cert, or with another CA's, it does not.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { cli, read, tempDir } from "./helpers.js";

const PEERS = `
import http.server, json, os, ssl, sys, tempfile, threading
from urllib.parse import urlsplit, urlunsplit
import httpx
spec = json.loads(sys.argv[1])
s = spec["server"]
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(s["cert"], s["key"])
server_ctx.load_verify_locations(s["ca"])
server_ctx.verify_mode = ssl.CERT_REQUIRED
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        subject = dict(item[0] for item in self.connection.getpeercert()["subject"])
        body = ("hello " + subject["commonName"]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

def gateway_context(body):
    ctx = ssl.create_default_context()
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default; this is Debian's 3.11
    if body.get("ca_certificate"):
        ctx.load_verify_locations(cadata=body["ca_certificate"])
    cert, key = body.get("client_cert"), body.get("client_key")
    if cert and key:
        temps = []
        def as_path(value):
            if not value.lstrip().startswith("-----BEGIN "):
                return value
            f = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
            f.write(value)
            f.close()
            temps.append(f.name)
            return f.name
        try:
            ctx.load_cert_chain(certfile=as_path(cert), keyfile=as_path(key))
        finally:
            for t in temps:
                os.unlink(t)
    return ctx

out = {}
for case in spec["bodies"]:
    body = case["body"]
    url = urlsplit(body["url"])
    dial = urlunsplit((url.scheme, "%s:%d" % (url.hostname, httpd.server_address[1]), url.path, "", ""))
    try:
        r = httpx.get(dial, verify=gateway_context(body), timeout=10)
        out[case["id"]] = "%d %s" % (r.status_code, r.text)
    except Exception as e:
        out[case["id"]] = "refused: " + type(e).__name__
httpd.shutdown()
print(json.dumps(out))
`;

describe("export gateway-registration, against a server that requires client certs", () => {
  let dir: string;
  let other: string;
  const URL = "https://localhost:8443/mcp";
  const register = (args: string[], cwd = dir) =>
    cli(["export", "gateway-registration", "--server", "upstream-mcp", "--client", "gateway-out", ...args], cwd);
  before(() => {
    dir = tempDir();
    const ec = ["--key-type", "ecdsa-p256", "-q"];
    assert.equal(cli(["server", "upstream-mcp", "--san", "localhost", ...ec], dir).code, 0);
    assert.equal(cli(["client", "gateway-out", ...ec], dir).code, 0);
    other = tempDir();
    assert.equal(cli(["server", "upstream-mcp", "--san", "localhost", ...ec], other).code, 0);
    assert.equal(cli(["client", "gateway-out", ...ec], other).code, 0);
  });

  it("prints url, ca_certificate and client_cert as PEM, client_key as the key's path", () => {
    const r = register(["--url", URL]);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(body), ["name", "url", "transport", "ca_certificate", "client_cert", "client_key"]);
    assert.equal(body.url, URL);
    assert.equal(body.name, "upstream-mcp");
    assert.equal(body.ca_certificate, read(join(dir, "certs/mcp/servers/upstream-mcp/ca.crt")));
    assert.equal(body.client_cert, read(join(dir, "certs/mcp/clients/gateway-out/client.crt")));
    assert.equal(body.client_key, join(dir, "certs/mcp/clients/gateway-out/client.key"));
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
    assert.match(r.stderr, /client_key is the path .*client\.key: the gateway reads it there/);
  });

  it("--include-key puts the key in; written to a file, it is mode 600", () => {
    const out = join(dir, "body.json");
    const r = register(["--url", URL, "--include-key", "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const body = JSON.parse(read(out)) as Record<string, string>;
    assert.equal(body.client_key, read(join(dir, "certs/mcp/clients/gateway-out/client.key")));
  });

  it("refuses a URL whose host the server's cert does not name, and a plain-http URL (exit 2)", () => {
    const ip = register(["--url", "https://10.1.2.3:8443/mcp"]);
    assert.equal(ip.code, 2);
    assert.match(ip.stderr, /server\.crt names no 10\.1\.2\.3 .*the gateway would refuse/);
    assert.match(ip.stderr, /mtls-certs server NAME --ip 10\.1\.2\.3/);
    const plain = register(["--url", "http://localhost:8000/mcp"]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /is not an https:\/\/ URL/);
  });

  it("a client built as the gateway builds it gets through; without a client cert or with another CA's, refused", () => {
    const body = (cwd: string) => JSON.parse(register(["--url", URL], cwd).stdout) as Record<string, string>;
    const path = body(dir);
    const theirs = body(other);
    // Piped, not a terminal: the key may go to stdout.
    const inline = JSON.parse(register(["--url", URL, "--include-key"]).stdout) as Record<string, string>;
    const server = {
      cert: join(dir, "certs/mcp/servers/upstream-mcp/server.crt"),
      key: join(dir, "certs/mcp/servers/upstream-mcp/server.key"),
      ca: join(dir, "certs/mcp/servers/upstream-mcp/ca.crt"),
    };
    const bodies = [
      { id: "path", body: path },
      { id: "inline", body: inline },
      { id: "no-client-cert", body: { ...path, client_cert: null, client_key: null } },
      { id: "other-ca", body: { ...path, client_cert: theirs.client_cert, client_key: theirs.client_key } },
    ];
    const r = spawnSync("/usr/bin/python3", ["-c", PEERS, JSON.stringify({ server, bodies })], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(r.stdout) as Record<string, string>;
    assert.equal(results.path, "200 hello gateway-out");
    assert.equal(results.inline, "200 hello gateway-out");
    assert.match(results["no-client-cert"] ?? "", /^refused: /);
    assert.match(results["other-ca"] ?? "", /^refused: /);
  });
});
