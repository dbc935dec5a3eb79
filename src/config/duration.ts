/**
 * Go's `time.ParseDuration`, which Antrea uses for the flow exporter's intervals and timeouts: a signed sequence of
 * decimal numbers, each with an optional fraction and a unit (`ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`), e.g.
 * `300ms`, `1.5h`, `2h45m`. A bare `0` is allowed; any other number needs a unit.
 */

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's limit: durations are int64 nanoseconds. */
const MAX_NS = 2 ** 63 - 1;

const ITEM = /^(\d*)(?:\.(\d*))?([a-zµμ]*)/;

/** Nanoseconds, or an error message in Go's words. */
export function parseDuration(text: string): { ns: number } | { error: string } {
  const quoted = JSON.stringify(text);
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return { ns: 0 };
  if (rest === '') return { error: `time: invalid duration ${quoted}` };
  let total = 0;
  while (rest !== '') {
    const m = ITEM.exec(rest);
    if (!m || m[0] === '') return { error: `time: invalid duration ${quoted}` };
    const whole = m[1] ?? '';
    const frac = m[2];
    const unit = m[3] ?? '';
    if (whole === '' && (frac === undefined || frac === '')) return { error: `time: invalid duration ${quoted}` };
    if (unit === '') return { error: `time: missing unit in duration ${quoted}` };
    const scale = UNIT_NS[unit];
    if (scale === undefined) return { error: `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}` };
    total += Number(`${whole === '' ? '0' : whole}.${frac ?? '0'}`) * scale;
    if (total > MAX_NS) return { error: `time: invalid duration ${quoted}` };
    rest = rest.slice(m[0].length);
  }
  return { ns: negative ? -total : total };
}

/** `5s`, `1m30s`, `250ms`: a short rendering of a nanosecond count, in Go's `Duration.String()` style. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let abs = Math.abs(ns);
  if (abs < 1e3) return `${sign}${abs}ns`;
  if (abs < 1e6) return `${sign}${trim(abs / 1e3)}µs`;
  if (abs < 1e9) return `${sign}${trim(abs / 1e6)}ms`;
  let out = '';
  const h = Math.floor(abs / 3600e9);
  abs -= h * 3600e9;
  const m = Math.floor(abs / 60e9);
  abs -= m * 60e9;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  return `${sign}${out}${trim(abs / 1e9)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
