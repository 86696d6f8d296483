/**
 * The one place the exports turn data into YAML. kubectl (sigs.k8s.io/yaml), PyYAML and other
 * readers decode YAML 1.1, where a plain `on`, `off`, `yes`, `no`, `y`, `n` is a boolean: an
 * annotation `auth-tls-verify-client: on` made `kubectl apply` fail ("cannot unmarshal bool into
 * ... annotations"). Others (the `yaml` package's default, Helm's newer parsers) read YAML 1.2, where
 * `0o7` is a number. So a string is written plain only when both readings give back the same
 * string; otherwise it is double-quoted.
 */
import { Document, Scalar, isScalar, parse, stringify, visit } from "yaml";
import { escapeControlCharacters } from "../control-characters.js";

/** True when `text`, written as a plain scalar, reads back as this very string in YAML 1.1 and 1.2. */
export function plainStaysString(text: string): boolean {
  try {
    return parse(text, { version: "1.1" }) === text && parse(text, { version: "1.2" }) === text;
  } catch {
    return false;
  }
}

/**
 * One YAML document (no `---`), every string a string under YAML 1.1 and 1.2. `lineWidth` 0: no
 * folding. `commentAbove` maps a key to a one-line comment written on the line above it.
 */
export function yamlText(value: unknown, commentAbove: Readonly<Record<string, string>> = {}): string {
  const doc = new Document(value, { version: "1.1" });
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (isScalar(key) && typeof key.value === "string" && Object.hasOwn(commentAbove, key.value))
        key.commentBefore = ` ${escapeControlCharacters(commentAbove[key.value]!)}`;
    },
    Scalar(_, node) {
      // Multi-line strings become block scalars, which are strings in every version.
      if (typeof node.value === "string" && !node.value.includes("\n") && !plainStaysString(node.value))
        node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  // The document's own `%YAML 1.1` directive is left out: kubectl and most readers take bare documents.
  return stringify(doc, { lineWidth: 0, directives: false });
}

/**
 * The comment header, then one YAML document per object. Header lines hold paths and names from
 * the command line and the disk: a newline there would end the comment and start YAML of the
 * caller's choosing, so control characters are written as escapes (`\n`, `\u001b`).
 */
export function yamlDocuments(header: readonly string[], objects: readonly unknown[]): string {
  return (
    header.map((line) => `# ${escapeControlCharacters(line)}\n`).join("") +
    objects.map((o) => "---\n" + yamlText(o)).join("")
  );
}
