/**
 * One small structured logger. Text for people on a TTY, JSON lines otherwise. Library code takes a Logger and never
 * writes to the console itself.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, unknown>;

const order: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** Logs a warning the first time a key is seen: for conditions a user must act on, not per event. */
  warnOnce(key: string, msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  sink?: (line: string) => void;
  fields?: LogFields;
}

export function parseLogLevel(value: string): LogLevel {
  if (value === 'error' || value === 'warn' || value === 'info' || value === 'debug') return value;
  throw new Error(`log level "${value}" is not one of error, warn, info, debug`);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? (process.env.ANTREA_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const format = opts.format ?? (process.stderr.isTTY ? 'text' : 'json');
  const sink = opts.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const seen = new Set<string>();
  const make = (base: LogFields): Logger => {
    const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
      if (order[lvl] > order[level]) return;
      const all = { ...base, ...fields };
      if (format === 'json') {
        sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...all }));
      } else {
        const kv = Object.entries(all)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        sink(`${lvl.toUpperCase().padEnd(5)} ${msg}${kv ? ` ${kv}` : ''}`);
      }
    };
    return {
      error: (m, f) => emit('error', m, f),
      warn: (m, f) => emit('warn', m, f),
      info: (m, f) => emit('info', m, f),
      debug: (m, f) => emit('debug', m, f),
      warnOnce: (key, m, f) => {
        if (seen.has(key)) return;
        seen.add(key);
        emit('warn', m, f);
      },
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(opts.fields ?? {});
}

/** A logger that keeps its lines in memory, for tests. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, format: 'json', sink: (l) => lines.push(l) });
  return Object.assign(logger, { lines });
}

export const silentLogger: Logger = createLogger({ level: 'error', sink: () => undefined });
