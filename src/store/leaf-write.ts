/**
 * Writing a leaf into the tree: its key (0600 from the first byte, or the group's 0640), its cert
 * with the chain a peer is sent, client.pem, and the ca.crt copy; a cert signed for a CSR has no
 * key here. Each file through write.ts (temp, O_EXCL with the final mode, rename).
 */
import { X509Certificate as NodeCert } from "node:crypto";
import type * as x509 from "../pki/x509.js";
import { encryptPrivateKeyPem, type KeyPair } from "../pki/keys.js";
import { signCertificate, toPem, type Validity } from "../pki/issue.js";
import type { LoadedCa } from "./ca-store.js";
import type { LeafFiles } from "./paths.js";
import { CERT_MODE, KEY_MODE, ensureDirectory, writeFileAtomically } from "./write.js";
import { readKnown, textOrThrow, type KnownFiles } from "./file-facts.js";
import type { LeafRequest, TreeOptions } from "./issue-types.js";
import { assertLeafDirectory } from "./leaf-state.js";

/**
 * Writes a leaf's key, then its cert (a crash between leaves a key the next run replaces).
 * Without a CA the leaf is self-signed (`https` without `--ca`, as `make certs` makes it).
 */
export async function writeLeaf(
  request: LeafRequest,
  key: KeyPair,
  ca: LoadedCa | undefined,
  validity: Validity,
  o: TreeOptions,
  replace = false,
  /** renew: the leaf's files as the run holds them (read at its start); each write recorded there. */
  known?: KnownFiles,
): Promise<NodeCert> {
  const cert = await signCertificate({
    profile: request.profile,
    subject: request.subject,
    sans: request.sans,
    key,
    issuer: ca,
    validity,
    extensions: request.extensions,
  });
  const { files } = request;
  await assertLeafDirectory(files);
  await ensureDirectory(files.dir);
  const keyPem = await writeKey(
    files.key,
    key.privateKeyPem,
    o.keyPassphrase,
    request.keyMode ?? KEY_MODE,
    true,
    request.keyGroup,
    known,
  );
  const chain = servedChain(ca);
  await writeFileAtomically(files.cert, toPem(cert) + chain, { mode: CERT_MODE, replace, known });
  if (files.combined)
    await writeFileAtomically(files.combined, toPem(cert) + chain + keyPem, {
      mode: request.keyMode ?? KEY_MODE,
      group: request.keyGroup,
      replace: true,
      known,
    });
  if (ca) await writeCaCopy(files, ca, replace, known);
  return new NodeCert(Buffer.from(cert.rawData));
}

/**
 * Writes a leaf signed for a key that is not ours (`sign <csr>`, and its renewal): the cert with
 * its served chain and the ca.crt copy; no key file, and no combined cert+key file.
 */
export async function writeSignedCert(
  files: LeafFiles,
  cert: x509.X509Certificate,
  ca: LoadedCa,
  replace = false,
  known?: KnownFiles,
): Promise<NodeCert> {
  await ensureDirectory(files.dir);
  await writeFileAtomically(files.cert, toPem(cert) + servedChain(ca), { mode: CERT_MODE, replace, known });
  await writeCaCopy(files, ca, replace, known);
  return new NodeCert(Buffer.from(cert.rawData));
}

/**
 * What follows the leaf in every file a server or client presents (server.crt, client.crt,
 * client.pem, certs/cert.pem). Under an intermediate it is the intermediate: the gateway's deploy
 * tooling trusts only ca/ca.crt (the root), browsers and curl likewise, so the peer must be sent
 * the intermediate to build the path (what Python's load_cert_chain and uvicorn's ssl_certfile
 * send: the whole file). The leaf stays first, so every reader of "the cert" still finds it.
 */
function servedChain(ca: LoadedCa | undefined): string {
  const signedByIntermediate = ca !== undefined && ca.cert.subject !== ca.cert.issuer;
  return signedByIntermediate ? toPem(ca.cert) : "";
}

export async function writeKey(
  path: string,
  pem: string,
  passphrase: string | undefined,
  mode: number,
  replace: boolean,
  group?: number,
  known?: KnownFiles,
): Promise<string> {
  const content = passphrase === undefined ? pem : encryptPrivateKeyPem(pem, passphrase);
  await writeFileAtomically(path, content, { mode, replace, group, known });
  return content;
}

/**
 * Writes the ca.crt copy when it is missing (or, with `replace`, when it differs). A copy `known`
 * holds as read (renew read it at its start) is not opened again.
 */
export async function writeCaCopy(files: LeafFiles, ca: LoadedCa, replace = false, known?: KnownFiles): Promise<void> {
  if (!files.caCopy) return;
  const current = textOrThrow(readKnown(files.caCopy, {}, known));
  if (current === ca.bundlePem) return;
  if (current !== undefined && !replace) return; // `check` reports a copy that differs
  await writeFileAtomically(files.caCopy, ca.bundlePem, {
    mode: CERT_MODE,
    replace: current !== undefined,
    known,
  });
}
