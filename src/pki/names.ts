/**
 * Validation of everything a user names: plugin/server/client names (they become a directory
 * and a DNS label), extra SANs, IP addresses, day counts. All of it runs before anything is
 * written; each failure says which value, from where.
 */
import { isIP } from "node:net";
import { MAX_DAYS } from "../defaults.js";
import { MtlsError } from "../errors.js";
import { hasControlCharacter } from "../control-characters.js";

/** 63 is the DNS label limit; the name is also a SAN and a directory. */
const MAX_NAME_LENGTH = 63;
/**
 * One dot-separated part of a name: ASCII letters, digits, `-`, `_`, starting and ending with a
 * letter, digit or `_`. So the name never starts with `-` (it would read as a flag) or `.`
 * (hidden; `.` and `..` leave the directory), holds no `..`, `/` or `\`, and every part is a
 * DNS label (RFC 1123: no leading or trailing hyphen) that `checkDnsName` accepts as a SAN.
 */
const NAME_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;

/** `where` says where the name came from, e.g. `plugins/external/config.yaml: plugins[2].name`. */
export function checkName(name: string, where = "name"): string {
  if (name.length > MAX_NAME_LENGTH || !name.split(".").every((part) => NAME_PART.test(part))) {
    throw new MtlsError(
      "E_BAD_NAME",
      `${where}: ${JSON.stringify(name)} is not a safe name`,
      "use 1-63 ASCII letters, digits, '-', '_' or '.'; each '.'-separated part starts and ends with a letter, digit or '_'",
    );
  }
  return name;
}

/** A DNS name for a SAN: labels of letters, digits, `-`, `_`; one leading `*.` allowed. */
export function checkDnsName(value: string, where = "--san"): string {
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  const labels = name.split(".");
  const ok =
    name.length > 0 &&
    name.length <= 253 &&
    labels.every(
      (label, i) =>
        (i === 0 && label === "*" && labels.length > 1) ||
        /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label),
    );
  if (!ok)
    throw new MtlsError(
      "E_BAD_SAN",
      `${where}: ${JSON.stringify(value)} is not a valid DNS name`,
      "a DNS SAN is labels of letters, digits and '-', with at most one leading '*.'",
    );
  return name;
}

export function checkIp(value: string, where = "--ip"): string {
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (isIP(bare) === 0) throw new MtlsError("E_BAD_IP", `${where}: ${JSON.stringify(value)} is not an IP address`);
  return bare;
}

/** A whole number of days, 1..36500, from a flag or env var: `1.5`, `1e3`, `0x10` are refused. */
export function parseDays(value: string | number, where = "--days"): number {
  const text = String(value).trim();
  const days = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new MtlsError(
      "E_BAD_DAYS",
      `${where}: ${JSON.stringify(String(value))} is not a whole number of days from 1 to ${MAX_DAYS}`,
    );
  }
  return days;
}

/** A whole number in a range, for flags such as --jobs, --within, --listen. */
export function parseWholeNumber(value: string, where: string, min: number, max: number): number {
  const n = /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new MtlsError(
      "E_BAD_NUMBER",
      `${where}: ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

/**
 * A CA subject attribute (--ca-cn, --ca-org, --ca-ou): 1-64 characters (X.520's upper bound), no
 * control characters, which would reach every terminal and log that prints the issuer.
 */
export function checkSubjectValue(value: string, where: string): string {
  if (value.length < 1 || value.length > 64 || hasControlCharacter(value) || value.trim() !== value)
    throw new MtlsError(
      "E_BAD_NAME",
      `${where}: ${JSON.stringify(value)} is not a usable subject value`,
      "use 1-64 characters without control characters or leading/trailing spaces",
    );
  return value;
}
