/**
 * How the CLI talks to people: colour and a spinner only on a terminal, never under NO_COLOR,
 * CI or --json. Results go to stdout; progress, warnings and errors to stderr, so `--json`
 * output is one clean document.
 */
import type { Writable } from "node:stream";

export interface Style {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const plain: Style = { green: (s) => s, yellow: (s) => s, red: (s) => s, dim: (s) => s, bold: (s) => s };

export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY) && !env.CI && env.TERM !== "dumb";
}

export async function styleFor(stream: { isTTY?: boolean }): Promise<Style> {
  if (!wantsColor(stream)) return plain;
  const { Chalk } = await import("chalk");
  const chalk = new Chalk({ level: 1 });
  return { green: chalk.green, yellow: chalk.yellow, red: chalk.red, dim: chalk.dim, bold: chalk.bold };
}

export interface Progress {
  update(message: string): void;
  stop(): void;
}

/** An ora spinner on an interactive stderr; plain lines otherwise (CI logs), none with --quiet. */
export async function startProgress(stream: Writable & { isTTY?: boolean }, quiet: boolean): Promise<Progress> {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (!stream.isTTY || process.env.CI || process.env.TERM === "dumb") {
    return { update: (m) => void stream.write(`${m}\n`), stop: () => undefined };
  }
  const { default: ora } = await import("ora");
  const spinner = ora({ stream, isEnabled: true, color: process.env.NO_COLOR ? undefined : "cyan" });
  return {
    update: (m) => {
      if (spinner.isSpinning) spinner.text = m;
      else spinner.start(m);
    },
    stop: () => spinner.stop(),
  };
}
