/**
 * Bad input is refused before anything is written (issue 3): config files with syntax errors
 * (file:line:column) or the wrong shape, unsafe names from the command line and from the config,
 * and bad day counts from --days and MCP_CERT_DAYS. Each is exit 2 and leaves no file behind.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cli, pluginConfig, tempDir, writeFile, type Run } from "./helpers.js";

const KEY_TYPE = ["--key-type", "ecdsa-p256"];

/** Runs the CLI in a fresh project holding only `files`; asserts exit 2 and that nothing was written. */
function refused(args: string[], files: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): Run {
  const cwd = tempDir("mtls-input-");
  for (const [path, text] of Object.entries(files)) writeFile(join(cwd, path), text);
  const before = readdirSync(cwd, { recursive: true }).sort();
  const r = cli(args, cwd, env);
  assert.equal(r.code, 2, `exit 2 for ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  assert.ok(!existsSync(join(cwd, "certs")), "no certs/ directory made");
  assert.deepEqual(readdirSync(cwd, { recursive: true }).sort(), before, "no file written");
  assert.equal(r.stdout, "", "nothing on stdout");
  return r;
}

describe("plugin config errors: exit 2 with file:line:column, nothing written", () => {
  const file = "plugins/external/config.yaml";
  const cases: Array<{ what: string; text: string; at: string; says: RegExp }> = [
    { what: "an unclosed quote", text: 'plugins:\n  - name: "a\n    kind: external\n', at: `${file}:4:1`, says: /YAML syntax error: Missing closing "quote/ },
    { what: "a bad indent", text: "plugins:\n  - name: a\n   kind: external\n", at: `${file}:3:1`, says: /YAML syntax error/ },
    { what: "a tab as indentation", text: "plugins:\n\t- name: a\n", at: `${file}:2:1`, says: /YAML syntax error: Tabs are not allowed/ },
    { what: "a key given twice in one entry", text: "plugins:\n  - name: a\n    name: b\n", at: `${file}:3:5`, says: /Map keys must be unique/ },
    { what: "an unclosed flow map", text: "plugins: [\n  {name: a, kind: external\n", at: `${file}:3:1`, says: /YAML syntax error/ },
    { what: "no plugins key", text: "other: 1\n", at: `${file}:1:1`, says: /no top-level `plugins:` key/ },
    { what: "plugins is a mapping, not a list", text: "plugins:\n  name: a\n", at: `${file}:2:3`, says: /`plugins` must be a list/ },
    { what: "plugins is empty (null)", text: "plugins:\n", at: `${file}:1:9`, says: /`plugins` must be a list/ },
    { what: "a scalar document", text: "just text\n", at: `${file}:1:1`, says: /expected a plugin config/ },
    { what: "an entry without a name", text: "plugins:\n  - kind: external\n", at: `${file}:2:5`, says: /plugins\[0\]\.name must be a string/ },
    { what: "a name that is a number", text: "plugins:\n  - name: 5\n    kind: external\n", at: `${file}:2:11`, says: /plugins\[0\]\.name must be a string/ },
    { what: "an entry that is a string", text: "plugins:\n  - a\n", at: `${file}:2:5`, says: /plugins\[0\] must be a mapping/ },
    { what: "kind that is a number", text: "plugins:\n  - name: a\n    kind: 5\n", at: `${file}:3:11`, says: /plugins\[0\]\.kind must be a string/ },
    { what: "kind that is a list", text: "plugins:\n  - name: a\n    kind: [external]\n", at: `${file}:3:11`, says: /plugins\[0\]\.kind must be a string/ },
    {
      what: "a duplicate name (case-insensitively: one directory on macOS)",
      text: "plugins:\n  - name: a\n    kind: external\n  - name: A\n    kind: external\n",
      at: `${file}:4:11`,
      says: /plugins\[1\]\.name "A" repeats the plugin at .*config\.yaml:2:11/,
    },
  ];
  for (const c of cases) {
    it(`${c.what}: \`all\` and \`plugin\` name ${c.at.slice(file.length)}`, () => {
      for (const args of [["all"], ["plugin", "x"]]) {
        const r = refused([...args, ...KEY_TYPE], { [file]: c.text });
        assert.ok(r.stderr.includes(`${c.at}: `), `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, c.says);
      }
    });
  }

  it("unknown top-level keys are tolerated", () => {
    const cwd = tempDir("mtls-input-");
    writeFile(join(cwd, file), "plugin_settings:\n  parallel: true\n" + pluginConfig([{ name: "alpha" }]) + "plugin_dirs: []\n");
    const r = cli(["all", ...KEY_TYPE, "--json"], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(cwd, "certs/mcp/plugins/alpha/server.crt")));
  });

  it("a config that cannot be read (a directory) is exit 2 naming it", () => {
    const cwd = tempDir("mtls-input-");
    writeFile(join(cwd, "cfg/x"), "");
    const r = cli(["all", ...KEY_TYPE, "--config", "cfg"], cwd);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cfg: cannot read \(EISDIR\)/);
    assert.ok(!existsSync(join(cwd, "certs")));
  });
});

describe("unsafe names: exit 2 naming the value, nothing written", () => {
  // The issue's list, then more that would leave the directory or make a bad DNS label.
  const issueNames = ["../../x", "a/b", "My Plugin", "", "-rf", "x".repeat(64), "plügin", ".hidden"];
  const moreNames = ["a\\b", "..", ".", "a..b", "a-", "a.", "a.-b", "a\nb"];
  for (const name of [...issueNames, ...moreNames]) {
    const shown = JSON.stringify(name);
    const commands = issueNames.includes(name) ? ["plugin", "server", "client"] : ["plugin"];
    it(`${shown.length > 30 ? `${shown.slice(0, 12)}…(${name.length} chars)` : shown} as an argument of ${commands.join(", ")}, and as a config name`, () => {
      for (const command of commands) {
        // `--` so that "-rf" reaches the name check instead of being read as flags.
        const r = refused([command, ...KEY_TYPE, "--", name]);
        assert.ok(r.stderr.includes(`${shown} is not a safe name`), `${command}: ${r.stderr}`);
      }
      const r = refused(["all", ...KEY_TYPE], { "plugins/external/config.yaml": `plugins:\n  - name: ${shown}\n    kind: external\n` });
      assert.ok(r.stderr.includes(`config.yaml:2:11: plugins[0].name: ${shown} is not a safe name`), r.stderr);
    });
  }

  it("-rf without `--` is refused as an unknown option", () => {
    const r = refused(["plugin", "-rf"]);
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
    it(`${JSON.stringify(value)}`, () => {
      const flag = refused(["all", ...KEY_TYPE, `--days=${value}`]);
      assert.ok(flag.stderr.includes(`--days: ${JSON.stringify(value)} is not a whole number of days from 1 to 36500`), flag.stderr);
      const env = refused(["all", ...KEY_TYPE], {}, { MCP_CERT_DAYS: value });
      assert.ok(env.stderr.includes(`MCP_CERT_DAYS: ${JSON.stringify(value)} is not a whole number of days`), env.stderr);
    });
  }

  it("--days -1 (as a separate argument) is refused too", () => {
    refused(["all", ...KEY_TYPE, "--days", "-1"]);
  });

  it("1 and 36500 are accepted", () => {
    const cwd = tempDir("mtls-input-");
    for (const days of ["1", "36500"]) {
      const r = cli(["plugin", `p${days}`, ...KEY_TYPE, "--days", days, "-q"], cwd);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});
