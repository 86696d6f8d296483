/**
 * Bad input is refused before anything is written (issue 3): config files with syntax errors
 * (file:line:column) or the wrong shape, unsafe names from the command line and from the config,
 * and bad day counts from --days and MCP_CERT_DAYS. Each is exit 2 and leaves no file behind.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { ROOT, cli, pluginConfig, tempDir, writeFile, type Run } from "./helpers.js";

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
