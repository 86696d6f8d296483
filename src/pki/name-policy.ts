/**
 * The name policy: which subject alternative names the CA signs for a leaf, whatever asked for
 * them (a plugin config's `mcp.url` host, a gRPC `grpc.target` host, `--san`/`--ip`, a CSR's own
 * SANs, mcp-stack.yaml's namespace names). A name is an identity: a peer that checks host names
 * trusts whoever holds a cert naming the host it dials. So the names come from whoever may claim
 * them, and one name belongs to one leaf (issue 23 §4). Pure: names in, refusals out, with stable
 * codes; the commands decide what a refusal fails (that leaf alone, exit 2).
 *
 * The rules:
 * - `wildcard-not-asked`: a wildcard (`*.x`) only when the user typed it on the command line; a
 *   URL, a gRPC target, a CSR or a deploy file that asks for one covers every host under it.
 * - `held-by-other-leaf`: a name another leaf of the tree holds (the ledger's recorded SANs of its
 *   valid cert, or a name another leaf of the same run claims), compared as DNS compares names
 *   (case-insensitively). The names every cert of a role carries whatever its name (`localhost`,
 *   127.0.0.1) are shared by design and exempt.
 * - `unspecified-address`: 0.0.0.0 and :: are "any address", never a host a peer dials.
 * - `too-many-sans`: at most 100 SANs on one cert.
 * - `email-not-asked`: an e-mail SAN only on a client, and only the address the user named
 *   (`--cn`); a CSR's e-mail SAN is someone's identity, not the requester's to choose.
 * Names the ledger recorded for this very leaf (`renew` keeps them) were judged when first signed:
 * only the count applies to them.
 */
import { MtlsError } from "../errors.js";
import { canonicalIp } from "./node-facts.js";
import { checkDnsName, checkIp } from "./names.js";
import { dns, formatSan, ip, type Role, type San } from "./profiles.js";

/** At most this many SANs on one certificate. */
export const MAX_SANS = 100;

/**
 * Where a name came from. `default`: the role's own names, made from the leaf's name
 * (`mcp-plugin-<name>`); `flag`: the command line (`--san`, `--ip`); `cn`: the client's `--cn`
 * e-mail address; `url`: a plugin config's `mcp.url` host; `grpc-target`: a gRPC plugin's
 * `grpc.target` host; `stack`: mcp-stack.yaml (its namespace names); `csr`: a CSR's own SANs
 * (`sign --csr-sans`); `ledger`: what the tree recorded for this leaf before (`renew`).
 */
export type NameSource = "default" | "flag" | "cn" | "url" | "grpc-target" | "stack" | "csr" | "ledger";

/** A SAN with where it came from; a plain San counts as `default`. */
export interface RequestedName extends San {
  readonly source: NameSource;
  /** For messages: `plugins/external/config.yaml:12:5: plugins[2].mcp.url`, `--san`. */
  readonly where?: string;
}

export function requested(san: San, source: NameSource, where?: string): RequestedName {
  return { type: san.type, value: san.value, source, ...(where === undefined ? {} : { where }) };
}

/** A name some leaf of the tree holds: from the ledger (`DNS:x` as it records them) or this run. */
export interface HeldName {
  readonly san: string;
  readonly role: Role;
  readonly name: string;
}

/** One leaf's names to judge. */
export interface LeafNames {
  readonly role: Role;
  readonly name: string;
  /** Every SAN the cert would carry; a plain San is one of the role's own names. */
  readonly sans: readonly (San | RequestedName)[];
}

export type NameRefusalCode =
  | "wildcard-not-asked"
  | "held-by-other-leaf"
  | "unspecified-address"
  | "too-many-sans"
  | "email-not-asked";

export interface NameRefusal {
  readonly code: NameRefusalCode;
  /** `DNS:*.svc.cluster.local`; empty for `too-many-sans`. */
  readonly san: string;
  readonly source: NameSource;
  /** One line: the leaf, the name, where it came from and why not. */
  readonly message: string;
  readonly fix: string;
}

/** The names every cert of a role carries whatever its name: shared by design, never "held". */
const SHARED_NAMES: ReadonlySet<string> = new Set(["dns:localhost", "IP:127.0.0.1", "IP:::1"]);

/** How two names compare: DNS and e-mail case-insensitively, IPs in their shortest form. */
export function nameKey(san: string): string {
  if (san.startsWith("IP:")) return `IP:${canonicalIp(san.slice(3))}`;
  return san.startsWith("DNS:") || san.startsWith("email:") ? san.toLowerCase().replace(/\.$/, "") : san;
}

function sourceOf(s: San | RequestedName): NameSource {
  return "source" in s ? s.source : "default";
}

/** Why one leaf may not have its names; empty when it may. `held`: names of other leaves. */
export function judgeLeafNames(leaf: LeafNames, held: readonly HeldName[]): NameRefusal[] {
  const out: NameRefusal[] = [];
  const who = `${leaf.role} ${leaf.name}`;
  const owners = new Map<string, HeldName>();
  for (const h of held)
    if ((h.role !== leaf.role || h.name !== leaf.name) && !SHARED_NAMES.has(nameKey(h.san)))
      owners.set(nameKey(h.san), h);
  const from = (s: San | RequestedName) => {
    const where = "where" in s && s.where ? s.where : undefined;
    return where ?? DESCRIBED[sourceOf(s)];
  };
  const refuse = (code: NameRefusalCode, s: San | RequestedName, why: string, fix: string) =>
    out.push({
      code,
      san: formatSan(s),
      source: sourceOf(s),
      message: `${who}: ${formatSan(s)} (from ${from(s)}) ${why}`,
      fix,
    });
  for (const s of leaf.sans) {
    const source = sourceOf(s);
    // What the tree signed for this leaf before was judged then: renew keeps it as it was.
    if (source === "ledger") continue;
    const text = formatSan(s);
    if (s.type === "dns" && s.value.startsWith("*") && source !== "flag")
      refuse(
        "wildcard-not-asked",
        s,
        "is a wildcard: it would name every host under it, and only the command line may ask for one",
        `if it is meant, pass it yourself: \`--san '${s.value}'\``,
      );
    if (s.type === "ip" && (canonicalIp(s.value) === "0.0.0.0" || canonicalIp(s.value) === "::"))
      refuse(
        "unspecified-address",
        s,
        "is the unspecified address (any address), never a host a peer dials",
        "name the address peers connect to",
      );
    if (s.type === "email" && (leaf.role !== "client" || source !== "cn"))
      refuse(
        "email-not-asked",
        s,
        leaf.role === "client"
          ? "is an e-mail identity the user did not name"
          : `is an e-mail identity, which a ${leaf.role} certificate never carries`,
        leaf.role === "client" ? `give it as the client's name: \`--cn ${s.value}\`` : "drop it",
      );
    const owner = owners.get(nameKey(text));
    if (owner)
      refuse(
        "held-by-other-leaf",
        s,
        `is ${owner.role} ${owner.name}'s name (compared case-insensitively): one name, one leaf`,
        `use a name of its own; if ${owner.role} ${owner.name} no longer needs it, remove that leaf first (\`mtls-certs revoke\`)`,
      );
  }
  if (leaf.sans.length > MAX_SANS)
    out.push({
      code: "too-many-sans",
      san: "",
      source: "default",
      message: `${who}: ${leaf.sans.length} SANs asked for; a certificate carries at most ${MAX_SANS}`,
      fix: "split the names over several leaves",
    });
  return out;
}

const DESCRIBED: Readonly<Record<NameSource, string>> = {
  default: "the role's own names",
  flag: "the command line",
  cn: "--cn",
  url: "mcp.url",
  "grpc-target": "grpc.target",
  stack: "mcp-stack.yaml",
  csr: "the CSR",
  ledger: "the ledger's record",
};

/**
 * Judges the leaves of one run together: each against the names other leaves hold (`held`, from
 * the ledger) and the names the run's other leaves claim. A name two leaves of the run claim goes
 * to the one whose own name it is (a `default` name); otherwise neither gets it. Refusals by
 * leaf, in the order given.
 */
export function judgeNames(leaves: readonly LeafNames[], held: readonly HeldName[]): NameRefusal[][] {
  const claims: HeldName[] = [];
  for (const leaf of leaves)
    for (const s of leaf.sans)
      if (sourceOf(s) !== "ledger") claims.push({ san: formatSan(s), role: leaf.role, name: leaf.name });
  return leaves.map((leaf) => {
    const ownKeys = new Set(leaf.sans.filter((s) => sourceOf(s) === "default").map((s) => nameKey(formatSan(s))));
    // Another leaf's claim counts against this one unless the name is this leaf's own.
    const others = claims.filter((c) => (c.role !== leaf.role || c.name !== leaf.name) && !ownKeys.has(nameKey(c.san)));
    return judgeLeafNames(leaf, [...held, ...others]);
  });
}

/** The refusals of one leaf as the error that fails it (exit 2): every name, then the fixes. */
export function nameRefusalError(refusals: readonly NameRefusal[]): MtlsError {
  return new MtlsError(
    "E_NAME_REFUSED",
    refusals.map((r) => r.message).join("; "),
    [...new Set(refusals.map((r) => r.fix))].join("; "),
  );
}

export interface ExtraSanOptions {
  /** Extra DNS SANs (`--san`); one leading `*.` label allowed. */
  san?: readonly string[];
  /** Extra IP SANs (`--ip`), IPv4 or IPv6. */
  ip?: readonly string[];
}

/** `--san` and `--ip` values as SANs from the command line, each checked, the flag and value named when refused. */
export function extraSans(o: ExtraSanOptions): RequestedName[] {
  return [
    ...(o.san ?? []).map((v) => requested(dns(checkDnsName(v, "--san")), "flag", "--san")),
    ...(o.ip ?? []).map((v) => requested(ip(checkIp(v, "--ip")), "flag", "--ip")),
  ];
}

/** RFC 5280's upper bound for a CN (ub-common-name). */
const MAX_CN_LENGTH = 64;

/** A CN that names a person or a service; refuses control characters and what X.509 cannot hold. */
export function checkCommonName(cn: string, where = "--cn"): string {
  if (cn.length === 0 || cn.length > MAX_CN_LENGTH || /[\u0000-\u001f\u007f]/.test(cn) || cn.trim() !== cn) {
    throw new MtlsError(
      "E_BAD_NAME",
      `${where}: ${JSON.stringify(cn)} is not a usable common name`,
      `use 1-${MAX_CN_LENGTH} printable characters without leading or trailing spaces`,
    );
  }
  return cn;
}

/** `admin@example.com` → an rfc822Name SAN; anything with an `@` must be a plain address. */
export function emailSan(cn: string, where = "--cn"): San | undefined {
  if (!cn.includes("@")) return undefined;
  const at = cn.lastIndexOf("@");
  const local = cn.slice(0, at);
  const domain = cn.slice(at + 1);
  if (
    !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(local) ||
    local.startsWith(".") ||
    local.endsWith(".") ||
    local.includes("..")
  ) {
    throw new MtlsError(
      "E_BAD_NAME",
      `${where}: ${JSON.stringify(cn)} is not an e-mail address`,
      "a CN with an @ becomes an rfc822Name SAN, so it must be local-part@domain",
    );
  }
  checkDnsName(domain, where);
  return { type: "email", value: cn };
}
