/**
 * The docs (issue 17): every relative link in README.md and docs/ resolves (the file, and the
 * #anchor as GitHub makes it from a heading), and the README's Quick start runs as written, with
 * this repository's bin as `npx mtls-certs`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT, npxShim, read, tempDir, verifyStrict, writeFile } from "./helpers.js";

const DOC_FILES = [
  join(ROOT, "README.md"),
  join(ROOT, "CONTRIBUTING.md"),
  join(ROOT, "CHANGELOG.md"),
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(ROOT, "docs", f)),
];

/** The text outside fenced code blocks, line by line (links in code are not links). */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    lines.push(fenced ? "" : line);
  }
  return lines;
}

/**
 * GitHub's heading anchors: lower case, inline markup dropped, every character that is not a
 * letter, digit, space, `-` or `_` removed, spaces to `-`; a repeated slug gets `-1`, `-2`, …
 */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*]/g, "");
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Every inline link `[text](target)` outside code spans and fences, with its line number. */
function links(markdown: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = [];
  proseLines(markdown).forEach((line, i) => {
    const withoutCode = line.replace(/`[^`]*`/g, "");
    for (const m of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) found.push({ target: m[1]!, line: i + 1 });
  });
  return found;
}

/** What is wrong with each relative link of `file`: a missing file or an anchor no heading makes. */
function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const { target, line } of links(read(file))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …: not ours to check offline
    const [path = "", anchor] = target.split("#", 2);
    const where = `${relative(ROOT, file)}:${line}: ${target}`;
    const linked = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(linked)) {
      broken.push(`${where}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(linked).isDirectory() || !linked.endsWith(".md")) {
      broken.push(`${where}: an anchor into a file that is not Markdown`);
    } else if (!headingAnchors(read(linked)).has(decodeURIComponent(anchor))) {
      broken.push(`${where}: no heading makes #${anchor} in ${relative(ROOT, linked)}`);
    }
  }
  return broken;
}

/** The commands of every ```sh block in a README section (`## name` up to the next `## `). */
function shellCommandsOf(markdown: string, section: string): string[] {
  const start = markdown.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `README has no "## ${section}" section`);
  const end = markdown.indexOf("\n## ", start + 1);
  const body = markdown.slice(start, end < 0 ? undefined : end);
  const commands: string[] = [];
  for (const block of body.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) {
      const command = line.replace(/\s+#.*$/, "").trim();
      if (command && !command.startsWith("#")) commands.push(command);
    }
  }
  return commands;
}

describe("docs", () => {
  it("every relative link in README.md, CONTRIBUTING.md, CHANGELOG.md and docs/ resolves, anchors included", () => {
    assert.ok(DOC_FILES.length >= 10, `expected the README, CONTRIBUTING, CHANGELOG and docs pages: ${DOC_FILES}`);
    assert.deepEqual(DOC_FILES.flatMap(brokenLinks), []);
  });

  it("the link check finds a missing page and a missing anchor (it can fail)", () => {
    const dir = tempDir();
    writeFile(join(dir, "other.md"), "# Other page\n\n## A `code` heading: with, punctuation\n");
    const page = writeFile(
      join(dir, "page.md"),
      [
        "# Page",
        "[ok](other.md#a-code-heading-with-punctuation) [self](#page) [web](https://example.com/x)",
        "[gone](missing.md) [bad anchor](other.md#nope) `[in code](nowhere.md)`",
        "```sh",
        "[in a fence](nowhere.md)",
        "```",
      ].join("\n"),
    );
    const broken = brokenLinks(page).map((b) => b.replace(/^.*?page\.md:/, ""));
    assert.deepEqual(broken, [
      "3: missing.md: no such file",
      `3: other.md#nope: no heading makes #nope in ${relative(ROOT, join(dir, "other.md"))}`,
    ]);
  });

  it("no recipe fetches mtls-certs from the registry (none is released there); vendored files are this version", () => {
    const { version } = JSON.parse(read(join(ROOT, "package.json"))) as { version: string };
    const problems: string[] = [];
    for (const file of DOC_FILES.filter((f) => !f.endsWith("CHANGELOG.md"))) {
      const prose = proseLines(read(file));
      read(file)
        .split("\n")
        .forEach((line, i) => {
          const where = `${relative(ROOT, file)}:${i + 1}`;
          // In a code block, `npx --yes mtls-certs@…` or the CronJob form ["npx", "--yes", "mtls-certs", …]
          const inCode = prose[i] === "" && line !== "";
          if (inCode && /npx"?,? "?(--yes|-y)"?,? "?mtls-certs/.test(line))
            problems.push(`${where}: npx --yes mtls-certs`);
          for (const m of line.matchAll(/mtls-certs-(\d+\.\d+\.\d+[^\s",`]*?)\.tgz/g))
            if (m[1] !== version) problems.push(`${where}: mtls-certs-${m[1]}.tgz, but package.json is ${version}`);
        });
    }
    assert.deepEqual(problems, []);
  });

  it("every docs page starts with its title", () => {
    for (const file of DOC_FILES.filter((f) => dirname(f) === join(ROOT, "docs"))) {
      assert.match(read(file), /^# \S/, relative(ROOT, file));
    }
  });

  it("the README stays a first screen: at most 250 lines, with the two set-up commands on a fresh machine", () => {
    const readme = read(join(ROOT, "README.md"));
    const lines = readme.trimEnd().split("\n").length;
    assert.ok(lines <= 250, `README.md has ${lines} lines; move sections to docs/ and link them`);
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    assert.match(firstBlock, /npx mtls-certs all/);
    assert.match(firstBlock, /^npm test\b/m);
  });

  it("every command of the README's Quick start runs, with this repository's bin as npx mtls-certs", () => {
    const commands = shellCommandsOf(read(join(ROOT, "README.md")), "Quick start");
    assert.ok(commands.length >= 2, `Quick start shows: ${commands}`);
    // A gateway project as the Quick start assumes it: the example plugin config at its root.
    const project = tempDir();
    cpSync(join(ROOT, "examples", "gateway"), project, { recursive: true });
    // `npx mtls-certs …` runs this checkout's bin; any other npx use would reach the registry.
    const shim = npxShim();
    for (const command of commands) {
      const r = spawnSync("sh", ["-c", command], {
        cwd: project,
        encoding: "utf8",
        env: { ...process.env, PATH: `${shim}:${process.env.PATH}`, NO_COLOR: "1", CI: "1", MCP_CERT_DAYS: "" },
      });
      assert.equal(r.status, 0, `${command}\n${r.stdout}${r.stderr}`);
    }
    // What the Quick start says `all` makes, checked by openssl.
    const mcp = join(project, "certs", "mcp");
    assert.equal(verifyStrict(join(mcp, "ca", "ca.crt"), join(mcp, "gateway", "client.crt")).code, 0);
    for (const plugin of ["DenyListPlugin", "OPAPluginFilter"]) {
      const r = verifyStrict(join(mcp, "ca", "ca.crt"), join(mcp, "plugins", plugin, "server.crt"), [
        "-purpose",
        "sslserver",
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
  });
});
