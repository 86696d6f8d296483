/**
 * The template files in `templates/` and the one tiny syntax they use: `{{name}}` is replaced by
 * a value, and a block `{{#name}}` … `{{/name}}` (each on its own line) is kept only when `name`
 * is set. Nothing else: the templates stay readable as the config files they produce.
 *
 * And how a value is written into each format an export renders (nginx, HAProxy, Caddy, .env,
 * compose, sh): quoted where that format's quotes make it literal, refused (exit 2, naming where
 * it came from) where they do not. Every export goes through these, so one place says what is safe.
 */
import { readPackageFile } from "../package-files.js";
import { MtlsError } from "../errors.js";
import { hasControlCharacter } from "../control-characters.js";

/** Values for one template: a string fills `{{name}}`; a boolean or undefined only gates blocks. */
export type TemplateValues = Readonly<Record<string, string | boolean | undefined>>;

export function renderTemplate(file: string, values: TemplateValues): string {
  return fillTemplate(readPackageFile(`templates/${file}`), values, file);
}

/** Pure: a template's text and its values in, the config out. A name the values lack is a bug. */
export function fillTemplate(text: string, values: TemplateValues, file = "template"): string {
  const kept: string[] = [];
  const open: Array<{ name: string; keep: boolean }> = [];
  for (const line of text.split("\n")) {
    const block = /^\s*\{\{([#/])([a-z_]+)\}\}\s*$/.exec(line);
    if (block) {
      const [, sign, name = ""] = block;
      if (!(name in values)) throw new Error(`${file}: block {{${sign}${name}}} has no value`);
      if (sign === "#") open.push({ name, keep: Boolean(values[name]) });
      else if (open.pop()?.name !== name) throw new Error(`${file}: {{/${name}}} closes nothing`);
      continue;
    }
    if (open.every((b) => b.keep)) kept.push(line);
  }
  if (open.length > 0) throw new Error(`${file}: {{#${open[0]?.name}}} is not closed`);
  return kept.join("\n").replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (typeof value !== "string") throw new Error(`${file}: {{${name}}} has no value`);
    // The callers check each value where it comes from; this keeps a missed one from ending a line.
    return checkConfigText(value, `${file} {{${name}}}`);
  });
}

/**
 * What goes into a config, a comment included, is one line without control characters: a newline
 * ends a comment and starts a directive, an object or a variable of whoever named the directory.
 * `field` is where the text came from (`--out`, `--prefix`, a variable's name).
 */
export function checkConfigText(value: string, field: string): string {
  if (hasControlCharacter(value))
    throw new MtlsError(
      "E_USAGE",
      `${field}: ${JSON.stringify(value)} has a control character or newline, which would end a line of the config and start another`,
      "use a path without control characters (rename or move the directory)",
    );
  return value;
}

/** The proxy formats a path is written into as one token. */
export type ProxyFormat = "nginx" | "haproxy" | "caddy";

/** Characters that need no quotes in any of the three. */
const BARE_TOKEN = /^[A-Za-z0-9._/@+:=,-]+$/;

/**
 * Each format's quote, and what stays syntax inside it (so no quoting makes it safe): nginx expands
 * `$name` even inside quotes (ssl_certificate takes variables) and reads `\` as an escape; HAProxy's
 * single quotes end at `'` (`$` and `"` are refused too: they expand or quote outside them, and a
 * path should read the same in all three); Caddy replaces `{$VAR}` before it parses, reads
 * `{placeholders}`, and quotes with `"` and backquotes.
 */
const PROXY_TOKEN: Record<ProxyFormat, { quote: string; refused: RegExp; name: string }> = {
  nginx: { quote: '"', refused: /["'\\$]/g, name: "nginx" },
  haproxy: { quote: "'", refused: /["'\\$]/g, name: "HAProxy" },
  caddy: { quote: '"', refused: /["'`\\${}]/g, name: "Caddy" },
};

/**
 * A path as one token of `format`: bare when plain, else quoted (spaces, `;`, `#` and the like are
 * literal inside the quotes: nginx -t, haproxy -c and caddy adapt read the same path), refused
 * (exit 2, naming `field`) where the format's quotes do not make it literal.
 */
export function proxyConfigPath(path: string, format: ProxyFormat, field: string): string {
  checkConfigText(path, field);
  const rule = PROXY_TOKEN[format];
  const refused = [...new Set(path.match(rule.refused) ?? [])];
  if (refused.length > 0)
    throw new MtlsError(
      "E_USAGE",
      `${field}: ${JSON.stringify(path)} holds ${refused.join(" ")}, which ${rule.name} reads as syntax even inside quotes`,
      `put the tree in a directory whose path has none of them${field === "--prefix" ? "" : ", or give the path in the container with --prefix"}`,
    );
  return BARE_TOKEN.test(path) ? path : `${rule.quote}${path}${rule.quote}`;
}

/**
 * A value of a .env file, as bash (`set -a; . file`), docker compose and python-dotenv read it:
 * bare when plain, else single-quoted, which all three take literally, except python-dotenv,
 * which unescapes `\\` and `\'` there. `$` is refused outright: compose and python-dotenv expand
 * `${VAR}` (compose also `$VAR`) outside single quotes, and older readers inside them too.
 */
export function dotenvValue(value: string, field: string): string {
  checkConfigText(value, field);
  if (/^[A-Za-z0-9_./:@+,-]*$/.test(value)) return value;
  const refused = [...new Set(value.match(/[$'\\]/g) ?? [])];
  if (refused.length > 0)
    throw new MtlsError(
      "E_USAGE",
      `${field}: ${JSON.stringify(value)} holds ${refused.join(" ")}, which a .env reader expands or unescapes${refused.includes("$") ? " (docker compose and python-dotenv expand variables from it)" : ""}`,
      "use --format shell or json, or a tree path without $ ' \\",
    );
  return `'${value}'`;
}

/** A value of docker-compose.yml's `environment:`: compose expands `$VAR` and `${VAR}` in every value. */
export function composeValue(value: string, field: string): string {
  checkConfigText(value, field);
  if (value.includes("$"))
    throw new MtlsError(
      "E_USAGE",
      `${field}: ${JSON.stringify(value)} holds $, which docker compose expands in a compose file's values`,
      "use --format shell or json, or a tree path without $",
    );
  return value;
}

/** One word for POSIX sh: single-quoted, each `'` as `'\''`; nothing inside expands. Control characters are refused. */
export function shellWord(value: string, field: string): string {
  checkConfigText(value, field);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A value in a make assignment that recipes pass to sh unquoted: no whitespace, `$`, `#`, quotes
 * or anything else make or sh would read.
 */
export function makeValue(value: string, field: string): string {
  if (!/^[A-Za-z0-9._/+-]+$/.test(value))
    throw new MtlsError(
      "E_USAGE",
      `${field}: ${JSON.stringify(value)} cannot be a make variable's value`,
      "use a path of letters, digits and . _ / + -",
    );
  return value;
}
