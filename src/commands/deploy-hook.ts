/**
 * `renew --deploy-hook CMD`: after a renewal that changed something, run CMD once so servers that
 * keep certificates in memory (nginx, HAProxy, the gateway) load the new ones — certbot's
 * `--deploy-hook`. The renewal is finished and its lock released before the hook starts (a hook
 * may run mtls-certs itself); a failing hook never undoes it, it only makes the exit code 1.
 *
 * The hook runs through /bin/sh (as certbot runs its hooks), in the current directory, with the
 * renewed certs described twice: environment variables for a one-line reload, and one JSON
 * document on stdin for a script that wants every detail.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { Writable } from "node:stream";
import type { RenewReport } from "../report/renew-types.js";

/** The environment variables a hook gets, besides the caller's own environment. */
export const DEPLOY_HOOK_ENV = {
  /** The tree's root, absolute. */
  tree: "MTLS_CERTS_TREE",
  /** `role/name` of each renewed leaf, space-separated (names hold no spaces): `plugin/DenyListPlugin server/gateway.local`. */
  renewed: "MTLS_CERTS_RENEWED",
  /** How many leaves were renewed. */
  count: "MTLS_CERTS_RENEWED_COUNT",
  /** Each renewed cert file, absolute, one per line (paths may hold spaces). */
  certs: "MTLS_CERTS_RENEWED_CERTS",
  /** Each renewed key file, absolute, one per line, in the order of the certs. */
  keys: "MTLS_CERTS_RENEWED_KEYS",
  /** `1` when `renew --ca` rotated the CA (every ca.crt copy changed), else `0`. */
  caRotated: "MTLS_CERTS_CA_ROTATED",
  /** The dated folder holding the replaced certs and keys; empty when none was replaced. */
  backup: "MTLS_CERTS_BACKUP",
} as const;

/** One renewed leaf in the hook's JSON. */
export interface DeployedCert {
  role: string;
  name: string;
  cert: string;
  key: string;
  serial: string | null;
  previousSerial: string | null;
  notBefore: string;
  notAfter: string;
  fingerprint: string | null;
  spkiPin: string | null;
  keyReused: boolean;
}

/** The JSON document on the hook's stdin. */
export interface DeployHookInput {
  tree: string;
  renewedAt: string;
  backup: string | null;
  caRotated: boolean;
  renewed: DeployedCert[];
  /** Leaves renewal failed on: the hook still runs for the others. */
  failed: Array<{ role: string; name: string; cert: string; error: string }>;
}

export interface DeployHookResult {
  command: string;
  ok: boolean;
  /** The hook's exit code; null when it did not start or a signal ended it. */
  exitCode: number | null;
  signal: string | null;
  /** Why it failed to start (ENOENT of the shell …). */
  error: string | null;
}

/** True when the renewal wrote something a running server should load. */
export function renewalChanged(report: RenewReport): boolean {
  return !report.dryRun && (report.renewed.some((r) => r.action === "renewed") || report.ca?.action === "rotated");
}

/** What the hook is told, as JSON and as environment variables. */
export function deployHookInput(report: RenewReport): { json: DeployHookInput; env: Record<string, string> } {
  const renewed = report.renewed
    .filter((r) => r.action === "renewed")
    .map(
      (r): DeployedCert => ({
        role: r.role,
        name: r.name,
        cert: resolve(r.cert),
        key: resolve(r.key),
        serial: r.after.serial,
        previousSerial: r.before.serial,
        notBefore: r.after.notBefore,
        notAfter: r.after.notAfter,
        fingerprint: r.after.fingerprint,
        spkiPin: r.after.spkiPin,
        keyReused: r.keyReused,
      }),
    );
  const json: DeployHookInput = {
    tree: resolve(report.root),
    renewedAt: report.renewedAt,
    backup: report.backup === null ? null : resolve(report.backup),
    caRotated: report.ca?.action === "rotated",
    renewed,
    failed: report.failed.map((f) => ({ role: f.role, name: f.name, cert: resolve(f.cert), error: f.error.message })),
  };
  const env = {
    [DEPLOY_HOOK_ENV.tree]: json.tree,
    [DEPLOY_HOOK_ENV.renewed]: renewed.map((r) => `${r.role}/${r.name}`).join(" "),
    [DEPLOY_HOOK_ENV.count]: String(renewed.length),
    [DEPLOY_HOOK_ENV.certs]: renewed.map((r) => r.cert).join("\n"),
    [DEPLOY_HOOK_ENV.keys]: renewed.map((r) => r.key).join("\n"),
    [DEPLOY_HOOK_ENV.caRotated]: json.caRotated ? "1" : "0",
    [DEPLOY_HOOK_ENV.backup]: json.backup ?? "",
  };
  return { json, env };
}

/**
 * Runs the hook once and waits for it. Its stdout and stderr go to `output` (our stderr), so
 * `renew --json` keeps one clean document on stdout.
 */
export function runDeployHook(
  command: string,
  report: RenewReport,
  o: { env?: NodeJS.ProcessEnv; output: Writable; withhold?: readonly string[] },
): Promise<DeployHookResult> {
  const { json, env } = deployHookInput(report);
  // A reload command needs no passphrase: the variables the passphrase flags named stay with us.
  const inherited = { ...(o.env ?? process.env) };
  for (const name of o.withhold ?? []) delete inherited[name];
  return new Promise((done) => {
    const child = spawn("/bin/sh", ["-c", command], {
      env: { ...inherited, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdout.on("data", (d: Buffer) => o.output.write(d));
    child.stderr.on("data", (d: Buffer) => o.output.write(d));
    // A hook that does not read stdin closes it early: EPIPE is its choice, not a failure.
    child.stdin.on("error", () => undefined);
    child.stdin.end(JSON.stringify(json, null, 2) + "\n");
    child.on("error", (e) => done({ command, ok: false, exitCode: null, signal: null, error: e.message }));
    child.on("close", (code, signal) => done({ command, ok: code === 0, exitCode: code, signal, error: null }));
  });
}
