/** PEM text as its blocks: nothing parsed, nothing loaded (check and p12 use it on bundles). */

/** The `-----BEGIN <label>-----` … `-----END <label>-----` blocks of a text, in order. */
export function splitPemBlocks(text: string, label = "CERTIFICATE"): string[] {
  return text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, "g")) ?? [];
}
