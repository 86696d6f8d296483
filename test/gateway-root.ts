/**
 * A temp folder laid out as the gateway's repository root, as its deploy tooling (cforge) sees it:
 * the stock plugins/external/config.yaml (http://127.0.0.1 URLs, read from IBM/mcp-context-forge),
 * an mcp-stack.yaml, and a Makefile that includes `export makefile`'s fragment. `make` runs the
 * fragment with this repository's CLI (EC keys: RSA 4096 would cost the shared CPU).
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { BIN, cli, pythonStrictClient, leafEnd, tempDir, writeFile, type Run } from "./helpers.js";

export const HAS_MAKE = spawnSync("make", ["--version"]).status === 0;

/** The gateway's stock plugins/external/config.yaml (mcp-context-forge main, 2026-12), trimmed to its plugins. */
export const STOCK_PLUGIN_CONFIG = `plugins:
  - name: "DenyListPlugin"
    kind: "external"
    mcp:
      proto: STREAMABLEHTTP
      url: http://127.0.0.1:3000/mcp
  - name: "OPAPluginFilter"
    kind: "external"
    priority: 10
    mcp:
      proto: STREAMABLEHTTP
      url: http://127.0.0.1:8000/mcp
  - name: "LLMGuardPlugin"
    kind: "external"
    priority: 20
    mcp:
      proto: STREAMABLEHTTP
      url: http://127.0.0.1:8001/mcp
`;

export interface StackShape {
  type: "compose" | "kubernetes";
  namespace?: string;
  /** certificates.*_path's root. Default ./certs/mcp (the schema's default). */
  root?: string;
  plugins?: string[];
}

/** An mcp-stack.yaml in the shape of the tooling's schema (deployment, plugins, certificates). */
export function stackYaml(s: StackShape): string {
  const root = s.root ?? "./certs/mcp";
  return `deployment:
  type: ${s.type}
${s.namespace ? `  namespace: ${s.namespace}\n` : ""}plugins:
${(s.plugins ?? ["DenyListPlugin", "OPAPluginFilter"]).map((p, i) => `  - name: ${p}\n    port: ${8000 + i}\n    mtls_enabled: true\n`).join("")}certificates:
  validity_days: 825
  ca_path: ${root}/ca
  gateway_path: ${root}/gateway
  plugins_path: ${root}/plugins
`;
}

export interface GatewayRoot {
  dir: string;
  tree: string;
  /** `make ARGS` in the root, with an environment as cforge leaves it (no MCP_* variables). */
  make(args: string[], env?: NodeJS.ProcessEnv): SpawnSyncReturns<string>;
  /** The calls cforge's Python deploy path makes (python_deploy.py generate_certificates), in order. */
  cforgeMakeCalls(plugins: readonly string[], days?: number): void;
  /** Writes the fragment: `mtls-certs export makefile ARGS -o mcp-certs.mk --force`. */
  exportFragment(args?: string[]): Run;
}

export function gatewayRoot(stack?: StackShape): GatewayRoot {
  const dir = tempDir("mtls-certs-gateway-root-");
  const wrapper = writeFile(
    join(dir, ".bin/mtls-certs-ec"),
    `#!/bin/sh\ncmd=$1; shift\ncase $cmd in ca|gateway|plugin|all) exec "${process.execPath}" "${BIN}" "$cmd" "$@" --key-type ecdsa-p256 -q ;;\n*) exec "${process.execPath}" "${BIN}" "$cmd" "$@" ;;\nesac\n`,
  );
  chmodSync(wrapper, 0o755);
  writeFile(join(dir, "plugins/external/config.yaml"), STOCK_PLUGIN_CONFIG);
  if (stack) writeFile(join(dir, "mcp-stack.yaml"), stackYaml(stack));
  writeFile(
    join(dir, "Makefile"),
    "# the gateway's Makefile, its certs-mcp-* targets replaced\ninclude mcp-certs.mk\n",
  );
  const make = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync("make", ["--no-print-directory", ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "", NO_COLOR: "1", MTLS_CERTS: wrapper, ...env },
    });
  return {
    dir,
    tree: join(dir, "certs/mcp"),
    make,
    cforgeMakeCalls(plugins, days = 825) {
      for (const args of [
        ["certs-mcp-ca", `MCP_CERT_DAYS=${days}`],
        ["certs-mcp-gateway", `MCP_CERT_DAYS=${days}`],
        ...plugins.map((p) => ["certs-mcp-plugin", `PLUGIN_NAME=${p}`, `MCP_CERT_DAYS=${days}`]),
      ]) {
        const r = make(args);
        if (r.status !== 0) throw new Error(`make ${args.join(" ")}: ${r.stdout}${r.stderr}`);
      }
    },
    exportFragment(args = []) {
      return cli(["export", "makefile", ...args, "-o", "mcp-certs.mk", "--force"], dir);
    },
  };
}

/** The gateway (gateway/client.*, trusting only ca/ca.crt, as the tooling mounts it) dials `host`. */
export function gatewayDials(tree: string, plugin: string, host: string): Promise<Run> {
  return pythonStrictClient(
    leafEnd(join(tree, "plugins", plugin), "server"),
    {
      certfile: join(tree, "gateway/client.crt"),
      keyfile: join(tree, "gateway/client.key"),
      cafile: join(tree, "ca/ca.crt"),
    },
    host,
  );
}
