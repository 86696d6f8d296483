/**
 * What a leaf of the tree owes its role beyond what a peer checks today: X.509 v3, the names its
 * role and the config ask for, and a life within its CA's. Latent defects (`refused: false`):
 * `verify` warns, `check` fails. Part of the strict-peer policy (peer-policy.ts).
 */
import { nameKey } from "./name-policy.js";
import type { PolicyFacts } from "./policy-facts.js";
import type { PolicyFixes, PolicyProblem } from "./policy-problem.js";

/** A leaf may end this much after its CA before it counts: `renew` caps to the second, the Makefile not at all. */
const BEYOND_CA_GRACE_MS = 86_400_000;

/** What a leaf of the tree must be beyond what a peer checks: v3, its role's names, within its CA's life. */
export interface LeafRoleContext {
  /** "DNS:x" / "IP:y" the leaf must carry (its role's fixed names, what the config asks for), and why. */
  readonly wantedSans: ReadonlyArray<{ readonly san: string; readonly why: string }>;
  /** Fix for a missing SAN. */
  readonly sanFix: string;
  /** The issuing CA's notAfter (ISO); undefined for a self-signed cert. */
  readonly issuerNotAfter?: string;
}

export function leafRoleProblems(f: PolicyFacts, ctx: LeafRoleContext, fixes: PolicyFixes): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (f.version < 3)
    out.push({
      code: "v1-leaf",
      message:
        "X.509 v1 certificate: no extensions, so no SANs and no extendedKeyUsage (how `x509 -req` without -extfile makes it)",
      fix: fixes.leaf,
      refused: false,
    });
  const have = new Set(f.sans.map(nameKey));
  // One problem per reason, however many names it lacks: a tree made before an mcp-stack.yaml
  // named the Service's four names would otherwise list four lines per plugin for one fix.
  const missing = new Map<string, string[]>();
  for (const { san, why } of ctx.wantedSans.filter((w) => !have.has(nameKey(w.san))))
    missing.set(why, [...(missing.get(why) ?? []), san]);
  for (const [why, sans] of missing)
    out.push({
      code: "missing-san",
      message: `missing ${sans.length === 1 ? "SAN" : "SANs"} ${sans.join(", ")} ${why}`,
      fix: ctx.sanFix,
      refused: false,
    });
  if (ctx.issuerNotAfter !== undefined && Date.parse(f.notAfter) - Date.parse(ctx.issuerNotAfter) > BEYOND_CA_GRACE_MS)
    out.push({
      code: "beyond-ca",
      message: `valid until ${f.notAfter}, after its CA's notAfter ${ctx.issuerNotAfter}: it stops verifying on the CA's date`,
      fix: `${fixes.ca} ahead of that date, then \`mtls-certs renew\``,
      refused: false,
    });
  return out;
}
