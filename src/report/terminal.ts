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

/**
 * Narrower than this, one spinner line cannot show anything useful. A terminal that reports 0
 * columns (`script` without a size, `docker run -t` from a non-terminal, some CI agents) is the
 * case that made ora 8.2 loop forever dividing by the width; it gets plain lines instead.
 */
export const MIN_SPINNER_COLUMNS = 20;
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 80;

type ProgressStream = Writable & { isTTY?: boolean; columns?: number };

/** A spinner only on an interactive stderr whose width is known and sane. */
export function wantsSpinner(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const columns = stream.columns;
  return (
    Boolean(stream.isTTY) &&
    !env.CI &&
    env.TERM !== "dumb" &&
    typeof columns === "number" &&
    Number.isInteger(columns) &&
    columns >= MIN_SPINNER_COLUMNS
  );
}

/**
 * Progress on stderr: a one-line spinner on a sane terminal; plain lines otherwise (CI logs,
 * pipes, a terminal of unknown width); nothing with --quiet. The spinner is a few lines of our
 * own instead of ora: one unref'd timer that draws one line, clipped to the width it reads at
 * each frame, so it can neither keep the process alive, nor block the event loop (and with it
 * the SIGINT/SIGTERM handlers), nor grow a log.
 */
export function startProgress(stream: ProgressStream, quiet: boolean, env: NodeJS.ProcessEnv = process.env): Progress {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (!wantsSpinner(stream, env)) {
    let last = "";
    return {
      update: (m) => {
        if (m === last) return;
        last = m;
        stream.write(`${m}\n`);
      },
      stop: () => undefined,
    };
  }
  const colour = !env.NO_COLOR;
  let text = "";
  let frame = 0;
  let drawn = false;
  const draw = () => {
    const columns = stream.columns ?? 0;
    // The terminal was narrowed (or lost its size) mid-run: clear the line and wait.
    if (!Number.isInteger(columns) || columns < MIN_SPINNER_COLUMNS) return clear();
    const glyph = FRAMES[frame++ % FRAMES.length]!;
    const line = `${glyph} ${text}`.slice(0, columns - 1);
    const shown = colour ? `\x1b[36m${glyph}\x1b[39m${line.slice(glyph.length)}` : line;
    stream.write(`\r${shown}\x1b[K`);
    drawn = true;
  };
  const clear = () => {
    if (drawn) stream.write("\r\x1b[K");
    drawn = false;
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    update: (m) => {
      text = m;
      if (!timer) {
        timer = setInterval(draw, FRAME_MS);
        timer.unref();
      }
      draw();
    },
    stop: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
    },
  };
}
