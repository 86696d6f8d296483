/**
 * In-memory mode, for a test suite's global set-up: a CA and its leaves as PEM strings, nothing
 * written to disk. It runs the same pipeline as the CLI (generateKey, the profiles table,
 * signCertificate, validityFor), so a cert made here is the cert `mtls-certs` would write.
 */
import { isIP } from "node:net";
import { DEFAULT_CA_DAYS, DEFAULT_DAYS, DEFAULT_HTTPS_DAYS, DEFAULT_KEY_TYPE } from "./defaults.js";
import { MtlsError } from "./errors.js";
import { generateKey, type KeyType } from "./pki/keys.js";
import { signCertificate, toPem, validityFor, type Issuer } from "./pki/issue.js";
import { checkDnsName, checkIp, checkName, parseDays } from "./pki/names.js";
import {
  GATEWAY_SUBJECT,
  HTTPS_SANS,
  HTTPS_SUBJECT,
  PROFILES,
  caSubject,
  clientSubject,
  dns,
  ip,
  pluginSans,
  pluginSubject,
  serverSubject,
  uniqueSans,
  type CaSubjectOptions,
  type Role,
  type San,
  type Subject,
} from "./pki/profiles.js";

/** The leaf kinds a memory CA issues: the CLI's leaf roles. */
export type LeafRole = Exclude<Role, "ca" | "intermediate">;

/** Validity options, named as the CLI's flags. */
export interface MemoryValidityOptions {
  /** Validity in days. Default: a CA 3650, a leaf 825 (365 for `https`), as the CLI. */
  days?: number;
  /** The clock. Default: now. */
  now?: Date;
  /** Explicit dates win over `now`/`days`: for expired or not-yet-valid fixtures. */
  notBefore?: Date;
  notAfter?: Date;
}

export interface MemoryCaOptions extends MemoryValidityOptions {
  /** Key type of the CA and, unless `issue` says otherwise, of its leaves. Default rsa4096; tests want ecdsa-p256. */
  keyType?: KeyType;
  /** The CA's subject: `{ cn, org, ou }`, default `CN=ContextForge-CA, O=ContextForge, OU=Plugins`. */
  subject?: CaSubjectOptions;
}

export interface MemoryLeafOptions extends MemoryValidityOptions {
  /** Which profile: gateway and client get clientAuth, plugin/server/https serverAuth. */
  role: LeafRole;
  /**
   * The plugin's, server's or client's name (the CN, and for plugin/server the first SAN).
   * Not used by `gateway` and `https`, whose subjects are fixed.
   */
  name?: string;
  /** Extra SANs: `"DNS:api.internal"`, `"IP:127.0.0.1"`, or a bare name or address. */
  sans?: readonly (string | San)[];
  /** Default: the CA's key type. */
  keyType?: KeyType;
}

export interface MemoryCert {
  /** The certificate, PEM. */
  readonly certPem: string;
  /** Its private key, unencrypted PKCS#8 PEM. */
  readonly keyPem: string;
  /** The CA certificate that verifies it (what a peer's `ca` option takes). */
  readonly caPem: string;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface MemoryCa {
  /** The CA certificate, PEM: a peer's trust anchor. */
  readonly certPem: string;
  /** The CA's private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** Signs a new leaf with this CA. */
  issue(o: MemoryLeafOptions): Promise<MemoryCert>;
}

/**
 * A CA held in memory. Example:
 * `const ca = await createMemoryCa({ keyType: "ecdsa-p256" });`
 * `const server = await ca.issue({ role: "server", name: "localhost", sans: ["IP:127.0.0.1"] });`
 */
export async function createMemoryCa(o: MemoryCaOptions = {}): Promise<MemoryCa> {
  const keyType = o.keyType ?? DEFAULT_KEY_TYPE;
  const key = await generateKey(keyType);
  const cert = await signCertificate({
    profile: PROFILES.ca,
    subject: caSubject(o.subject),
    key,
    validity: validityFor(validityOptions(o, DEFAULT_CA_DAYS)),
  });
  const issuer: Issuer = { cert, key };
  const certPem = toPem(cert);
  return {
    certPem,
    keyPem: key.privateKeyPem,
    issue: (leaf) => issueLeaf(issuer, certPem, keyType, leaf),
  };
}

async function issueLeaf(issuer: Issuer, caPem: string, caKeyType: KeyType, o: MemoryLeafOptions): Promise<MemoryCert> {
  // Names and SANs are refused before a key is generated, as the CLI does.
  const { subject, sans } = leafNames(o);
  const profile = PROFILES[o.role];
  if (profile === undefined || profile.ca) {
    throw new MtlsError(
      "E_USAGE",
      `issue: role ${JSON.stringify(o.role)} is not a leaf role`,
      "use gateway, plugin, server, client or https",
    );
  }
  const key = await generateKey(o.keyType ?? caKeyType);
  const validity = validityFor(
    validityOptions(o, o.role === "https" ? DEFAULT_HTTPS_DAYS : DEFAULT_DAYS),
    issuer.cert.notAfter,
  );
  const cert = await signCertificate({ profile, subject, sans, key, issuer, validity });
  return {
    certPem: toPem(cert),
    keyPem: key.privateKeyPem,
    caPem,
    serial: cert.serialNumber,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}

function validityOptions(o: MemoryValidityOptions, defaultDays: number) {
  return {
    days: o.days === undefined ? defaultDays : parseDays(o.days, "days"),
    now: o.now,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
  };
}

/** The subject and SANs of each role, from the same profile helpers the tree commands use. */
function leafNames(o: MemoryLeafOptions): { subject: Subject; sans: San[] } {
  const extra = (o.sans ?? []).map(parseSan);
  switch (o.role) {
    case "gateway":
      return { subject: GATEWAY_SUBJECT, sans: uniqueSans(extra) };
    case "https":
      return { subject: HTTPS_SUBJECT, sans: uniqueSans([...HTTPS_SANS, ...extra]) };
    case "plugin": {
      const name = checkName(requireName(o), "name");
      return { subject: pluginSubject(name), sans: pluginSans(name, extra) };
    }
    case "server": {
      const name = requireName(o);
      return { subject: serverSubject(name), sans: uniqueSans([parseSan(name), ...extra]) };
    }
    case "client":
      return { subject: clientSubject(requireName(o)), sans: uniqueSans(extra) };
    default:
      throw new MtlsError(
        "E_USAGE",
        `issue: role ${JSON.stringify(o.role)} is not a leaf role`,
        "use gateway, plugin, server, client or https",
      );
  }
}

function requireName(o: MemoryLeafOptions): string {
  if (o.name === undefined || o.name === "") throw new MtlsError("E_BAD_NAME", `issue: role ${o.role} needs a name`);
  return o.name;
}

/** "DNS:x", "IP:x", or a bare name or address, checked as the CLI's --san and --ip are. */
function parseSan(value: string | San): San {
  if (typeof value !== "string")
    return value.type === "ip"
      ? ip(checkIp(value.value, "sans"))
      : value.type === "dns"
        ? dns(checkDnsName(value.value, "sans"))
        : value;
  const match = /^(DNS|IP):(.*)$/i.exec(value);
  if (match)
    return match[1]!.toUpperCase() === "IP" ? ip(checkIp(match[2]!, "sans")) : dns(checkDnsName(match[2]!, "sans"));
  return isIP(value.replace(/^\[|\]$/g, "")) !== 0 ? ip(checkIp(value, "sans")) : dns(checkDnsName(value, "sans"));
}
