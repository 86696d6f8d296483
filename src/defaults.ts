/** The defaults of mtls-certs, in one place. Each is what the seed's Makefile uses. */

/** MCP_CERT_DAYS in the Makefile: 825 days, the CA/Browser Forum's old leaf maximum. Leaves only. */
export const DEFAULT_DAYS = 825;
/**
 * A root CA's validity (MCP_CA_DAYS, `--ca-days`, `ca --days`): ten years, as mkcert and step give
 * their roots. The Makefile gave its CA the leaves' 825 days, so every leaf issued after day one
 * was capped at the CA's notAfter, and the nightly renew re-keyed them all every night of the
 * last month: a CA must outlive several leaf lifetimes.
 */
export const DEFAULT_CA_DAYS = 3650;
/**
 * An intermediate's validity: five years, between the root's ten and the leaves' 825 days. It
 * outlives two leaf lifetimes, and it is re-made from the offline root at least once per root life.
 */
export const DEFAULT_INTERMEDIATE_DAYS = 1825;
/**
 * How long before the CA expires `check` and `renew` call for its rotation, on top of `--within`:
 * a rotation needs the new bundle on every peer, then every leaf re-issued and deployed, before
 * the old CA may go (`renew --ca`, deploy, `ca --finish-rotation`).
 */
export const CA_ROTATION_LEAD_DAYS = 60;
/** `make certs` gives the gateway's own HTTPS cert one year. */
export const DEFAULT_HTTPS_DAYS = 365;
/** Upper bound for --days: 100 years is already absurd for a private CA. */
export const MAX_DAYS = 36500;
/**
 * The seed requires 4096-bit RSA for every key. (A KeyType of pki/keys.ts; typed where it is used,
 * as this module imports nothing, so nothing below it imports back.)
 */
export const DEFAULT_KEY_TYPE = "rsa4096";
/** notBefore is set this far in the past so peers with a slow clock accept a fresh cert. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** `renew` and `check --within` look this many days ahead unless told otherwise. */
export const DEFAULT_RENEW_WITHIN_DAYS = 30;
/** `export prometheus-rules`: metrics whose check is older than this many days are stale. */
export const CHECK_STALE_AFTER_DAYS = 2;
/** CRL nextUpdate. */
export const DEFAULT_CRL_DAYS = 30;
/** Keys generated at once per core (--jobs default); why more than one: src/pki/limiter.ts. */
export const KEYS_IN_FLIGHT_PER_CORE = 4;
/** Thread-pool threads left free for file I/O while keys are generated. */
export const IO_THREADS = 2;
/**
 * PBKDF2-HMAC-SHA256 iterations for everything we encrypt under a passphrase: PKCS#12 files and
 * encrypted PEM keys (OWASP's floor for PBKDF2-SHA256 is higher still; OpenSSL 3's default is 2048).
 */
export const PBKDF2_ITERATIONS = 100_000;
/** How long a command waits for another mtls-certs holding the tree's lock. */
export const DEFAULT_LOCK_WAIT_MS = 60_000;

export const DEFAULT_OUT = "certs/mcp";
/**
 * The gateway's Kubernetes namespace: mcp-stack.yaml's `deployment.namespace` when it names none
 * (the gateway's deploy tooling), and every export's `--namespace` default.
 */
export const DEFAULT_GATEWAY_NAMESPACE = "mcp-gateway";
/** The CA subject of `make certs-mcp-ca` (CN=ContextForge-CA, O=ContextForge, OU=Plugins). */
export const DEFAULT_CA_SUBJECT = { cn: "ContextForge-CA", org: "ContextForge", ou: "Plugins" } as const;
export const DEFAULT_CONFIG = "plugins/external/config.yaml";
/** What the Makefile makes when there is no config file. */
export const FALLBACK_PLUGINS = ["example-plugin-a", "example-plugin-b"] as const;

/** Environment variables the Makefile reads; a flag beats them, they beat the default. */
export const ENV = {
  /** Leaves' validity. */
  days: "MCP_CERT_DAYS",
  /** The CA's validity, wherever a CA is created (`ca`, `all`, `gateway`, …) or rotated (`renew --ca`); ours. */
  caDays: "MCP_CA_DAYS",
  config: "MCP_PLUGIN_CONFIG",
  /** Seconds to wait for another run's lock on the tree (`--lock-wait`); ours, not the Makefile's. */
  lockWait: "MTLS_CERTS_LOCK_WAIT",
  /** `renew --deploy-hook`: the command run after a renewal that changed something. */
  deployHook: "MTLS_CERTS_DEPLOY_HOOK",
  /** Group of the leaf keys (`--key-group`): 0640 in it, for a container user in that group. */
  keyGroup: "MTLS_CERTS_KEY_GROUP",
  /** The command hints start with, for a wrapper that knows better than argv (cli/invocation.ts). */
  command: "MTLS_CERTS_COMMAND",
  /** Group of the gateway's client key when it differs (`--gateway-key-group`). */
  gatewayKeyGroup: "MTLS_CERTS_GATEWAY_KEY_GROUP",
} as const;
