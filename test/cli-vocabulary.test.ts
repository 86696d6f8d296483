/**
 * The flag vocabulary, held by walking the program definition (every command and subcommand,
 * whoever added it) and each command's real `--help`: `--out` is the tree, secrets come as
 * `--<secret>-env VAR` / `--<secret>-stdin`, every command ends its help with examples, defaults
 * are shown one way and only where the command applies them, required options say so.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import type { Command, Option } from "commander";
import { buildProgram, forEachCommand, run, type Io } from "../src/cli.js";
import { isDeprecatedAlias, isRequired, shownDefault } from "../src/cli/option-help.js";
import { SECRETS } from "../src/cli/secret-options.js";
import { DEFAULT_HTTPS_DAYS, DEFAULT_OUT, ENV } from "../src/defaults.js";

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

function memoryIo(env: NodeJS.ProcessEnv = {}): { io: Io; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d) => (out += d));
  stderr.on("data", (d) => (err += d));
  return { io: { stdout, stderr, env }, out: () => out, err: () => err };
}

async function runCaptured(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Captured> {
  const { io, out, err } = memoryIo(env);
  const code = await run(argv, io);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out(), stderr: err() };
}

/** Every command that does something (not a parent such as `export`), with its path. */
function leafCommands(): Array<{ path: string[]; command: Command }> {
  const program = buildProgram(
    memoryIo().io,
    (work) =>
      async (...args) =>
        void (await work(...args)),
  );
  const found: Array<{ path: string[]; command: Command }> = [];
  forEachCommand(program, (command) => {
    if (command === program || command.commands.length > 0) return;
    const path: string[] = [];
    for (let c: Command | null = command; c && c !== program; c = c.parent) path.unshift(c.name());
    found.push({ path, command });
  });
  return found;
}

const commands = leafCommands();
const SECRET_FLAG = new RegExp(`^--(${SECRETS.join("|")})-(env|stdin)$`);
/** Commands whose whole output is the answer they were asked for: nothing for -q to silence. */
const RESULT_ONLY = new Set(["fingerprint", "inspect", "verify"]);

function visible(command: Command): Option[] {
  return command.options.filter((o) => !o.hidden);
}

function find(command: Command, long: string): Option | undefined {
  return command.options.find((o) => o.long === long);
}

describe("the flag vocabulary, on every command of the program definition", () => {
  it("finds the commands by walking the program (not a list)", () => {
    const names = commands.map((c) => c.path.join(" "));
    for (const expected of ["all", "renew", "check", "export p12", "export nginx", "key decrypt"])
      assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
  });

  for (const { path, command } of commands) {
    const name = path.join(" ");
    describe(name, () => {
      it("--out is the tree, and only the tree", () => {
        const out = find(command, "--out");
        if (!out || isDeprecatedAlias(out)) return;
        assert.equal(out.flags, "--out <dir>", `${name}: --out takes the tree's directory`);
        assert.match(out.description, /tree/, `${name}: --out describes the tree`);
        assert.equal(out.defaultValue, DEFAULT_OUT);
      });

      it("a file written is -o/--output, with --force", () => {
        for (const o of visible(command)) {
          if (o.long === "--output") {
            assert.equal(o.short, "-o");
            assert.ok(find(command, "--force"), `${name}: --output without --force`);
          }
          assert.ok(!/<file>/.test(o.flags) || o.long !== "--out", `${name}: ${o.flags} writes a file`);
        }
      });

      it("secrets only as --<secret>-env VAR / --<secret>-stdin, always in pairs", () => {
        for (const o of visible(command)) {
          const long = o.long ?? "";
          if (!/pass(word|phrase)|secret|-env$/.test(long)) continue;
          assert.match(long, SECRET_FLAG, `${name}: ${long} is outside the secret naming scheme`);
          const partner = long.endsWith("-env") ? long.replace(/-env$/, "-stdin") : long.replace(/-stdin$/, "-env");
          assert.ok(find(command, partner), `${name}: ${long} without ${partner}`);
        }
      });

      it("old names are hidden", () => {
        for (const o of command.options) if (isDeprecatedAlias(o)) assert.ok(o.hidden, `${name}: ${o.long} shown`);
      });

      it("defaults appear one way: commander's (default: …), never in the description", () => {
        for (const o of visible(command))
          assert.doesNotMatch(o.description, /\bdefault\b/i, `${name}: ${o.long} writes its default by hand`);
      });

      it("-q/--quiet where it prints more than its answer", () => {
        if (RESULT_ONLY.has(path[0]!)) return;
        assert.ok(find(command, "--quiet"), `${name}: no -q/--quiet`);
      });

      it("its help marks required options and ends with 2–3 examples", async () => {
        const r = await runCaptured([...path, "--help"]);
        assert.equal(r.code, 0, r.stderr);
        for (const o of visible(command).filter(isRequired)) {
          const line = r.stdout.split("\n").findIndex((l) => l.trimStart().startsWith(o.flags));
          const block = r.stdout
            .split("\n")
            .slice(line, line + 4)
            .join(" ");
          assert.match(block, /\(required/, `${name}: ${o.flags} not marked required`);
        }
        const examples = r.stdout.trimEnd().split("Examples:\n")[1];
        assert.ok(examples !== undefined, `${name}: help ends without examples`);
        const lines = examples.split("\n");
        assert.ok(lines.length >= 2 && lines.length <= 3, `${name}: ${lines.length} examples`);
        for (const line of lines) {
          assert.match(line, /^ {2}\$ /);
          assert.ok(line.includes(`mtls-certs ${name}`), `${name}: example ${line} runs another command`);
        }
      });

      it("creates the CA when missing → takes the CA subject flags of `ca`", () => {
        if (!/CA when missing/.test(command.description())) return;
        for (const flag of ["--ca-cn", "--ca-org", "--ca-ou"]) assert.ok(find(command, flag), `${name}: no ${flag}`);
      });
    });
  }
});

describe("defaults shown are the ones the command applies", () => {
  const byName = new Map(commands.map((c) => [c.path.join(" "), c.command]));

  it("renew keeps each leaf's key type: no rsa4096 default", () => {
    const keyType = find(byName.get("renew")!, "--key-type")!;
    assert.match(String(shownDefault(keyType)?.value), /each leaf/);
  });

  it("https: --days is 365 and MCP_CERT_DAYS does not apply", () => {
    const days = shownDefault(find(byName.get("https")!, "--days")!);
    assert.equal(days?.value, DEFAULT_HTTPS_DAYS);
    assert.equal(days?.env, undefined);
  });

  it("jwt takes no --days (its keys have no validity)", () => {
    assert.equal(find(byName.get("jwt")!, "--days"), undefined);
  });

  it("every command that shows MCP_CERT_DAYS reads it (all, gateway, plugin …): not https", () => {
    for (const [name, command] of byName) {
      const days = find(command, "--days");
      if (days && shownDefault(days)?.env === ENV.days) assert.notEqual(name, "https");
    }
  });
});

describe("the program as a whole", () => {
  it("no arguments: help on stderr and exit 1, so a mistyped cron line fails", async () => {
    const r = await runCaptured([]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Usage: mtls-certs/);
  });

  it("top-level help starts people at `mtls-certs all` and groups the commands", async () => {
    const r = await runCaptured(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Start with `mtls-certs all`/);
    const groups = ["Issue certificates:", "Check and renew:", "Inspect:", "Export:"];
    const at = groups.map((g) => r.stdout.indexOf(g));
    assert.ok(
      at.every((i) => i > 0),
      r.stdout,
    );
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
      "groups in order",
    );
    assert.doesNotMatch(r.stdout, /Other commands:/, "every command has a group");
  });

  it("commander's own errors in the one style: mtls-certs: …, hint: …, then the usage; exit 2", async () => {
    const r = await runCaptured(["renew", "--frobnicate"]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines[0], "mtls-certs: renew: unknown option '--frobnicate'");
    assert.match(lines[1]!, /^hint: .*mtls-certs renew --help/);
    assert.match(lines[2]!, /^usage: mtls-certs renew \[options\]/);
  });

  it("a mistyped command gets a suggestion", async () => {
    const r = await runCaptured(["rnew"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mtls-certs: unknown command 'rnew'\nhint: did you mean renew\?/);
  });

  it("our own errors in the same style", async () => {
    const r = await runCaptured(["renew", "--out", "/nonexistent/mtls-certs-tree"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mtls-certs: .*\nhint: /);
  });

  it("an old flag name still works, with one line saying the new one", async () => {
    const r = await runCaptured(["inspect", "/nonexistent.p12", "--password-env", "P"], { P: "x" });
    const notices = r.stderr.split("\n").filter((l) => /deprecated/.test(l));
    assert.deepEqual(notices, ["mtls-certs: --password-env is deprecated; use --p12-password-env"]);
  });
});
