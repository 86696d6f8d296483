/**
 * The names the plugin config asks each plugin cert to carry (its URL's host, `sans:`): what
 * `check` judges and `renew` re-issues for. Beside plugin-config.ts, which reads the file; this only
 * turns it into SANs (pki/check-verdict.ts missingSans compares a cert's with them).
 */
import type { PluginConfig } from "./config-data.js";
import { pluginSans, type San } from "../pki/profiles.js";

/** Plugin name → the SANs its cert must carry; empty without a config. */
export function wantedSans(config: PluginConfig | undefined): Map<string, San[]> {
  const wanted = new Map<string, San[]>();
  for (const p of config?.plugins ?? []) wanted.set(p.name, pluginSans(p.name, p.sans));
  return wanted;
}
