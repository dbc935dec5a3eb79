/** What the antrea-agent, antrea-controller and `antrea local up` commands share: conf loading with clear errors, a logger from --log-level, and running until a signal. */
import { formatConfigProblem, loadConfFile, type ComponentName, type ConfigProblem, type LoadedConf } from '../config/index.js';
import { createLogger, parseLogLevel, type Logger } from '../util/log.js';
import { describeError } from '../util/errors.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, ReportedFailure, UsageError, type CliIO } from './io.js';

export function loadConfOrFail(io: CliIO, path: string, component: ComponentName): NonNullable<LoadedConf['resolved']> {
  const loaded = loadConfFile(path, component);
  // An unreadable file's message already names it: without this the line would read `PATH: cannot read PATH: ...`.
  for (const p of loaded.problems) io.stderr(`${formatConfigProblem(p.code === 'ERR_FILE_UNREADABLE' ? { ...p, file: undefined } : p)}\n`);
  const exit = problemsExit(loaded.problems);
  if (exit !== EXIT_OK) throw new ReportedFailure(exit);
  if (!loaded.resolved) throw new ReportedFailure(EXIT_FAILED);
  return loaded.resolved;
}

/** Problems that mean the input could not be read at all: exit 2 rather than 1. */
const UNREADABLE = new Set(['ERR_FILE_UNREADABLE', 'ERR_MALFORMED_YAML']);

/** The exit code for a list of config problems: 2 when the input cannot be read or parsed, 1 for any other error, else 0. */
export function problemsExit(problems: readonly ConfigProblem[]): number {
  if (problems.some((p) => p.severity === 'error' && UNREADABLE.has(p.code))) return EXIT_USAGE;
  return problems.some((p) => p.severity === 'error') ? EXIT_FAILED : EXIT_OK;
}

export function processLogger(io: CliIO, level: string | undefined): Logger {
  try {
    return createLogger({ level: parseLogLevel(level ?? 'info'), sink: (l) => io.stderr(`${l}\n`), format: io.isTTY ? 'text' : 'json' });
  } catch (err) {
    throw new UsageError(`--log-level: ${describeError(err)}`);
  }
}

export function untilStopped(io: CliIO): Promise<void> {
  return new Promise<void>((done) => {
    if (!io.stopSignal || io.stopSignal.aborted) return done();
    io.stopSignal.addEventListener('abort', () => done(), { once: true });
  });
}
