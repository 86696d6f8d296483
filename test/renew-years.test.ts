/**
 * The nightly recipe (`renew --within 30` from cron) over simulated years, with the library's
 * clock (`now`), once per simulated day (issue 15 §4): each leaf is re-keyed once per renewal
 * period and never on two nights in a row, and a CA rotation surfaces ahead of the CA's expiry.
 * EC keys: what is counted is the decisions, not RSA's prime search.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { all } from "../src/commands/all.js";
import { checkTree } from "../src/commands/check.js";
import { finishCaRotation, renewNeedsAttention, renewTree } from "../src/commands/renew/index.js";
import { tempDir, verifyStrict } from "./helpers.js";

const DAY = 86_400_000;
const YEARS = 3;
const fast = { keyType: "ecdsa-p256" as const };
/** A fixed start, so the counts do not depend on the day the suite runs. */
const T0 = Date.parse("2027-01-01T02:00:00Z");
const day = (d: number) => new Date(T0 + d * DAY);

interface Night {
  day: number;
  renewed: string[];
  exit: number;
  warnings: string[];
}

/**
 * Runs `renew --within 30` every night for `nights` days. `operator` sees each night's result
 * and may act, as a person paged by cron's exit 1 would (returns the names it re-keyed).
 */
async function nightly(
  out: string,
  nights: number,
  o: { days?: number; operator?: (night: Night) => Promise<string[]> } = {},
): Promise<{ rekeys: Map<string, number[]>; nights: Night[] }> {
  const rekeys = new Map<string, number[]>();
  const record = (d: number, names: string[]) => {
    for (const name of names) rekeys.set(name, [...(rekeys.get(name) ?? []), d]);
  };
  const log: Night[] = [];
  for (let d = 1; d <= nights; d++) {
    const report = await renewTree({ out, now: day(d), within: 30, days: o.days });
    const night: Night = {
      day: d,
      renewed: report.renewed.map((r) => r.name),
      exit: renewNeedsAttention(report) ? 1 : 0,
      warnings: report.warnings,
    };
    log.push(night);
    record(d, night.renewed);
    if (o.operator) record(d, await o.operator(night));
  }
  return { rekeys, nights: log };
}

function assertNeverConsecutive(rekeys: Map<string, number[]>): void {
  for (const [name, days] of rekeys)
    for (let i = 1; i < days.length; i++)
      assert.ok(days[i]! - days[i - 1]! > 1, `${name} re-keyed on consecutive nights: ${days.join(", ")}`);
}

describe("the nightly renew over three simulated years", () => {
  it("defaults (CA 3650 days, leaves 825): each leaf re-keyed once, on day 795, and every night exits 0", async () => {
    const out = join(tempDir(), "certs/mcp");
    await all({ ...fast, out, config: join(out, "none.yaml"), now: day(0) });
    const { rekeys, nights } = await nightly(out, 365 * YEARS);
    assert.deepEqual([...rekeys.keys()].sort(), ["example-plugin-a", "example-plugin-b", "gateway"]);
    // 825 days, renewed when 30 are left: day 795 (the first run at or under 30 days left); the next is day 1590.
    for (const [name, days] of rekeys) assert.deepEqual(days, [795], name);
    assert.deepEqual(
      nights.filter((n) => n.exit !== 0).map((n) => n.day),
      [],
      "the CA (10 years) never gets in the way in 3 years",
    );
    assertNeverConsecutive(rekeys);
  });

  it("90-day leaves: one re-key every 60 days, 18 per leaf in three years, never two nights in a row", async () => {
    const out = join(tempDir(), "certs/mcp");
    await all({ ...fast, out, config: join(out, "none.yaml"), now: day(0), days: 90 });
    const { rekeys, nights } = await nightly(out, 365 * YEARS, { days: 90 });
    for (const [name, days] of rekeys) {
      assert.equal(days.length, Math.floor((365 * YEARS) / 60), `${name}: ${days.join(", ")}`);
      for (let i = 1; i < days.length; i++) assert.equal(days[i]! - days[i - 1]!, 60, name);
    }
    assertNeverConsecutive(rekeys);
    assert.equal(nights.filter((n) => n.exit !== 0).length, 0);
  });

  it("an 825-day CA (the Makefile's): the rotation surfaces 90 days ahead; no leaf is churned while the CA caps it; one `renew --ca` re-keys each once", async () => {
    const out = join(tempDir(), "certs/mcp");
    await all({ ...fast, out, config: join(out, "none.yaml"), now: day(0), caDays: 825 });
    const caExpiry = Date.parse(new X509Certificate(readFileSync(join(out, "ca/ca.crt"))).validTo);
    let rotatedOn: number | undefined;
    let finishedOn: number | undefined;
    const { rekeys, nights } = await nightly(out, 365 * YEARS, {
      // This operator ignores the early CA alert and acts only on renew's "the CA expires first"
      // (the latest it can): then `renew --ca` as it says, deploy, and finish a week later.
      operator: async (night) => {
        if (rotatedOn === undefined && night.warnings.some((w) => w.startsWith("the CA expires first"))) {
          rotatedOn = night.day;
          const r = await renewTree({ out, now: day(night.day), ca: true });
          return r.renewed.map((c) => c.name);
        }
        if (rotatedOn !== undefined && finishedOn === undefined && night.day === rotatedOn + 7) {
          finishedOn = night.day;
          await finishCaRotation({ out, now: day(night.day) });
        }
        return [];
      },
    });
    // The CA alert: every nightly run exits 1 from 90 days before the CA's expiry (--within 30 + 60).
    const firstAlert = nights.find((n) => n.exit === 1);
    assert.ok(firstAlert, "the CA's expiry never surfaced");
    assert.equal(Math.round((caExpiry - day(firstAlert.day).getTime()) / DAY), 90);
    assert.match(firstAlert.warnings.join("\n"), /the CA expires on .*rotate it with `mtls-certs renew --ca`/);
    // The leaves come due on day 795 (30 days left, capped at the CA's notAfter): renew re-keys nothing.
    assert.equal(rotatedOn, 795);
    const capped = nights.find((n) => n.day === 795)!;
    assert.deepEqual(capped.renewed, [], "no re-key that buys no time");
    assert.equal(capped.exit, 1);
    assert.equal(
      capped.warnings.filter((w) => w.startsWith("the CA expires first: `mtls-certs renew --ca`")).length,
      1,
    );
    assert.ok(day(795).getTime() < caExpiry);
    // Each leaf: re-keyed once, by the rotation; the new CA is 10 years, so no other re-key in 3 years.
    for (const [name, days] of rekeys) assert.deepEqual(days, [795], name);
    assertNeverConsecutive(rekeys);
    assert.equal(finishedOn, 802);
    // Until the finish, cron keeps saying the rotation is open; then quiet for good.
    assert.deepEqual(
      nights.filter((n) => n.day > 795 && n.exit !== 0).map((n) => n.day),
      [796, 797, 798, 799, 800, 801, 802],
    );
    const end = await checkTree({ out, now: day(365 * YEARS), within: 30 });
    assert.deepEqual(
      end.certificates.filter((c) => c.status !== "ok").map((c) => c.name),
      [],
    );
    assert.equal(
      verifyStrict(join(out, "ca/ca.crt"), join(out, "gateway/client.crt"), [
        "-attime",
        String(Math.floor(T0 / 1000) + 365 * YEARS * 86400),
      ]).code,
      0,
    );
  });

  it("without the operator, the capped nights write nothing: no key, no backup", async () => {
    const out = join(tempDir(), "certs/mcp");
    await all({ ...fast, out, config: join(out, "none.yaml"), now: day(0), caDays: 825 });
    const key = readFileSync(join(out, "plugins/example-plugin-a/server.key"), "utf8");
    for (let d = 795; d < 825; d++) {
      const r = await renewTree({ out, now: day(d), within: 30 });
      assert.deepEqual(r.renewed, []);
      assert.equal(r.backup, null);
      assert.ok(renewNeedsAttention(r));
    }
    assert.equal(readFileSync(join(out, "plugins/example-plugin-a/server.key"), "utf8"), key);
  });
});
