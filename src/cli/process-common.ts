/** What the antrea-agent, antrea-controller and `antrea local up` commands share: conf loading with clear errors, a logger from --log-level, and running until a signal. */
import { formatConfigProblem, loadConfFile, type ComponentName, type LoadedConf } from '../config/index.js';
import { createLogger, parseLogLevel, type Logger } from '../util/log.js';
import { describeError } from '../util/errors.js';
import { EXIT_FAILED, EXIT_USAGE, ReportedFailure, UsageError, type CliIO } from './io.js';

export function loadConfOrFail(io: CliIO, path: string, component: ComponentName): NonNullable<LoadedConf['resolved']> {
  const loaded = loadConfFile(path, component);
  // An unreadable file's message already names it: without this the line would read `PATH: cannot read PATH: ...`.
  for (const p of loaded.problems) io.stderr(`${formatConfigProblem(p.code === 'ERR_FILE_UNREADABLE' ? { ...p, file: undefined } : p)}\n`);
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  // Input that cannot be read or parsed is exit 2, as for antctl featuregates check; a conf that loads but is wrong is 1.
  if (errors.some((p) => p.code === 'ERR_FILE_UNREADABLE' || p.code === 'ERR_MALFORMED_YAML')) throw new ReportedFailure(EXIT_USAGE);
  if (!loaded.resolved || errors.length > 0) throw new ReportedFailure(EXIT_FAILED);
  return loaded.resolved;
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
