// A user's code: every import comes from the installed package "mtls-certs", types included.
import { connect, createServer } from "node:tls";
import type { AddressInfo } from "node:net";
import {
  MtlsError,
  ERROR_CODES,
  KEY_TYPES,
  all,
  checkTree,
  createCa,
  createMemoryCa,
  inspectFile,
  issueGateway,
  issuePlugin,
  verifyCertificate,
  verifyPem,
  type AllReport,
  type CheckReport,
  type ErrorCode,
  type InspectReport,
  type KeyType,
  type MemoryCert,
  type VerifyReport,
} from "mtls-certs";

// The types are real, not `any`: each marked line must fail to compile. Never called.
export function typeErrors(): void {
  // @ts-expect-error not a key type
  const badKeyType: KeyType = "rsa1024";
  // @ts-expect-error days is a number, as the API documents
  void createCa({ days: "825" });
  // @ts-expect-error a leaf role, not the CA
  void createMemoryCa().then((ca) => ca.issue({ role: "ca" }));
  // @ts-expect-error the report has no such field
  void checkTree().then((r) => r.certificatez);
  void badKeyType;
}

const keyType: KeyType = "ecdsa-p256";
const code: ErrorCode = "E_BAD_NAME";
const exitCode: 2 = ERROR_CODES[code];
void [KEY_TYPES, exitCode, all, checkTree, issueGateway, issuePlugin, inspectFile, verifyCertificate];
const typed: [Promise<AllReport>, Promise<CheckReport>, Promise<InspectReport>, Promise<VerifyReport>] | undefined =
  undefined;
void typed;

// A test suite's set-up: a CA and two leaves in memory, then one mutual-TLS handshake.
const ca = await createMemoryCa({ keyType });
const server: MemoryCert = await ca.issue({ role: "server", name: "localhost", sans: ["IP:127.0.0.1"] });
const client = await ca.issue({ role: "client", name: "test-suite" });

const tlsServer = createServer(
  { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
  (socket) => {
    socket.end(`hello ${String(socket.getPeerCertificate().subject.CN)}\n`);
  },
);
await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
const { port } = tlsServer.address() as AddressInfo;
const greeting = await new Promise<string>((resolve, reject) => {
  const socket = connect({ host: "127.0.0.1", port, ca: server.caPem, cert: client.certPem, key: client.keyPem });
  let data = "";
  socket.on("data", (d) => (data += d));
  socket.on("end", () => resolve(data.trim()));
  socket.on("error", reject);
});
tlsServer.close();

const verdict = await verifyPem({ certPem: server.certPem, caPem: ca.certPem, host: "127.0.0.1" });
let refused: { code: ErrorCode; exitCode: number } | undefined;
try {
  await ca.issue({ role: "plugin", name: "../escape" });
} catch (e) {
  if (e instanceof MtlsError) refused = { code: e.code, exitCode: e.exitCode };
}
console.log(JSON.stringify({ greeting, verified: verdict.ok, refused }));
