/**
 * The template files in `templates/` and the one tiny syntax they use: `{{name}}` is replaced by
 * a value, and a block `{{#name}}` … `{{/name}}` (each on its own line) is kept only when `name`
 * is set. Nothing else: the templates stay readable as the config files they produce.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Values for one template: a string fills `{{name}}`; a boolean or undefined only gates blocks. */
export type TemplateValues = Readonly<Record<string, string | boolean | undefined>>;

/** `templates/` of the package: found from this module upwards, so it works from dist/ and build/. */
export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "templates")) && existsSync(join(dir, "package.json"))) return join(dir, "templates");
    const parent = dirname(dir);
    if (parent === dir) throw new Error("templates/ not found next to the package's package.json");
    dir = parent;
  }
}

export function renderTemplate(file: string, values: TemplateValues): string {
  return fillTemplate(readFileSync(join(templatesDir(), file), "utf8"), values, file);
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
    return value;
  });
}
