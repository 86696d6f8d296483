/**
 * How options read in `--help`: defaults an env var or the command decides (shown as commander
 * shows its own, while the option stays unset so the action can tell), options required one of a
 * pair, old flags kept as hidden aliases with a notice, and the examples every command ends with.
 * One help format, installed once on the program.
 */
import { type Command, Help, Option } from "commander";
import type { Io } from "./command-context.js";

/** Defaults that commander does not fill in (an env var or the command decides), shown as its own are. */
const DOCUMENTED = new WeakMap<Option, { value: string | number; env?: string }>();

/** Shows `(default: value, env: VAR)` in help as commander does, while the option stays unset when not given. */
export function documented(option: Option, value: string | number, env?: string): Option {
  DOCUMENTED.set(option, { value, env });
  return option;
}

/** The default help shows for an option, commander's or documented; undefined when none. */
export function shownDefault(option: Option): { value: unknown; env?: string } | undefined {
  const doc = DOCUMENTED.get(option);
  if (doc) return doc;
  if (option.defaultValue !== undefined && (option.required || option.optional)) return { value: option.defaultValue };
  return undefined;
}

/** Options the action requires but commander cannot (one of a pair, or an old spelling counts). */
const REQUIRED = new WeakMap<Option, string>();

/** Marks an option required in help; `how` qualifies it ("this or --p12-password-stdin"). */
export function required(option: Option, how = ""): Option {
  REQUIRED.set(option, how);
  return option;
}

export function isRequired(option: Option): boolean {
  return option.mandatory || REQUIRED.has(option);
}

function showDefault(value: string | number): string {
  // Literal values quoted, as commander shows its own; a phrase ("4 per core") as it reads.
  return typeof value === "string" && /\s/.test(value) ? value : JSON.stringify(value);
}

/**
 * The one help format: commander's own extras, plus the documented defaults and `required` for
 * required options. Installed once on the program; every subcommand inherits it.
 */
export function helpConfiguration(): { optionDescription(option: Option): string } {
  const base = new Help();
  return {
    optionDescription(option: Option): string {
      const text = base.optionDescription(option);
      const extra: string[] = [];
      if (isRequired(option)) extra.push(REQUIRED.get(option) ? `required: ${REQUIRED.get(option)}` : "required");
      const doc = DOCUMENTED.get(option);
      if (doc) extra.push(`default: ${showDefault(doc.value)}${doc.env ? `, env: ${doc.env}` : ""}`);
      if (extra.length === 0) return text;
      return `${text} (${extra.join(", ")})`;
    },
  };
}

/** Every command's help ends with 2–3 examples, written as the user types them. */
export function withExamples(command: Command, ...examples: string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);
}

const DEPRECATED = new WeakSet<Option>();

/**
 * An old flag kept as a hidden alias of `replacement`, with a one-line notice on stderr when
 * used. With `redirect: false` the old value stays under its own name for the action to sort out
 * (`--tree` beside an old-style `--out FILE`).
 */
export function deprecatedAlias(
  command: Command,
  io: Io,
  old: string,
  replacement: string,
  o: { redirect?: boolean } = {},
): Command {
  const option = new Option(old).hideHelp();
  DEPRECATED.add(option);
  command.addOption(option);
  command.on(`option:${option.name()}`, (value: unknown) => {
    io.stderr.write(`mtls-certs: ${option.long} is deprecated; use ${replacement}\n`);
    const target = command.options.find((t) => t.long === replacement);
    if (target && o.redirect !== false) command.setOptionValueWithSource(target.attributeName(), value ?? true, "cli");
  });
  return command;
}

export function isDeprecatedAlias(option: Option): boolean {
  return DEPRECATED.has(option);
}
