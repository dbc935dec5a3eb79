/** What the antrea-agent and antrea-controller commands share: conf loading with clear errors, and running until a signal. */
import { formatConfigProblem, loadConfFile, type ComponentName, type LoadedConf } from '../config/index.js';
import { createLogger, parseLogLevel, type Logger } from '../util/log.js';
import { describeError } from '../util/errors.js';
import { ReportedFailure, UsageError, type CliIO } from './io.js';

export function loadConfOrFail(io: CliIO, path: string, component: ComponentName): NonNullable<LoadedConf['resolved']> {
  const loaded = loadConfFile(path, component);
  for (const p of loaded.problems) io.stderr(`${formatConfigProblem(p)}\n`);
  if (!loaded.resolved || loaded.problems.some((p) => p.severity === 'error')) throw new ReportedFailure(1);
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
