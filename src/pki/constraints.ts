/**
 * Name constraints on a CA (RFC 5280 4.2.1.10): the names a CA may sign for, so a leaked CA key
 * cannot mint a certificate for anyone else's host (mkcert #302, cfssl #713). The extension is
 * @peculiar/asn1-x509's NameConstraints, marked critical as RFC 5280 requires. The matching
 * below follows OpenSSL's (crypto/x509/v3_ncons.c), which Go's crypto/x509 agrees with:
 * `example.com` permits example.com and every name under it, `.example.com` only names under it.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  NameConstraints,
  id_ce_nameConstraints,
} from "@peculiar/asn1-x509";
import { BlockList, isIP } from "node:net";
import { MtlsError } from "../errors.js";
import { checkDnsName } from "./names.js";
import { formatSan, type San } from "./profiles.js";
import * as x509 from "./x509.js";

/** One CA's constraints. An empty DNS entry means every DNS name; `0.0.0.0/0` every IPv4. */
export interface NameConstraintSet {
  readonly permittedDns: readonly string[];
  readonly permittedIp: readonly string[];
  readonly excludedDns: readonly string[];
  readonly excludedIp: readonly string[];
}

/** What `ca --permit-dns … --permit-ip … --exclude-dns …` asks for. */
export interface NameConstraintFlags {
  permitDns?: readonly string[];
  permitIp?: readonly string[];
  excludeDns?: readonly string[];
}

const ALL_DNS = "";
const ALL_IPV4 = "0.0.0.0/0";
const ALL_IPV6 = "::/0";

/**
 * Validates the flags. A name type nothing permits is excluded whole: with `--permit-dns` alone
 * a leaked key could otherwise still sign any IP address, since a constraint binds only its own
 * name type (RFC 5280 4.2.1.10; the CA/Browser Forum's rule for constrained CAs, 7.1.5).
 * Returns undefined when no flag was given.
 */
export function nameConstraintsFromFlags(f: NameConstraintFlags): NameConstraintSet | undefined {
  const permittedDns = (f.permitDns ?? []).map((d) => checkDnsSuffix(d, "--permit-dns"));
  const permittedIp = (f.permitIp ?? []).map((c) => checkCidr(c, "--permit-ip"));
  const excludedDns = (f.excludeDns ?? []).map((d) => checkDnsSuffix(d, "--exclude-dns"));
  if (permittedDns.length + permittedIp.length + excludedDns.length === 0) return undefined;
  const permits = permittedDns.length + permittedIp.length > 0;
  return {
    permittedDns,
    permittedIp,
    excludedDns: permits && permittedDns.length === 0 ? [ALL_DNS, ...excludedDns] : excludedDns,
    excludedIp: permits && permittedIp.length === 0 ? [ALL_IPV4, ALL_IPV6] : [],
  };
}

/** `TreeOptions.caExtensions` for the flags: the nameConstraints extension, or none. */
export function caExtensionsFromFlags(f: NameConstraintFlags): x509.Extension[] | undefined {
  const set = nameConstraintsFromFlags(f);
  return set && [nameConstraintsExtension(set)];
}

/** A DNS suffix: a DNS name, optionally with a leading `.` (subdomains only, as OpenSSL reads it). */
function checkDnsSuffix(value: string, flag: string): string {
  const dot = value.startsWith(".") ? "." : "";
  if (value.includes("*"))
    throw new MtlsError(
      "E_BAD_SAN",
      `${flag}: ${JSON.stringify(value)} is not a DNS suffix`,
      "give a domain such as example.com (it and every name under it) or .example.com (only names under it)",
    );
  return dot + checkDnsName(value.slice(dot.length), flag).toLowerCase();
}

/** `10.0.0.0/8`, `fd00::/8`; a bare address is one host (/32, /128). */
function checkCidr(value: string, flag: string): string {
  const [address = "", prefixText, extra] = value.split("/");
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
    throw new MtlsError(
      "E_BAD_IP",
      `${flag}: ${JSON.stringify(value)} is not an address range`,
      "give an address with a prefix length, such as 10.0.0.0/8, 127.0.0.1/32 or fd00::/8",
    );
  }
  return `${address}/${prefix}`;
}

/** The critical nameConstraints extension for a new CA (`TreeOptions.caExtensions`). */
export function nameConstraintsExtension(set: NameConstraintSet): x509.Extension {
  const subtrees = (dns: readonly string[], ip: readonly string[]): GeneralSubtrees | undefined =>
    dns.length + ip.length === 0
      ? undefined
      : new GeneralSubtrees([
          ...dns.map((d) => new GeneralSubtree({ base: new GeneralName({ dNSName: d }) })),
          ...ip.map((c) => new GeneralSubtree({ base: new GeneralName({ iPAddress: c }) })),
        ]);
  const value = new NameConstraints({
    permittedSubtrees: subtrees(set.permittedDns, set.permittedIp),
    excludedSubtrees: subtrees(set.excludedDns, set.excludedIp),
  });
  // RFC 5280 4.2.1.10: "Conforming CAs MUST mark this extension as critical".
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

/** The constraints a CA certificate carries; undefined when it has none. */
export function readNameConstraints(cert: x509.X509Certificate): NameConstraintSet | undefined {
  const extension = cert.getExtension(id_ce_nameConstraints);
  return extension ? constraintsOf(extension) : undefined;
}

/** Reads back an extension made by `nameConstraintsExtension` (or any other CA's). */
export function constraintsOf(extension: x509.Extension): NameConstraintSet {
  const parsed = AsnConvert.parse(extension.value, NameConstraints);
  const names = (subtrees: GeneralSubtrees | undefined) => Array.from(subtrees ?? [], (s) => s.base);
  const dnsOf = (list: GeneralName[]) => list.flatMap((g) => (g.dNSName === undefined ? [] : [g.dNSName]));
  const ipOf = (list: GeneralName[]) => list.flatMap((g) => (g.iPAddress === undefined ? [] : [g.iPAddress]));
  const permitted = names(parsed.permittedSubtrees);
  const excluded = names(parsed.excludedSubtrees);
  return {
    permittedDns: dnsOf(permitted),
    permittedIp: ipOf(permitted),
    excludedDns: dnsOf(excluded),
    excludedIp: ipOf(excluded),
  };
}

/** Why a SAN falls outside the constraints, or undefined when it is inside. e-mail SANs are not constrained here. */
export function sanViolation(set: NameConstraintSet, san: San): string | undefined {
  if (san.type === "dns") {
    const excluded = set.excludedDns.find((base) => dnsMatches(san.value, base));
    if (excluded !== undefined) return `excluded by ${describeDns(excluded)}`;
    if (set.permittedDns.length > 0 && !set.permittedDns.some((base) => dnsMatches(san.value, base)))
      return `not under ${set.permittedDns.map(describeDns).join(", ")}`;
  }
  if (san.type === "ip") {
    const excluded = set.excludedIp.find((cidr) => ipMatches(san.value, cidr));
    if (excluded !== undefined) return `excluded by ${describeIp(excluded)}`;
    const sameFamily = set.permittedIp.filter((cidr) => isIP(cidr.split("/")[0]!) === isIP(san.value));
    if (set.permittedIp.length > 0 && !sameFamily.some((cidr) => ipMatches(san.value, cidr)))
      return `not in ${set.permittedIp.map(describeIp).join(", ")}`;
  }
  return undefined;
}

/** OpenSSL's nc_dns: add labels on the left; a base with a leading `.` needs at least one. */
function dnsMatches(name: string, base: string): boolean {
  if (base === ALL_DNS) return true;
  const n = name.toLowerCase();
  const b = base.toLowerCase();
  if (n.length < b.length) return false;
  if (n.length === b.length) return n === b;
  return n.endsWith(b) && (b.startsWith(".") || n[n.length - b.length - 1] === ".");
}

function ipMatches(address: string, cidr: string): boolean {
  const [network = "", prefix = ""] = cidr.split("/");
  const family = isIP(network) === 6 ? "ipv6" : "ipv4";
  if ((isIP(address) === 6 ? "ipv6" : "ipv4") !== family) return false;
  const range = new BlockList();
  range.addSubnet(network, Number(prefix), family);
  return range.check(address, family);
}

function describeDns(base: string): string {
  return base === ALL_DNS ? "every DNS name" : `DNS:${base}`;
}

function describeIp(cidr: string): string {
  return cidr === ALL_IPV4 ? "every IPv4 address" : cidr === ALL_IPV6 ? "every IPv6 address" : `IP:${cidr}`;
}

/** One line per constraint, for `check` and the README: `permitted DNS:example.com`. */
export function describeNameConstraints(set: NameConstraintSet): string[] {
  return [
    ...set.permittedDns.map((d) => `permitted ${describeDns(d)}`),
    ...set.permittedIp.map((c) => `permitted ${describeIp(c)}`),
    ...set.excludedDns.map((d) => `excluded ${describeDns(d)}`),
    ...set.excludedIp.map((c) => `excluded ${describeIp(c)}`),
  ];
}

/** A certificate about to be signed: where it goes and the SANs it carries. */
export interface PlannedCert {
  readonly files: { readonly cert: string };
  readonly sans: readonly San[];
}

/**
 * The planning step's check (issue 10), before any key is made: every SAN of every cert about
 * to be signed lies inside the constraints of the CA that signs it and of its root (a root's
 * constraints bind the whole chain), or of the CA this run creates. Constraints asked for when
 * the CA already exists are refused unless the CA has exactly those: they cannot be added later.
 */
export function assertNameConstraintsPlan(p: {
  existingCa: { readonly cert: x509.X509Certificate; readonly rootPem: string } | undefined;
  caExtensions: readonly x509.Extension[] | undefined;
  planned: readonly PlannedCert[];
  /** Names the CA in the error when its constraints differ from the ones asked for. */
  caFile: string;
}): void {
  const asked = (p.caExtensions ?? []).filter((e) => e.type === id_ce_nameConstraints).map(constraintsOf);
  let sets: NameConstraintSet[] = asked;
  if (p.existingCa) {
    const root = new x509.X509Certificate(p.existingCa.rootPem);
    const rootSet = readNameConstraints(root);
    const describe = (list: readonly NameConstraintSet[]) =>
      list.map((s) => describeNameConstraints(s).join("; ")).join(" | ") || "none";
    if (asked.length > 0 && describe(asked) !== describe(rootSet ? [rootSet] : [])) {
      throw new MtlsError(
        "E_USAGE",
        `${p.caFile}: the CA exists already, with name constraints: ${describe(rootSet ? [rootSet] : [])}; they are fixed when a CA is made (asked for ${describe(asked)})`,
        "make the constrained CA in a new tree (--out), or rotate the CA with `mtls-certs renew --ca`",
      );
    }
    const signers = p.existingCa.cert.equal(root) ? [root] : [p.existingCa.cert, root];
    sets = signers.flatMap((c) => readNameConstraints(c) ?? []);
  }
  for (const set of sets) {
    for (const cert of p.planned) {
      for (const san of cert.sans) {
        const why = sanViolation(set, san);
        if (why !== undefined) {
          throw new MtlsError(
            "E_NAME_CONSTRAINT",
            `${cert.files.cert}: SAN ${formatSan(san)} is outside the CA's name constraints (${why}); nothing was signed`,
            `issue only names the CA permits (${describeNameConstraints(set).join("; ")}), or make a new CA with wider --permit-dns/--permit-ip`,
          );
        }
      }
    }
  }
}
