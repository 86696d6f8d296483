/**
 * Property tests with generated inputs (fast-check): the config loader only ever throws the
 * tool's own error, whatever text it is given, and the name check never lets through a name
 * that could leave certs/mcp/plugins/ or that is not a DNS name a certificate can carry.
 * The safety rules are restated here independently of src/pki/names.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { basename, dirname, resolve, sep } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { parsePluginConfig } from "../src/config/plugin-config.js";
import { MtlsError } from "../src/errors.js";
import { checkDnsName, checkName } from "../src/pki/names.js";

const RUNS = { numRuns: 2_000 };
const ROOT = resolve("/srv/certs/mcp");
const PLUGINS_DIR = resolve(ROOT, "plugins");

/** A DNS name of labels (RFC 1123: letters, digits, hyphen inside; `_` as service names use). */
function isDnsName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= 63 &&
    name.split(".").every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label))
  );
}

/** The directory a name becomes: exactly one level below plugins/, and named exactly `name`. */
function staysInPlugins(name: string): boolean {
  const dir = resolve(ROOT, "plugins", name);
  return dir.startsWith(PLUGINS_DIR + sep) && dirname(dir) === PLUGINS_DIR && basename(dir) === name;
}

function accepted(name: string): boolean {
  try {
    return checkName(name, "test") === name;
  } catch (e) {
    assert.ok(e instanceof MtlsError, `checkName threw ${String(e)} for ${JSON.stringify(name)}`);
    assert.equal(e.code, "E_BAD_NAME");
    assert.equal(e.exitCode, 2);
    assert.ok(e.message.includes(JSON.stringify(name)), "the message names the value");
    return false;
  }
}

/** Characters that make names interesting: separators, dots, dashes, spaces, non-ASCII, controls. */
const NAME_CHARS = [
  "a",
  "Z",
  "7",
  "_",
  "-",
  ".",
  "..",
  "/",
  "\\",
  " ",
  "ü",
  "é",
  "\u0000",
  "\n",
  "\t",
  "*",
  ":",
  "%2e",
  "\u200b",
  "İ",
  "K",
];
const trickyName = fc.array(fc.constantFrom(...NAME_CHARS), { maxLength: 40 }).map((parts) => parts.join(""));
const anyName = fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.string({ maxLength: 80 }), trickyName);
/** Names that must be accepted: dot-separated labels of the safe alphabet, 63 chars at most. */
const label = fc.stringMatching(/^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,10}[A-Za-z0-9_])?$/);
const safeName = fc
  .array(label, { minLength: 1, maxLength: 4 })
  .map((labels) => labels.join("."))
  .filter((n) => n.length <= 63);

describe("checkName, on generated names", () => {
  it("never accepts a name that leaves plugins/, is plugins/ itself, or is not a DNS name", () => {
    fc.assert(
      fc.property(anyName, (name) => {
        if (!accepted(name)) return;
        assert.ok(staysInPlugins(name), `${JSON.stringify(name)} leaves ${PLUGINS_DIR}`);
        assert.ok(isDnsName(name), `${JSON.stringify(name)} is not a DNS name`);
        assert.ok(/^[\x21-\x7e]+$/.test(name), `${JSON.stringify(name)} is not printable ASCII`);
        // It is also a SAN the tool itself accepts, unchanged, with and without the mcp-plugin- prefix.
        assert.equal(checkDnsName(name), name);
        assert.equal(checkDnsName(`mcp-plugin-${name}`), `mcp-plugin-${name}`);
      }),
      RUNS,
    );
  });

  it("accepts every name of dot-separated safe labels up to 63 characters", () => {
    fc.assert(
      fc.property(safeName, (name) => {
        assert.ok(accepted(name), JSON.stringify(name));
        assert.ok(staysInPlugins(name));
      }),
      RUNS,
    );
  });

  it("agrees with the independent rule on every generated name", () => {
    fc.assert(
      fc.property(anyName, (name) => {
        assert.equal(accepted(name), isDnsName(name), JSON.stringify(name));
      }),
      RUNS,
    );
  });
});

/**
 * parsePluginConfig either returns only safe external plugins or throws an exit-2 MtlsError.
 * Returns how many plugins it accepted (-1: refused), so a test can see both outcomes happen.
 */
function loadsSafely(text: string): number {
  let config: ReturnType<typeof parsePluginConfig>;
  try {
    config = parsePluginConfig(text, "config.yaml");
  } catch (e) {
    assert.ok(
      e instanceof MtlsError,
      `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} on ${JSON.stringify(text)}`,
    );
    assert.equal(e.exitCode, 2, `${e.code} is bad input`);
    assert.ok(e.message.startsWith("config.yaml"), `the message names the file: ${e.message}`);
    return -1;
  }
  const seen = new Set<string>();
  for (const p of config.plugins) {
    assert.ok(staysInPlugins(p.name) && isDnsName(p.name), `accepted unsafe ${JSON.stringify(p.name)}`);
    assert.ok(!seen.has(p.name.toLowerCase()), `accepted a duplicate ${p.name}`);
    seen.add(p.name.toLowerCase());
  }
  return config.plugins.length;
}

/** YAML's own syntax, in pieces: indicators, anchors, tags, directives, quotes, flow and block. */
const YAML_TOKENS = [
  "plugins:",
  "name: ",
  "kind: ",
  "external",
  "native",
  "mcp:",
  "url: ",
  "http://h:9000/mcp",
  "https://[::1]:1/",
  "http://",
  "certificates:",
  "\n",
  "\n  ",
  "\n    ",
  "  ",
  "- ",
  "-",
  ": ",
  "? ",
  "[",
  "]",
  "{",
  "}",
  ", ",
  '"',
  "'",
  "\\",
  "&a ",
  "*a",
  "*b",
  "<<: *a",
  "!!str ",
  "!!int ",
  "!!map ",
  "!!seq ",
  "!local ",
  "#c",
  "---\n",
  "...\n",
  "%YAML 1.2\n",
  "%TAG ! tag:x,2000:\n",
  "|",
  ">-",
  "\t",
  "5",
  "1e3",
  "null",
  "~",
  "true",
  "x",
  "alpha",
  "../../x",
  "a/b",
  "ü",
  "-rf",
  ".hidden",
  "\u0000",
  "\r\n",
  "\ufeff",
];
const yamlish = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 60 }).map((t) => t.join(""));

/** Well-formed YAML of the right shape with arbitrary values: exercises the shape checks. */
const value = fc.oneof(
  fc.string({ maxLength: 20 }),
  trickyName,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
);
const entry = fc.record(
  {
    name: fc.oneof(safeName, trickyName, value),
    kind: fc.oneof(fc.constant("external"), value),
    mcp: fc.oneof(fc.record({ url: fc.oneof(value, fc.webUrl()) }), value),
  },
  { requiredKeys: [] },
);
/** An entry the loader must accept: without it, an accepted document is a rare accident of `entry`. */
const goodEntry = fc.record({
  name: safeName,
  kind: fc.constant("external"),
  mcp: fc.record({ url: fc.constantFrom("http://h:9000/mcp", "https://plugin.example:8443/mcp") }),
});
const document = fc
  .oneof(
    fc.record({ plugins: fc.oneof(fc.array(entry, { maxLength: 6 }), value) }, { requiredKeys: [] }),
    fc.record({ plugins: fc.array(fc.oneof(goodEntry, goodEntry, entry), { minLength: 1, maxLength: 4 }) }),
    fc.record({ plugins: fc.array(entry, { maxLength: 4 }), other: fc.jsonValue() }),
    fc.jsonValue(),
  )
  .map((doc) => stringify(doc));

/** A valid config with a few characters inserted or removed: near-misses of real files. */
const VALID =
  "plugins:\n  - name: alpha\n    kind: external\n    mcp:\n      url: http://alpha:9000/mcp\n  - name: beta\n    kind: native\n";
const mutated = fc
  .array(fc.tuple(fc.nat(VALID.length), fc.oneof(fc.constantFrom(...YAML_TOKENS), fc.constant(""))), {
    minLength: 1,
    maxLength: 4,
  })
  .map((edits) =>
    edits.reduce((text, [at, insert]) => text.slice(0, at) + insert + text.slice(at + (insert === "" ? 1 : 0)), VALID),
  );

describe("parsePluginConfig, on generated text", () => {
  for (const [what, arbitrary, bothOutcomes] of [
    ["arbitrary strings", fc.string({ unit: "binary", maxLength: 300 }), false],
    ["sequences of YAML syntax", yamlish, false],
    ["well-formed YAML of any shape", document, true],
    ["a valid config with small edits", mutated, true],
  ] as const) {
    it(`${what}: returns only safe plugins, or throws an MtlsError naming the file`, () => {
      let withPlugins = 0;
      let refused = 0;
      fc.assert(
        fc.property(arbitrary, (text) => {
          const n = loadsSafely(text);
          if (n > 0) withPlugins++;
          if (n < 0) refused++;
        }),
        RUNS,
      );
      // The generators reach both sides of the loader, not only its first refusal.
      if (bothOutcomes)
        assert.ok(withPlugins > 20 && refused > 20, `${withPlugins} accepted with plugins, ${refused} refused`);
    });
  }
});
