import { toHex } from './addr.js';
import { defaultRegistry, type IeRegistry } from './registry.js';
import { type Template } from './template.js';
import { type IpfixDataType, type IpfixRecord, type IpfixValue } from './types.js';

export type JsonValue = string | number | boolean | null;
export type JsonRecord = Record<string, JsonValue>;

/**
 * How a decoded record becomes JSON (what `antctl flows collect` prints, one object per record):
 * - keys are IE names, in template order;
 * - 64-bit integers are JSON numbers when they are safe integers (|n| <= 2^53 - 1), else decimal strings;
 * - addresses are their text form (`10.0.0.1`, `fd00::1`, `aa:bb:cc:dd:ee:ff`);
 * - timestamps (every dateTime* type) are RFC 3339 UTC strings with as many fraction digits as the type carries:
 *   none for seconds, 3 for milliseconds, 6 for microseconds, 9 for nanoseconds;
 * - octetArray values are lower-case hex strings; booleans stay booleans; NaN and infinities become null.
 * Types come from the template when given, else from the registry by name.
 */
export function recordToJson(record: IpfixRecord, template?: Template, registry: IeRegistry = defaultRegistry): JsonRecord {
  const out: JsonRecord = {};
  const types = template ? new Map(template.fields.map((f) => [f.ie.name, f.ie.type])) : undefined;
  for (const name of Object.keys(record)) {
    const type = types?.get(name) ?? registry.byNameOrUndefined(name)?.type;
    out[name] = valueToJson(record[name]!, type);
  }
  return out;
}

export function valueToJson(v: IpfixValue, type?: IpfixDataType): JsonValue {
  switch (type) {
    case 'dateTimeSeconds':
      if (typeof v === 'number') return isoFromMillis(v * 1000, 0);
      break;
    case 'dateTimeMilliseconds':
      if (typeof v === 'number') return isoFromMillis(v, 3);
      break;
    case 'dateTimeMicroseconds':
      if (typeof v === 'bigint') return isoFromBig(v, 1000000n, 6);
      break;
    case 'dateTimeNanoseconds':
      if (typeof v === 'bigint') return isoFromBig(v, 1000000000n, 9);
      break;
    default:
      break;
  }
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v instanceof Uint8Array) return toHex(v);
  return v;
}

function isoFromMillis(ms: number, digits: 0 | 3): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return digits === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

function isoFromBig(v: bigint, per: bigint, digits: number): string {
  let secs = v / per;
  let frac = v % per;
  if (frac < 0n) {
    frac += per;
    secs -= 1n;
  }
  const base = isoFromMillis(Number(secs) * 1000, 0);
  return `${base.slice(0, 19)}.${frac.toString().padStart(digits, '0')}Z`;
}

/** One JSON line per record, for streaming output. */
export function recordToJsonLine(record: IpfixRecord, template?: Template): string {
  return JSON.stringify(recordToJson(record, template));
}
