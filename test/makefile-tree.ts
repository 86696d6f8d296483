/**
 * A certs/mcp tree made the way the gateway's Makefile makes it: its `certs-mcp-ca`,
 * `certs-mcp-gateway` and `certs-mcp-plugin` recipes, command for command (IBM/mcp-context-forge,
 * as ../shared/CONTEXTFORGE.md describes them): an RSA CA with basicConstraints but no keyUsage,
 * an X.509 v1 gateway cert, plugin certs whose only extension file line is the three SANs.
 * Built once per test file and copied per test: RSA-4096 keys are the Makefile's, and slow.
 */
import { spawnSync } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";

/** The recipes, with $(MCP_CERT_DAYS) and $(PLUGIN_NAME) as shell variables. */
const CA = `
mkdir -p certs/mcp/ca
openssl genrsa -out certs/mcp/ca/ca.key $BITS
openssl req -new -x509 -key certs/mcp/ca/ca.key -out certs/mcp/ca/ca.crt \\
  -days $MCP_CERT_DAYS \\
  -subj "/CN=ContextForge-CA/O=ContextForge/OU=Plugins"
echo "01" > certs/mcp/ca/ca.srl
chmod 600 certs/mcp/ca/ca.key
chmod 644 certs/mcp/ca/ca.crt
`;

const GATEWAY = `
mkdir -p certs/mcp/gateway
openssl genrsa -out certs/mcp/gateway/client.key $BITS
openssl req -new -key certs/mcp/gateway/client.key \\
  -out certs/mcp/gateway/client.csr \\
  -subj "/CN=mcp-gateway-client/O=MCPGateway/OU=Gateway"
openssl x509 -req -in certs/mcp/gateway/client.csr \\
  -CA certs/mcp/ca/ca.crt -CAkey certs/mcp/ca/ca.key \\
  -CAcreateserial -out certs/mcp/gateway/client.crt \\
  -days $MCP_CERT_DAYS -sha256
rm certs/mcp/gateway/client.csr
cp certs/mcp/ca/ca.crt certs/mcp/gateway/ca.crt
chmod 600 certs/mcp/gateway/client.key
chmod 644 certs/mcp/gateway/client.crt certs/mcp/gateway/ca.crt
`;

const PLUGIN = `
mkdir -p certs/mcp/plugins/$PLUGIN_NAME
openssl genrsa -out certs/mcp/plugins/$PLUGIN_NAME/server.key $BITS
openssl req -new -key certs/mcp/plugins/$PLUGIN_NAME/server.key \\
  -out certs/mcp/plugins/$PLUGIN_NAME/server.csr \\
  -subj "/CN=mcp-plugin-$PLUGIN_NAME/O=MCPGateway/OU=Plugins"
openssl x509 -req -in certs/mcp/plugins/$PLUGIN_NAME/server.csr \\
  -CA certs/mcp/ca/ca.crt -CAkey certs/mcp/ca/ca.key \\
  -CAcreateserial -out certs/mcp/plugins/$PLUGIN_NAME/server.crt \\
  -days $MCP_CERT_DAYS -sha256 \\
  -extfile <(printf "subjectAltName=DNS:$PLUGIN_NAME,DNS:mcp-plugin-$PLUGIN_NAME,DNS:localhost")
rm certs/mcp/plugins/$PLUGIN_NAME/server.csr
cp certs/mcp/ca/ca.crt certs/mcp/plugins/$PLUGIN_NAME/ca.crt
chmod 600 certs/mcp/plugins/$PLUGIN_NAME/server.key
chmod 644 certs/mcp/plugins/$PLUGIN_NAME/server.crt certs/mcp/plugins/$PLUGIN_NAME/ca.crt
`;

export interface MakefileTreeOptions {
  plugins: readonly string[];
  /** MCP_CERT_DAYS; the Makefile's default is 825. */
  days?: number;
  /** The Makefile's keys are RSA 4096; a smaller size only where a test makes many trees. */
  bits?: number;
}

/** Runs `make certs-mcp-ca certs-mcp-gateway` and `certs-mcp-plugin` per plugin in `dir` (certs/mcp below it). */
export function makeMakefileTree(dir: string, o: MakefileTreeOptions): string {
  const script = [
    "set -euo pipefail",
    CA,
    GATEWAY,
    ...o.plugins.map((name) => `PLUGIN_NAME='${name}'\n${PLUGIN}`),
  ].join("\n");
  const r = spawnSync("bash", ["-c", script], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, MCP_CERT_DAYS: String(o.days ?? 825), BITS: String(o.bits ?? 4096) },
  });
  if (r.status !== 0) throw new Error(`the Makefile's openssl recipes failed: ${r.stderr}`);
  return join(dir, "certs", "mcp");
}

/** A copy of a tree made once, so each test can change its own. */
export function copyTree(from: string, toDir: string): string {
  const to = join(toDir, "certs", "mcp");
  cpSync(from, to, { recursive: true });
  return to;
}
