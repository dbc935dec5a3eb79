/**
 * Keys that a conf sets but antrea-ts does not act on (accepted for compatibility with Antrea 1.5 manifests), and
 * deprecated keys: warnings, one per key that is present.
 */
import { warning, type Issue } from './problems.js';
import type { Schema } from './schema.js';

export function keyNotices(values: Readonly<Record<string, unknown>>, schema: Schema, prefix = ''): Issue[] {
  const issues: Issue[] = [];
  for (const [name, value] of Object.entries(values)) {
    const spec = schema[name];
    if (!spec || value === undefined) continue;
    const key = prefix + name;
    if (spec.deprecated) {
      issues.push(warning('WARN_DEPRECATED_KEY', `the ${name} option is deprecated, please ${spec.deprecated} instead`, { key }));
    }
    if (spec.unused) {
      issues.push(warning('WARN_KEY_NOT_USED', `accepted for compatibility with Antrea but not used by antrea-ts: ${spec.unused}`, { key }));
      continue;
    }
    if (spec.origin === 'antrea-ts') {
      issues.push(warning('WARN_ANTREA_TS_KEY', 'an antrea-ts key that Antrea does not know; Antrea would refuse this conf', { key }));
    }
    if (spec.type === 'object' && spec.children && typeof value === 'object' && value !== null) {
      issues.push(...keyNotices(value as Record<string, unknown>, spec.children, `${key}.`));
    }
  }
  return issues;
}
