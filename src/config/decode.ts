/**
 * Strict decoding of a conf mapping against its schema, as Antrea's `yaml.UnmarshalStrict` does: an unknown key is
 * an error (with the closest known key as a suggestion), a value of the wrong type is an error naming the key and
 * the expected type, null means "not set". Every problem is collected.
 */
import { closestName } from '../featuregate/index.js';
import { error, type Issue } from './problems.js';
import type { KeySpec, Schema, ValueType } from './schema.js';

export interface Decoded {
  /** Only the keys present (and of the right type), nested like the input. */
  values: Record<string, unknown>;
  issues: Issue[];
}

const EXPECTED: Readonly<Record<ValueType, string>> = {
  string: 'a string',
  boolean: 'a boolean (true or false)',
  integer: 'an integer',
  number: 'a number',
  stringList: 'a list of strings',
  gateMap: 'a mapping of feature names to true or false',
  object: 'a mapping',
};

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Date);
}

export function decode(raw: Readonly<Record<string, unknown>>, schema: Schema, prefix = ''): Decoded {
  const values: Record<string, unknown> = {};
  const issues: Issue[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const key = prefix + name;
    const spec = schema[name];
    if (!spec) {
      const closest = closestName(name, Object.keys(schema));
      issues.push(error('ERR_UNKNOWN_KEY', `unknown key ${JSON.stringify(name)}${closest ? ` (did you mean ${closest}?)` : ''}`, { key }));
      continue;
    }
    if (value === null || value === undefined) continue;
    const converted = convert(value, spec, key, issues);
    if (converted !== undefined) values[name] = converted;
  }
  return { values, issues };
}

function typeIssue(key: string, spec: KeySpec, value: unknown, hint = ''): Issue {
  return error('ERR_INVALID_TYPE', `must be ${EXPECTED[spec.type]}, not ${describe(value)}${hint}`, { key });
}

const YAML11_BOOLS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

function convert(value: unknown, spec: KeySpec, key: string, issues: Issue[]): unknown {
  switch (spec.type) {
    case 'string':
      // yaml.v2 stores any scalar in a string field: `tlsMinVersion: 1.2` is "1.2".
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return String(value);
      issues.push(typeIssue(key, spec, value));
      return undefined;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      issues.push(
        typeIssue(key, spec, value, typeof value === 'string' && YAML11_BOOLS.test(value) ? ' (YAML 1.1 yes/no/on/off are not booleans here; write true or false)' : ''),
      );
      return undefined;
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      issues.push(typeIssue(key, spec, value));
      return undefined;
    case 'number':
      if (typeof value === 'number') return value;
      issues.push(typeIssue(key, spec, value));
      return undefined;
    case 'stringList': {
      if (!Array.isArray(value)) {
        issues.push(typeIssue(key, spec, value));
        return undefined;
      }
      const out: string[] = [];
      value.forEach((item: unknown, i: number) => {
        if (typeof item === 'string') out.push(item);
        else if (typeof item === 'number') out.push(String(item));
        else issues.push(error('ERR_INVALID_TYPE', `item ${i} must be a string, not ${describe(item)}`, { key }));
      });
      return out;
    }
    case 'gateMap':
      // Values are checked by the feature gate, which names each gate.
      if (isPlainObject(value)) return { ...value };
      issues.push(typeIssue(key, spec, value));
      return undefined;
    case 'object': {
      if (!isPlainObject(value)) {
        issues.push(typeIssue(key, spec, value));
        return undefined;
      }
      const inner = decode(value, spec.children ?? {}, `${key}.`);
      issues.push(...inner.issues);
      return inner.values;
    }
  }
}
