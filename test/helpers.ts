/**
 * Test helpers: temp dirs, the real CLI as a child process, openssl, and real TLS peers.
 * Nothing here mocks crypto or the file system.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tls from "node:tls";
import { connect, createServer as createTcpServer, type AddressInfo } from "node:net";

/** The repository root (tests run from build/test/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = join(ROOT, "bin", "mtls-certs.js");
// Hints name the command as the user ran it (src/cli/invocation.ts): `node <BIN>` in tests. Pinned
// for every spawned run so assertions read as the docs do; output-style.test.ts unsets it.
process.env.MTLS_CERTS_COMMAND ??= "mtls-certs";

/** Temp dirs to remove at exit: one "exit" listener for all of them (one per dir set off MaxListenersExceededWarning). */
const tempDirsToRemove = new Set<string>();
process.on("exit", () => {
  for (const dir of tempDirsToRemove) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the process exits (set KEEP_TMP=1 to keep it). */
export function tempDir(prefix = "mtls-certs-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!process.env.KEEP_TMP) tempDirsToRemove.add(dir);
  return dir;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function toRun(r: SpawnSyncReturns<string>): Run {
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * The environment of a CLI run: this process's, without colour, and without npm's own `npm_*`
 * variables: under `npm test` they would make every hint read `npx mtls-certs` (src/cli/invocation.ts),
 * so a run would depend on how the suite was started. A test that means npm passes them in `env`.
 */
export function cliEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("npm_")));
  return { ...inherited, NO_COLOR: "1", CI: "1", MCP_CERT_DAYS: "", MCP_PLUGIN_CONFIG: "", ...env };
}

/** Runs `mtls-certs ...args` in `cwd` as a user would, without colour. */
export function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, input?: string): Run {
  return toRun(
    spawnSync(process.execPath, [BIN, ...args], {
      cwd,
      encoding: "utf8",
      input,
      // `check --json` on a tree of thousands of certs prints megabytes; the default 1 MiB cuts it.
      maxBuffer: 256 * 1024 * 1024,
      env: cliEnv(env),
    }),
  );
}

/** The same, asynchronously: for concurrent runs and signals. */
export function cliAsync(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): { child: ReturnType<typeof spawn>; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: cliEnv(env),
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  const done = new Promise<Run>((res) => child.on("close", (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

/** openssl with the given arguments. */
export function openssl(args: string[], input?: string): Run {
  return toRun(spawnSync("openssl", args, { encoding: "utf8", input }));
}

/** Any command, without blocking the event loop: for curl or openssl against a server in this process. */
export function runAsync(command: string, args: string[]): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(command, args);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

/** `openssl x509 -text -noout` of a cert file. */
export function x509Text(certPath: string): string {
  const r = openssl(["x509", "-in", certPath, "-noout", "-text"]);
  if (r.code !== 0) throw new Error(`openssl x509 failed on ${certPath}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A P-256 key and a cert that openssl itself signs with `ca` (`x509 -req -CA -CAkey`): a cert our
 * code never saw. `extensions` are extfile lines such as `subjectAltName=DNS:x`.
 */
export function opensslSignedCert(
  dir: string,
  name: string,
  ca: { cert: string; key: string },
  extensions: readonly string[],
  subject = `/CN=${name}`,
): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const extfile = writeFile(join(dir, `${name}.ext`), extensions.join("\n") + "\n");
  for (const args of [
    ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
    ["req", "-new", "-key", key, "-subj", subject, "-out", csr],
  ]) {
    const r = openssl(args);
    if (r.code !== 0) throw new Error(`openssl ${args[0]} for ${name} failed: ${r.stderr}`);
  }
  opensslSignCsr(csr, ca, cert, { days: 30, digest: "-sha256", extfile });
  return { cert, key };
}

/**
 * The Makefile's signing step, `openssl x509 -req -CA -CAkey`: `csr` signed by `ca` into `out`.
 * `createSerial` (default on) is `-CAcreateserial`, which leaves a .srl file beside the CA cert;
 * off, OpenSSL 3 picks a random serial and writes nothing there.
 */
export function opensslSignCsr(
  csr: string,
  ca: { cert: string; key: string },
  out: string,
  o: { days: number; digest?: string; extfile?: string; createSerial?: boolean },
): void {
  const args = ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key];
  if (o.createSerial !== false) args.push("-CAcreateserial");
  args.push("-days", String(o.days));
  if (o.digest) args.push(o.digest);
  if (o.extfile) args.push("-extfile", o.extfile);
  args.push("-out", out);
  const r = openssl(args);
  if (r.code !== 0) throw new Error(`openssl x509 -req for ${out} failed: ${r.stderr}`);
}

/**
 * `openssl req` with a new unencrypted P-256 key written to `keyOut`: a CSR at `out`, or with
 * `-x509` among `extra` a self-signed cert (with `-subj`, `-addext`, `-days` … in `extra`).
 */
export function opensslEcRequest(keyOut: string, out: string, extra: readonly string[] = []): Run {
  const curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  return openssl(["req", "-new", ...curve, "-keyout", keyOut, "-out", out, ...extra]);
}

/** `openssl verify -x509_strict` with an optional purpose; returns the run. */
export function verifyStrict(caFile: string, certPath: string, extra: string[] = []): Run {
  return openssl(["verify", "-x509_strict", "-CAfile", caFile, ...extra, certPath]);
}

export function writeFile(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

export function read(path: string): string {
  return readFileSync(path, "utf8");
}

/** A config.yaml as the gateway writes it. */
export function pluginConfig(plugins: Array<{ name: string; kind?: string; url?: string }>): string {
  return (
    "plugins:\n" +
    plugins
      .map(
        (p) =>
          `  - name: "${p.name}"\n    kind: "${p.kind ?? "external"}"\n` +
          (p.url ? `    mcp:\n      proto: STREAMABLEHTTP\n      url: ${p.url}\n` : ""),
      )
      .join("")
  );
}

export interface TlsEnd {
  cert?: string;
  key?: string;
  ca: string;
}

/** A leaf directory of the tree as one TLS end: `<stem>.crt`, `<stem>.key` and its ca.crt copy. */
export function leafEnd(dir: string, stem: "server" | "client"): TlsEnd & { cert: string; key: string } {
  return { cert: read(join(dir, `${stem}.crt`)), key: read(join(dir, `${stem}.key`)), ca: read(join(dir, "ca.crt")) };
}

export interface HandshakeResult {
  ok: boolean;
  /** What the server saw: the client cert's CN when authorized. */
  peerCn?: string;
  error?: string;
}

/**
 * A real mutual-TLS handshake over loopback with node:tls: the server requires and verifies
 * a client certificate; the client verifies the server against `servername` (or `host`).
 */
export async function mtlsHandshake(
  server: TlsEnd & { cert: string; key: string },
  client: TlsEnd,
  o: { servername?: string; host?: string; crl?: string } = {},
): Promise<HandshakeResult> {
  const srv = tls.createServer({
    cert: server.cert,
    key: server.key,
    ca: server.ca,
    crl: o.crl,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.2",
  });
  let peerCn: string | undefined;
  srv.on("secureConnection", (socket) => {
    peerCn = String(socket.getPeerCertificate().subject?.CN ?? "");
    socket.end("hello\n");
  });
  srv.on("tlsClientError", () => undefined);
  await new Promise<void>((res) => srv.listen(0, o.host ?? "127.0.0.1", res));
  const { port } = srv.address() as AddressInfo;
  try {
    return await new Promise<HandshakeResult>((res) => {
      const socket = tls.connect({
        host: o.host ?? "127.0.0.1",
        port,
        servername: o.servername,
        ca: client.ca,
        cert: client.cert,
        key: client.key,
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
      });
      let data = "";
      socket.on("data", (d) => (data += d));
      socket.on("end", () =>
        res(
          data === "hello\n"
            ? { ok: true, peerCn }
            : { ok: false, error: "server closed without data (client cert refused)" },
        ),
      );
      socket.on("error", (e) => res({ ok: false, error: e.message }));
      socket.setTimeout(10_000, () => {
        socket.destroy();
        res({ ok: false, error: "timeout" });
      });
    });
  } finally {
    srv.close();
  }
}

/**
 * Python 3.13, whose default context turns VERIFY_X509_STRICT on (the gateway supports 3.12-3.13):
 * pyenv's build where there is one, else the system's python3 (the scripts set the flag anyway).
 */
export const PYTHON =
  process.env.PYTHON ?? [join(homedir(), ".pyenv/versions/3.13.0/bin/python3")].find(existsSync) ?? "python3";

/**
 * Python's ssl client with VERIFY_X509_STRICT (Python 3.13's default context) against a
 * node:tls server: proves the gateway's own TLS stack accepts the files.
 */
export async function pythonStrictClient(
  server: TlsEnd & { cert: string; key: string },
  client: { certfile: string; keyfile: string; cafile: string; password?: string },
  host: string,
  checkHostname = true,
): Promise<Run> {
  const srv = tls.createServer({
    cert: server.cert,
    key: server.key,
    ca: server.ca,
    requestCert: true,
    rejectUnauthorized: true,
  });
  srv.on("secureConnection", (s) => s.end("hello\n"));
  srv.on("tlsClientError", () => undefined);
  await new Promise<void>((res) => srv.listen(0, "127.0.0.1", res));
  const { port } = srv.address() as AddressInfo;
  const script = `
import ssl, socket, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
ctx.check_hostname = sys.argv[6] == "1"
ctx.load_cert_chain(sys.argv[4], sys.argv[5], password=(sys.argv[7] if len(sys.argv) > 7 else None))
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:
    with ctx.wrap_socket(raw, server_hostname=sys.argv[1]) as s:
        print(s.recv(100).decode().strip())
`;
  const args = [
    "-c",
    script,
    host,
    String(port),
    client.cafile,
    client.certfile,
    client.keyfile,
    checkHostname ? "1" : "0",
  ];
  if (client.password !== undefined) args.push(client.password);
  try {
    return await new Promise<Run>((res) => {
      const child = spawn(PYTHON, args);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code, signal) => res({ code, signal, stdout, stderr }));
    });
  } finally {
    srv.close();
  }
}

/**
 * A port nobody listens on right now, for a server under test that binds it a moment later. Taken
 * at random below the kernel's ephemeral range, where no `listen(0)` and no outgoing connection
 * (curl, s_client, a test in another file running at the same time) can take it in between.
 */
export async function freePort(): Promise<number> {
  const range = "/proc/sys/net/ipv4/ip_local_port_range"; // Linux; elsewhere the kernel picks
  const [low] = existsSync(range) ? readFileSync(range, "utf8").trim().split(/\s+/).map(Number) : [];
  const below = low !== undefined && low > 11_024 ? low : undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = below === undefined ? 0 : 10_000 + Math.floor(Math.random() * (below - 11_024));
    const probe = createTcpServer();
    const bound = await new Promise<boolean>((res) => {
      probe.once("error", () => res(false));
      probe.listen(port, "127.0.0.1", () => res(true));
    });
    if (!bound) continue;
    const { port: taken } = probe.address() as AddressInfo;
    await new Promise<void>((res) => probe.close(() => res()));
    return taken;
  }
  throw new Error("no free port on 127.0.0.1 after 50 tries");
}

export async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((res) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        res(true);
      });
      socket.on("error", () => res(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after 15 s: ${log()}`);
}

/** The fenced code block of a docs page whose first line starts with `firstLine` (a recipe, as written). */
export function docsBlock(page: string, firstLine: string): string {
  for (const m of read(join(ROOT, page)).matchAll(/^```[\w-]*\n([\s\S]*?)^```$/gm))
    if (m[1]!.startsWith(firstLine)) return m[1]!;
  throw new Error(`${page}: no code block starting with ${firstLine}`);
}

/** An `npx` for recipes: `npx [--no] mtls-certs …` runs this checkout's bin; anything else fails. */
export function npxShim(): string {
  const dir = tempDir();
  const npx = writeFile(
    join(dir, "npx"),
    `#!/bin/sh\n[ "$1" = --no ] && shift\n[ "$1" = mtls-certs ] || { echo "shim: not mtls-certs: $*" >&2; exit 127; }\nshift\nexec "${process.execPath}" "${BIN}" "$@"\n`,
  );
  chmodSync(npx, 0o755);
  return dir;
}

/**
 * A directory standing for /usr/bin and /bin without node, npm, npx and corepack: the PATH of a
 * machine with no Node (node is /usr/bin/node here, and /bin is /usr/bin on merged-/usr systems).
 */
export function pathWithoutNode(): string {
  const bin = tempDir("mtls-certs-no-node-");
  for (const dir of ["/usr/bin", "/bin"])
    for (const name of readdirSync(dir)) {
      if (/^(node|nodejs|npm|npx|corepack)$/.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(dir, name), join(bin, name));
    }
  return bin;
}
