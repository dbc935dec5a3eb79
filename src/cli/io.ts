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

/** node:util parseArgs, with every parse failure turned into a UsageError naming the flag. */
export function parseFlags<T extends Options>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${describeError(err).replace(/\. To specify a positional argument.*$/s, '')}\n${usage}`);
  }
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
}

/** Runs a command: errors become one line on stderr (a stack only with ANTREA_DEBUG=1) and an exit code. */
export async function runCommand(io: CliIO, fn: () => Promise<number> | number): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ReportedFailure) return err.exitCode;
    const message = describeError(err);
    io.stderr(`error: ${message}\n`);
    if (io.env.ANTREA_DEBUG === '1' && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    if (err instanceof UsageError) return EXIT_USAGE;
    if (isAntreaError(err) && (err.code === 'ERR_READ_FILE' || err.code === 'ERR_PARSE')) return EXIT_USAGE;
    return EXIT_FAILED;
  }
}
