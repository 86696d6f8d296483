/**
 * Bad input is refused before anything is written (issue 3): config files with syntax errors
 * (file:line:column) or the wrong shape, unsafe names from the command line and from the config,
 * and bad day counts from --days and MCP_CERT_DAYS. Each is exit 2 and leaves no file behind.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { BIN, ROOT, cli, pluginConfig, tempDir, writeFile, type Run } from "./helpers.js";

// dist/, as the bin runs it (cli.js reads ../package.json for --version).
const { run } = (await import(pathToFileURL(join(ROOT, "dist", "cli.js")).href)) as typeof import("../src/cli.js");

const KEY_TYPE = ["--key-type", "ecdsa-p256"];

/**
 * The command line in this process (commander parses it exactly as the binary does; ~1 ms
 * instead of a Node start-up), or with `spawned` the real binary. Paths are given absolute.
 */
async function mtlsCerts(args: string[], cwd: string, env: NodeJS.ProcessEnv, spawned: boolean): Promise<Run> {
  if (spawned) return cli(args, cwd, env);
  let stdout = "";
  let stderr = "";
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await run(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), env });
  return { code, signal: null, stdout, stderr };
}

/**
 * Runs a command in a fresh project holding only `files` (`--out` and `--config` point into it);
 * asserts exit 2, nothing on stdout, and that no file or directory was made.
 */
async function refused(
  args: string[],
  files: Record<string, string> = {},
  env: NodeJS.ProcessEnv = {},
  spawned = false,
): Promise<Run> {
  const cwd = tempDir("mtls-input-");
  for (const [path, text] of Object.entries(files)) writeFile(join(cwd, path), text);
  const before = readdirSync(cwd, { recursive: true }).sort();
  const where = ["--out", join(cwd, "certs/mcp")];
  if (args[0] !== "server" && args[0] !== "client") where.push("--config", join(cwd, "plugins/external/config.yaml"));
  const dashDash = args.indexOf("--");
  const full = dashDash < 0 ? [...args, ...where] : [...args.slice(0, dashDash), ...where, ...args.slice(dashDash)];
  const r = await mtlsCerts(full, cwd, env, spawned);
  assert.equal(r.code, 2, `exit 2 for ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  assert.ok(!existsSync(join(cwd, "certs")), "no certs/ directory made");
  assert.deepEqual(readdirSync(cwd, { recursive: true }).sort(), before, "no file written");
  assert.equal(r.stdout, "", "nothing on stdout");
  return r;
}

describe("plugin config errors: exit 2 with file:line:column, nothing written", () => {
  const file = "plugins/external/config.yaml";
  const cases: Array<{ what: string; text: string; at: string; says: RegExp }> = [
    {
      what: "an unclosed quote",
      text: 'plugins:\n  - name: "a\n    kind: external\n',
      at: `${file}:4:1`,
      says: /YAML syntax error: Missing closing "quote/,
    },
    {
      what: "a bad indent",
      text: "plugins:\n  - name: a\n   kind: external\n",
      at: `${file}:3:1`,
      says: /YAML syntax error/,
    },
    {
      what: "a tab as indentation",
      text: "plugins:\n\t- name: a\n",
      at: `${file}:2:1`,
      says: /YAML syntax error: Tabs are not allowed/,
    },
    {
      what: "a key given twice in one entry",
      text: "plugins:\n  - name: a\n    name: b\n",
      at: `${file}:3:5`,
      says: /Map keys must be unique/,
    },
    {
      what: "an unclosed flow map",
      text: "plugins: [\n  {name: a, kind: external\n",
      at: `${file}:3:1`,
      says: /YAML syntax error/,
    },
    { what: "no plugins key", text: "other: 1\n", at: `${file}:1:1`, says: /no top-level `plugins:` key/ },
    {
      what: "plugins is a mapping, not a list",
      text: "plugins:\n  name: a\n",
      at: `${file}:2:3`,
      says: /`plugins` must be a list/,
    },
    { what: "plugins is empty (null)", text: "plugins:\n", at: `${file}:1:9`, says: /`plugins` must be a list/ },
    { what: "a scalar document", text: "just text\n", at: `${file}:1:1`, says: /expected a plugin config/ },
    {
      what: "an entry without a name",
      text: "plugins:\n  - kind: external\n",
      at: `${file}:2:5`,
      says: /plugins\[0\]\.name must be a string/,
    },
    {
      what: "a name that is a number",
      text: "plugins:\n  - name: 5\n    kind: external\n",
      at: `${file}:2:11`,
      says: /plugins\[0\]\.name must be a string/,
    },
    {
      what: "an entry that is a string",
      text: "plugins:\n  - a\n",
      at: `${file}:2:5`,
      says: /plugins\[0\] must be a mapping/,
    },
    {
      what: "kind that is a number",
      text: "plugins:\n  - name: a\n    kind: 5\n",
      at: `${file}:3:11`,
      says: /plugins\[0\]\.kind must be a string/,
    },
    {
      what: "kind that is a list",
      text: "plugins:\n  - name: a\n    kind: [external]\n",
      at: `${file}:3:11`,
      says: /plugins\[0\]\.kind must be a string/,
    },
    {
      what: "a duplicate name (case-insensitively: one directory on macOS)",
      text: "plugins:\n  - name: a\n    kind: external\n  - name: A\n    kind: external\n",
      at: `${file}:4:11`,
      says: /plugins\[1\]\.name "A" repeats the plugin at .*config\.yaml:2:11/,
    },
  ];
  cases.forEach((c, i) => {
    it(`${c.what}: \`all\` and \`plugin\` name ${c.at.slice(file.length)}`, async () => {
      for (const args of [["all"], ["plugin", "x"]]) {
        // The first two through the real binary too: the same message reaches a user's terminal.
        const r = await refused([...args, ...KEY_TYPE], { [file]: c.text }, {}, args[0] === "all" && i < 2);
        assert.ok(r.stderr.includes(`${c.at}: `), `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, c.says);
      }
    });
  });

  it("unknown top-level keys are tolerated", () => {
    const cwd = tempDir("mtls-input-");
    writeFile(
      join(cwd, file),
      "plugin_settings:\n  parallel: true\n" + pluginConfig([{ name: "alpha" }]) + "plugin_dirs: []\n",
    );
    const r = cli(["all", ...KEY_TYPE, "--json"], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(cwd, "certs/mcp/plugins/alpha/server.crt")));
  });

  it("a config that cannot be read (a directory) is exit 2 naming it", () => {
    const cwd = tempDir("mtls-input-");
    writeFile(join(cwd, "cfg/x"), "");
    const r = cli(["all", ...KEY_TYPE, "--config", "cfg"], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cfg: cannot read: not a regular file \(a directory\)/);
    assert.ok(!existsSync(join(cwd, "certs")));
  });
});

describe("a config the user named that does not exist: exit 2 naming it (issue 28 §4)", () => {
  const cases: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    ["all --config", ["all", ...KEY_TYPE, "--config", "nosuch.yaml"], {}, /named by --config/],
    [
      "all with MCP_PLUGIN_CONFIG",
      ["all", ...KEY_TYPE],
      { MCP_PLUGIN_CONFIG: "nosuch.yaml" },
      /named by MCP_PLUGIN_CONFIG/,
    ],
    ["plugin --config", ["plugin", "p1", ...KEY_TYPE, "--config", "nosuch.yaml"], {}, /named by --config/],
  ];
  for (const [what, args, env, by] of cases)
    it(`${what}: exit 2, the file named, no example plugins made`, () => {
      const cwd = tempDir("mtls-input-");
      const r = cli(args, cwd, env);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /^mtls-certs: nosuch\.yaml: no such file \(the plugin config named by .*\)$/m);
      assert.match(r.stderr, by);
      assert.ok(!existsSync(join(cwd, "certs")), "nothing written");
    });

  it("check --config nosuch.yaml on a tree: exit 2 instead of dropping the SAN checks", () => {
    const cwd = tempDir("mtls-input-");
    assert.equal(cli(["gateway", ...KEY_TYPE, "-q"], cwd).code, 0);
    const r = cli(["check", "--config", "nosuch.yaml"], cwd);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /nosuch\.yaml: no such file \(the plugin config named by --config\)/);
  });

  it("the default path may be missing, given or not (the Makefile fragment passes it): the example plugins", () => {
    const cwd = tempDir("mtls-input-");
    const r = cli(["all", ...KEY_TYPE, "--config", "plugins/external/config.yaml"], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /plugins\/external\/config\.yaml not found: making the example plugins/);
    assert.ok(existsSync(join(cwd, "certs/mcp/plugins/example-plugin-a/server.crt")));
    assert.equal(cli(["check", "--config", "./plugins/external/config.yaml"], cwd).code, 0);
  });
});

describe("unsafe names: exit 2 naming the value, nothing written", () => {
  // The issue's list, then more that would leave the directory or make a bad DNS label.
  const issueNames = ["../../x", "a/b", "My Plugin", "", "-rf", "x".repeat(64), "plügin", ".hidden"];
  const moreNames = ["a\\b", "..", ".", "a..b", "a-", "a.", "a.-b", "a\nb"];
  for (const name of [...issueNames, ...moreNames]) {
    const shown = JSON.stringify(name);
    const commands = issueNames.includes(name) ? ["plugin", "server", "client"] : ["plugin"];
    it(`${shown.length > 30 ? `${shown.slice(0, 12)}…(${name.length} chars)` : shown} as an argument of ${commands.join(", ")}, and as a config name`, async () => {
      for (const command of commands) {
        // `--` so that "-rf" reaches the name check instead of being read as flags. The issue's
        // names also through the real binary, as a shell passes them.
        const r = await refused(
          [command, ...KEY_TYPE, "--", name],
          {},
          {},
          command === "plugin" && issueNames.includes(name),
        );
        assert.ok(r.stderr.includes(`${shown} is not a safe name`), `${command}: ${r.stderr}`);
      }
      const r = await refused(["all", ...KEY_TYPE], {
        "plugins/external/config.yaml": `plugins:\n  - name: ${shown}\n    kind: external\n`,
      });
      assert.ok(r.stderr.includes(`config.yaml:2:11: plugins[0].name: ${shown} is not a safe name`), r.stderr);
    });
  }

  it("-rf without `--` is refused as an unknown option", async () => {
    const r = await refused(["plugin", "-rf"], {}, {}, true);
    assert.match(r.stderr, /unknown option '-rf'/);
  });

  it("a 63-character name and names with dots, dashes and underscores are accepted", () => {
    const cwd = tempDir("mtls-input-");
    for (const name of ["x".repeat(63), "a.b-c_d", "_private", "9lives"]) {
      const r = cli(["plugin", name, ...KEY_TYPE, "-q"], cwd);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.ok(existsSync(join(cwd, "certs/mcp/plugins", name, "server.crt")), name);
    }
  });
});

describe("day counts: exit 2 from --days and MCP_CERT_DAYS, nothing written", () => {
  for (const value of ["0", "-1", "abc", "1.5", "1e3", "36501", " ", "0x10", "12abc"]) {
    it(`${JSON.stringify(value)}`, async () => {
      const flag = await refused(["all", ...KEY_TYPE, `--days=${value}`]);
      assert.ok(
        flag.stderr.includes(`--days: ${JSON.stringify(value)} is not a whole number of days from 1 to 36500`),
        flag.stderr,
      );
      const env = await refused(["all", ...KEY_TYPE], {}, { MCP_CERT_DAYS: value });
      assert.ok(
        env.stderr.includes(`MCP_CERT_DAYS: ${JSON.stringify(value)} is not a whole number of days`),
        env.stderr,
      );
    });
  }

  it("through the real binary: --days -1 (as a separate argument) and MCP_CERT_DAYS=1e3", async () => {
    await refused(["all", ...KEY_TYPE, "--days", "-1"], {}, {}, true);
    const r = await refused(["plugin", "x", ...KEY_TYPE], {}, { MCP_CERT_DAYS: "1e3" }, true);
    assert.match(r.stderr, /MCP_CERT_DAYS: "1e3" is not a whole number of days/);
  });

  it("1 and 36500 are accepted", () => {
    const cwd = tempDir("mtls-input-");
    for (const days of ["1", "36500"]) {
      const r = cli(["plugin", `p${days}`, ...KEY_TYPE, "--days", days, "-q"], cwd);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});

describe("a file that is not a certificate: exit 2 naming it and why, never an internal error (issue 13 §6)", () => {
  const base = tempDir("mtls-notcert-");
  const tree = join(base, "tree");
  for (const args of [
    ["plugin", "p1"],
    ["plugin", "p2"],
  ]) {
    const r = cli([...args, ...KEY_TYPE, "--out", tree], base);
    assert.equal(r.code, 0, r.stderr);
  }
  const goodCert = readFileSync(join(tree, "plugins/p1/server.crt"), "utf8");
  const der = Buffer.from(goodCert.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""), "base64");
  /** What each bad file holds, and how to put it in place (a directory and a FIFO are not files). */
  const variants: Record<string, (path: string) => void> = {
    "random bytes": (p) => writeFileSync(p, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 167 + 13) % 256))),
    "a PEM block with a broken base64 body": (p) =>
      writeFileSync(p, "-----BEGIN CERTIFICATE-----\nMIIB!!!!notbase64@@@\n-----END CERTIFICATE-----\n"),
    "a PEM block whose DER is not a certificate": (p) =>
      writeFileSync(p, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    "an empty file": (p) => writeFileSync(p, ""),
    "a private key": (p) => writeFileSync(p, readFileSync(join(tree, "plugins/p2/server.key"))),
    "DER (a certificate, but not the PEM the tree holds)": (p) => writeFileSync(p, der),
    "a directory": (p) => mkdirSync(p),
    "a FIFO": (p) => assert.equal(spawnSync("mkfifo", [p]).status, 0),
  };
  const ISSUE = /internal error|\n\s+at .*:\d+:\d+/;

  /** A fresh copy of the tree with `rel` replaced by `variant`; the command's exit and output. */
  async function withBad(rel: string, variant: string, args: (t: string, bad: string) => string[]) {
    const dir = tempDir("mtls-notcert-case-");
    const t = join(dir, "tree");
    cpSync(tree, t, { recursive: true });
    const bad = join(t, rel);
    rmSync(bad, { force: true });
    variants[variant]!(bad);
    const r = await mtlsCerts(args(t, bad), dir, { P12_PASS: "pw" }, false);
    return { r, bad, all: r.stdout + r.stderr };
  }

  const named: Array<[string, (t: string, bad: string) => string[]]> = [
    ["inspect FILE", (_t, bad) => ["inspect", bad]],
    ["verify FILE", (t, bad) => ["verify", bad, "--ca", join(t, "ca/ca.crt")]],
    ["fingerprint FILE", (t, bad) => ["fingerprint", bad, "--out", t]],
    ["revoke FILE", (t, bad) => ["revoke", bad, "--out", t]],
  ];
  const inTree: Array<[string, string, (t: string) => string[]]> = [
    ["verify NAME", "plugins/p1/server.crt", (t) => ["verify", "p1", "--out", t]],
    ["fingerprint NAME", "plugins/p1/server.crt", (t) => ["fingerprint", "p1", "--out", t]],
    ["revoke NAME", "plugins/p1/server.crt", (t) => ["revoke", "p1", "--out", t]],
    [
      "export p12 NAME",
      "plugins/p1/server.crt",
      (t) => ["export", "p12", "p1", "--p12-password-env", "P12_PASS", "-o", join(t, "..", "p1.p12"), "--out", t],
    ],
    ["export env", "plugins/p1/server.crt", (t) => ["export", "env", "--plugin", "p1", "--out", t]],
    ["plugin (reissue)", "plugins/p1/server.crt", (t) => ["plugin", "p1", ...KEY_TYPE, "--out", t]],
    [
      "export p12 with a bad ca/ca.crt",
      "ca/ca.crt",
      (t) => ["export", "p12", "p1", "--p12-password-env", "P12_PASS", "-o", join(t, "..", "p1.p12"), "--out", t],
    ],
    ["plugin with a bad ca/ca.crt", "ca/ca.crt", (t) => ["plugin", "p3", ...KEY_TYPE, "--out", t]],
    ["revoke with a bad ca/ca.crt", "ca/ca.crt", (t) => ["revoke", "p1", "--out", t]],
  ];

  for (const variant of Object.keys(variants)) {
    it(`${variant}`, async () => {
      // DER is a certificate to inspect and verify; only the tree's own files must be PEM.
      for (const [what, args] of variant.startsWith("DER") ? [] : named) {
        // A directory or FIFO named on the command line is not a file: fingerprint and revoke
        // then look it up as a name, which is refused too.
        const { r, bad, all } = await withBad("bad.crt", variant, args);
        assert.doesNotMatch(all, ISSUE, `${what}: ${all}`);
        if (what === "inspect FILE" && variant === "a private key") {
          assert.equal(r.code, 0, all); // inspect describes keys
          continue;
        }
        assert.equal(r.code, 2, `${what}: exit 2: ${all}`);
        assert.ok(
          r.stderr.includes(bad) || r.stderr.includes(JSON.stringify(bad)),
          `${what} names ${bad}: ${r.stderr}`,
        );
      }
      for (const [what, rel, args] of inTree) {
        const { r, bad, all } = await withBad(rel, variant, args);
        assert.doesNotMatch(all, ISSUE, `${what}: ${all}`);
        assert.equal(r.code, 2, `${what}: exit 2: ${all}`);
        assert.ok(r.stderr.includes(bad), `${what} names ${bad}: ${r.stderr}`);
        assert.match(
          r.stderr,
          /not a PEM certificate \((the file is empty|no PEM block|it holds a PRIVATE KEY block|its CERTIFICATE block is damaged: )[^)]*\)|not a regular file \((a directory|a FIFO)\)/,
          `${what}: says what the file is`,
        );
      }
      // adopt on a tree without a ledger names it as left out (exit 1) instead of skipping it.
      const adopt = await withBad("plugins/p1/server.crt", variant, (t) => {
        rmSync(join(t, "ca/ledger.json"));
        return ["adopt", "--out", t];
      });
      assert.doesNotMatch(adopt.all, ISSUE, adopt.all);
      assert.equal(adopt.r.code, 1, `adopt: exit 1: ${adopt.all}`);
      assert.match(
        adopt.r.stdout,
        /not adopted plugins\/p1\/server\.crt: (not a PEM certificate|cannot read).*left out/,
      );
      assert.match(adopt.r.stdout, /adopted plugins\/p2\/server\.crt/);
      // check reports it as a problem of that leaf (exit 1); renew leaves it and says why.
      for (const command of ["check", "renew"]) {
        const { r, all } = await withBad("plugins/p1/server.crt", variant, (t) => [command, "--out", t]);
        assert.doesNotMatch(all, ISSUE, `${command}: ${all}`);
        // renew exits 2 when what sits there was planted (a FIFO, a directory): renew/report.ts.
        if (command === "renew" && /a (directory|FIFO)/.test(variant)) assert.equal(r.code, 2, all);
        else assert.equal(r.code, 1, `${command}: exit 1: ${all}`);
        assert.match(all, /\bp1\b.*invalid/, `${command} marks p1 invalid`);
      }
    });
  }

  it("a file this user cannot read (mode 000): exit 2, permission denied, the file named", (t) => {
    // root reads a mode-000 file (CAP_DAC_OVERRIDE): drop that capability for the run, or skip.
    const asRoot = process.getuid?.() === 0;
    const capsh = spawnSync("capsh", ["--help"]).status === 0;
    if (asRoot && !capsh) {
      t.skip("running as root without capsh: a mode-000 file stays readable");
      return;
    }
    const dir = tempDir("mtls-notcert-eacces-");
    const t2 = join(dir, "tree");
    cpSync(tree, t2, { recursive: true });
    const cert = join(t2, "plugins/p1/server.crt");
    chmodSync(cert, 0o000);
    const runAs = (args: string[]) =>
      asRoot
        ? spawnSync(
            "capsh",
            [
              "--drop=cap_dac_override,cap_dac_read_search",
              "--",
              "-c",
              'exec "$0" "$@"',
              process.execPath,
              BIN,
              ...args,
            ],
            { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", P12_PASS: "pw" } },
          )
        : spawnSync(process.execPath, [BIN, ...args], {
            cwd: dir,
            encoding: "utf8",
            env: { ...process.env, NO_COLOR: "1", P12_PASS: "pw" },
          });
    for (const args of [
      ["inspect", cert],
      ["verify", cert, "--ca", join(t2, "ca/ca.crt")],
      ["verify", "p1", "--out", t2],
      ["fingerprint", "p1", "--out", t2],
      ["revoke", "p1", "--out", t2],
      ["export", "p12", "p1", "--p12-password-env", "P12_PASS", "-o", join(dir, "p1.p12"), "--out", t2],
      ["export", "env", "--plugin", "p1", "--out", t2],
    ]) {
      const r = runAs(args);
      const all = `${r.stdout}${r.stderr}`;
      assert.doesNotMatch(all, ISSUE, `${args.join(" ")}: ${all}`);
      assert.equal(r.status, 2, `${args.join(" ")}: exit 2: ${all}`);
      assert.ok(
        r.stderr.includes(`${cert}: cannot read: permission denied (EACCES)`),
        `${args.join(" ")}: ${r.stderr}`,
      );
    }
    const check = runAs(["check", "--out", t2]);
    assert.equal(check.status, 1, check.stderr);
    assert.match(check.stdout, /server\.crt: cannot read: permission denied \(EACCES\)/);
  });
});
