/**
 * What every CLI command gets: its streams and environment, so that commands run the same in a process and in tests.
 * Exit codes follow kubectl/antctl: 0 success, 1 the operation failed or found errors, 2 usage or unreadable input.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AntreaError, describeError, isAntreaError } from '../util/errors.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** True when stderr is a terminal: progress is shown only then. */
  isTTY: boolean;
  /** Resolves when the user asks the command to stop (Ctrl-C, SIGTERM); long-running commands wait on it. */
  stopSignal?: AbortSignal;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

/** A usage error: bad flags or arguments, or input that cannot be read. Exit code 2. */
export class UsageError extends AntreaError {
  constructor(message: string, details: ConstructorParameters<typeof AntreaError>[2] = {}) {
    super('ERR_USAGE', message, details);
  }
}

/** A failure already reported to the user; carries only the exit code. */
export class ReportedFailure extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export function processIO(): CliIO {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stderr.isTTY),
    stopSignal: controller.signal,
  };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--help` or `-h` on a command: runCommand prints the usage on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
  }
}

/** Edit distance counting a swap of two neighbouring letters as one edit (`loacl` is one step from `local`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

/** The candidate closest to `text`, when it is close enough to be what the user meant. */
export function suggest(text: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(text.toLowerCase(), c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  // Two edits catch a swapped or missing letter without suggesting unrelated words for short input.
  return best && best.d <= Math.min(2, Math.max(1, Math.floor(text.length / 3))) ? best.c : undefined;
}

/** A UsageError for an unknown command or subcommand: names it, suggests the nearest, and lists the known ones. */
export function unknownCommand(what: string, text: string | undefined, known: readonly string[]): UsageError {
  if (text === undefined || text === '') return new UsageError(`${what}: missing command (one of ${known.join(', ')})`, { field: 'command' });
  const near = suggest(text, known);
  return new UsageError(`unknown ${what} ${JSON.stringify(text)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ` (one of ${known.join(', ')})`}`, { field: 'command' });
}

/** `-o, --output` or `--port`: how a flag is named in messages. */
function flagLabel(options: Options, name: string): string {
  const short = options[name]?.short;
  return short ? `-${short}/--${name}` : `--${name}`;
}

/**
 * node:util parseArgs, with every parse failure turned into a one-line UsageError that names the flag and says why
 * (Node's own messages span lines and talk about positionals). `--help`/`-h` anywhere before `--` asks for the usage.
 */
export function parseFlags<T extends Options>(args: string[], options: T, usage: string) {
  const end = args.indexOf('--');
  const before = end === -1 ? args : args.slice(0, end);
  if (before.includes('--help') || (before.includes('-h') && !Object.values(options).some((o) => o.short === 'h'))) throw new HelpRequested(usage);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = describeError(err);
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (unknown) {
      const flag = unknown[1] as string;
      const longs = Object.keys(options).map((n) => `--${n}`);
      const near = flag.startsWith('--') ? suggest(flag.split('=')[0] as string, longs) : undefined;
      const known = Object.keys(options).map((n) => flagLabel(options, n)).join(', ');
      throw new UsageError(`unknown flag ${flag}${near ? ` (did you mean ${near}?)` : known ? ` (flags: ${known})` : ' (this command takes no flags)'}`, { field: flag });
    }
    const named = /^Option '(?:-(\w), )?--([^' ]+)[^']*' (.*)$/s.exec(message);
    if (named) {
      const name = named[2] as string;
      const label = flagLabel(options, name);
      const rest = named[3] as string;
      if (rest.startsWith('argument missing')) throw new UsageError(`${label} needs a value`, { field: name });
      if (rest.startsWith('argument is ambiguous')) {
        throw new UsageError(`${label} needs a value; a value that starts with "-" is written --${name}=VALUE`, { field: name });
      }
      if (rest.startsWith('does not take an argument')) throw new UsageError(`${label} is a switch and takes no value`, { field: name });
    }
    throw new UsageError((message.split('\n')[0] ?? message).replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** `-n NS`: a Namespace name is a DNS label (RFC 1123), as the API server requires; checked before any request. */
export function checkNamespace(flag: string, ns: string | undefined): void {
  if (ns === undefined) return;
  if (ns === '') throw new UsageError(`${flag} needs a Namespace name, not an empty string`, { field: 'namespace' });
  if (ns.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) {
    throw new UsageError(`${flag} ${JSON.stringify(ns)} is not a Namespace name: lower-case letters, digits and "-", at most 63`, { field: 'namespace' });
  }
}

/** An object NAME argument: kubectl's rules for a name in a URL path (not empty, no "/", not "." or ".."). */
export function checkName(what: string, name: string | undefined): void {
  if (name === undefined) return;
  if (name === '') throw new UsageError(`${what} must not be an empty string`, { field: 'name' });
  if (name.includes('/') || name === '.' || name === '..') {
    throw new UsageError(`${what} ${JSON.stringify(name)} is not an object name: it may not contain "/" nor be "." or ".."`, { field: 'name' });
  }
}

/** A UsageError when a command got more positional arguments than it takes. */
export function noMoreArgs(positionals: readonly string[], max: number, what: string): void {
  const extra = positionals[max];
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}: ${what}`, { field: 'arguments' });
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
}

/** Codes that mean the user's input (a file, a kubeconfig) could not be read or parsed: exit 2, as usage errors. */
const UNREADABLE_INPUT: ReadonlySet<string> = new Set(['ERR_READ_FILE', 'ERR_PARSE', 'ERR_KUBECONFIG', 'ERR_NO_KUBECONFIG', 'ERR_INVALID_VALUE']);

/** Runs a command: errors become one line on stderr (a stack only with ANTREA_DEBUG=1) and an exit code. */
export async function runCommand(io: CliIO, fn: () => Promise<number> | number): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ReportedFailure) return err.exitCode;
    if (err instanceof HelpRequested) {
      io.stdout(err.usage.endsWith('\n') ? err.usage : `${err.usage}\n`);
      return EXIT_OK;
    }
    const message = describeError(err);
    io.stderr(`error: ${message}\n`);
    if (io.env.ANTREA_DEBUG === '1' && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    if (err instanceof UsageError) return EXIT_USAGE;
    if (isAntreaError(err) && UNREADABLE_INPUT.has(err.code)) return EXIT_USAGE;
    return EXIT_FAILED;
  }
}
