/**
 * The command the user ran mtls-certs with, so the hints we print run when pasted (issue 28 §5):
 * `mtls-certs` when that name on PATH is this program; `npx mtls-certs` under npm (npx, npm exec,
 * an npm script: node_modules/.bin is on PATH there, not in the user's shell); otherwise the path
 * the shell ran, relative to the working directory when inside it. MTLS_CERTS_COMMAND overrides
 * all of it, for a wrapper that knows what its users type. Pure: the caller gives argv[1],
 * the environment and the working directory; the one PATH lookup is a parameter too.
 */
import { accessSync, constants, realpathSync } from "node:fs";
import { basename, delimiter, isAbsolute, join, relative, sep } from "node:path";
import { ENV } from "../defaults.js";

const PROGRAM = "mtls-certs";

export interface Invocation {
  /** process.argv[1]: the script (or the single executable) as the shell or node found it. */
  script: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The file `name` resolves to on PATH, real path, or undefined. */
  onPath?: (name: string, path: string) => string | undefined;
}

export function invokedCommand({ script, env, cwd, onPath = findOnPath }: Invocation): string {
  // A wrapper (a Makefile target, a script) says what its users should type.
  const given = env[ENV.command];
  if (given) return given;
  // npm sets these for npx / `npm exec` (npm_command=exec) and for package scripts (lifecycle event).
  if (env.npm_command === "exec" || env.npm_command === "run-script" || env.npm_lifecycle_event)
    return `npx ${PROGRAM}`;
  if (script === undefined || script === "") return PROGRAM;
  const name = basename(script);
  const real = realPath(script);
  if (real !== undefined && onPath(name, env.PATH ?? "") === real) return shellWord(name);
  const rel = relative(cwd, script);
  const path = isAbsolute(script) && !rel.startsWith("..") && !isAbsolute(rel) ? `.${sep}${rel}` : script;
  return shellWord(path);
}

/**
 * A message with each command in it (in backticks, the house style) as the user ran the program:
 * "`mtls-certs renew`" → "`npx mtls-certs renew`". Only inside backticks: a plugin named
 * mtls-certs in a table row stays as it is.
 */
export function asInvoked(text: string, command: string): string {
  if (command === PROGRAM) return text;
  return text.replace(/`mtls-certs(?=[ `])/g, `\`${command}`);
}

function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return realPath(candidate);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Single-quoted for a POSIX shell when it holds anything but the safe characters. */
function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
