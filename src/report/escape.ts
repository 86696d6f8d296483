/**
 * Escaping for the machine formats `check` and `probe` write, one copy each: GitHub Actions
 * workflow commands and Prometheus' text exposition format.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** A workflow command's message part: %, CR and LF are escaped (the runner's own escaping). */
export function githubData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A workflow command's property value: also `:` and `,`, which would end it. */
export function githubProperty(s: string): string {
  return githubData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** Label values escape backslash, double quote and newline (the exposition format's rule). */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
