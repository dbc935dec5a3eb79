/**
 * Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Failed`): only `=`, `==` and `!=`, comma-joined,
 * on `metadata.name`, `metadata.namespace` and the fields the resource declares in the registry.
 */
import type { KubeObject } from '../apis/meta.js';
import type { FieldGetter, ResourceDef } from './registry.js';
import { ApiError } from './types.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
  get: FieldGetter;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  matches(obj: KubeObject): boolean;
  /** The value an indexed field must equal (`spec.nodeName=n1`), if the selector pins one. */
  pinned(field: string): string | undefined;
}

const nameGetter: FieldGetter = (o) => o.metadata.name ?? '';
const namespaceGetter: FieldGetter = (o) => o.metadata.namespace ?? '';

function fieldGetter(def: ResourceDef, field: string): FieldGetter | undefined {
  if (field === 'metadata.name') return nameGetter;
  if (field === 'metadata.namespace') return namespaceGetter;
  return Object.prototype.hasOwnProperty.call(def.fields, field) ? def.fields[field] : undefined;
}

const everyField: FieldSelector = { requirements: [], matches: () => true, pinned: () => undefined };

/** Parses a field selector for a resource; unknown fields and bad syntax are 400 BadRequest, as on a real server. */
export function parseFieldSelector(def: ResourceDef, s: string | undefined): FieldSelector {
  if (s === undefined || s.trim() === '') return everyField;
  const reqs: FieldRequirement[] = [];
  for (const partRaw of splitTerms(s)) {
    const part = partRaw.trim();
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(part);
    if (!m) throw ApiError.of('BadRequest', `invalid field selector: "${part}": expected <field>=<value>, <field>==<value> or <field>!=<value>`);
    const field = m[1]!.trim();
    const get = fieldGetter(def, field);
    if (!get) throw ApiError.of('BadRequest', `field label not supported: ${field}`);
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!.trim()), get });
  }
  const matches = (obj: KubeObject): boolean => {
    for (const r of reqs) if ((r.get(obj) === r.value) !== (r.op === '=')) return false;
    return true;
  };
  return {
    requirements: reqs,
    matches,
    pinned: (field) => reqs.find((r) => r.field === field && r.op === '=')?.value,
  };
}

/** Splits on commas not escaped with a backslash (Kubernetes escapes `\,`, `\=` and `\\` in values). */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}
