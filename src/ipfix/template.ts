import { IpfixError } from './errors.js';
import { defaultRegistry, type IeRegistry, type InformationElement } from './registry.js';
import { defaultLength, isValidLength, typeCodes, VARIABLE_LENGTH, type IpfixRecord, type IpfixValue, type TypeCode } from './types.js';

export interface TemplateField {
  readonly ie: InformationElement;
  /** Encoded length; 0xFFFF for variable-length encoding. */
  readonly length: number;
  /** @internal Dispatch code for the codec's switch. */
  readonly code: TypeCode;
}

export interface Template {
  /** 256..65535 */
  readonly id: number;
  readonly fields: readonly TemplateField[];
  /** Options templates (set id 3) name their first `scopeFieldCount` fields as scope; 0 for data templates. */
  readonly scopeFieldCount: number;
  /** Smallest possible record: every variable-length field empty (one length octet). */
  readonly minRecordLength: number;
  /** Record length when no field is variable-length, else -1. */
  readonly fixedRecordLength: number;
  /** @internal Field names, in order, for building and reading records without touching `ie`. */
  readonly names: readonly string[];
  /** @internal Builds a record from values in field order (see makeRecordBuilder). */
  readonly build: (values: readonly IpfixValue[]) => IpfixRecord;
}

/** A field of a template to define: an IE name, or a name with a reduced (or fixed string) length. */
export type FieldSpec = string | { readonly name: string; readonly length?: number } | {
  readonly ie: InformationElement;
  readonly length?: number;
};

export const MIN_TEMPLATE_ID = 256;
export const MAX_TEMPLATE_ID = 65535;

/** Builds a template from already-resolved fields; the decoder uses this for templates received on the wire. */
export function makeTemplate(id: number, fields: readonly TemplateField[], scopeFieldCount = 0): Template {
  let min = 0;
  let variable = false;
  for (const f of fields) {
    if (f.length === VARIABLE_LENGTH) {
      min += 1;
      variable = true;
    } else min += f.length;
  }
  return Object.freeze({
    id,
    fields: Object.freeze([...fields]),
    scopeFieldCount,
    minRecordLength: min,
    fixedRecordLength: variable ? -1 : min,
    names: Object.freeze(fields.map((f) => f.ie.name)),
    build: makeRecordBuilder(fields.map((f) => f.ie.name)),
  });
}

/**
 * A function returning an object literal with the template's keys. Records built key by key (`rec[name] = v`) fall
 * into V8's slow dictionary mode beyond a dozen properties, and Antrea records have 37; an object literal keeps one
 * hidden class per template, which makes decoding and every later read of the record several times faster. Keys
 * are embedded with JSON.stringify, so no name can inject code; a `__proto__` key is computed so it stays an
 * ordinary property.
 */
function makeRecordBuilder(names: readonly string[]): (values: readonly IpfixValue[]) => IpfixRecord {
  if (names.length > 4096) {
    return (values) => {
      const rec: IpfixRecord = {};
      for (let i = 0; i < names.length; i++) rec[names[i]!] = values[i]!;
      return rec;
    };
  }
  const body = names.map((n, i) => `${n === '__proto__' ? `[${JSON.stringify(n)}]` : JSON.stringify(n)}: v[${i}]`).join(',\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('v', `return {\n${body}\n};`) as (values: readonly IpfixValue[]) => IpfixRecord;
}

export function makeField(ie: InformationElement, length?: number): TemplateField {
  const len = length ?? defaultLength[ie.type];
  if (!isValidLength(ie.type, len)) {
    throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `field ${ie.name}: length ${len} is not valid for type ${ie.type}`, {
      field: ie.name,
    });
  }
  return Object.freeze({ ie, length: len, code: typeCodes[ie.type] });
}

/**
 * Defines a template for encoding. Fields are IE names from the registry (default: IANA, reverse and Antrea IEs);
 * give `{name, length}` for reduced-size encoding (an unsigned64 counter in 4 octets) or a fixed-length string.
 */
export function defineTemplate(
  id: number,
  fields: readonly FieldSpec[],
  opts: { registry?: IeRegistry; scopeFieldCount?: number } = {},
): Template {
  if (!Number.isInteger(id) || id < MIN_TEMPLATE_ID || id > MAX_TEMPLATE_ID) {
    throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template id ${id} is not in ${MIN_TEMPLATE_ID}..${MAX_TEMPLATE_ID}`);
  }
  if (fields.length === 0 || fields.length > 0xffff) {
    throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template ${id}: needs 1..65535 fields, got ${fields.length}`);
  }
  const scope = opts.scopeFieldCount ?? 0;
  if (!Number.isInteger(scope) || scope < 0 || scope > fields.length) {
    throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template ${id}: scope field count ${scope} is out of range`);
  }
  const registry = opts.registry ?? defaultRegistry;
  const resolved = fields.map((spec) => {
    if (typeof spec === 'string') return makeField(registry.get(spec));
    if ('ie' in spec) return makeField(spec.ie, spec.length);
    return makeField(registry.get(spec.name), spec.length);
  });
  const t = makeTemplate(id, resolved, scope);
  if (t.minRecordLength === 0) {
    throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template ${id}: every field has length 0, records would be empty`);
  }
  // The template record itself must fit in a set of one message.
  if (templateRecordLength(t) + 4 + 16 > 0xffff) {
    throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template ${id}: too many fields to fit in a message`);
  }
  return t;
}

/** Octets of the template record on the wire (header + field specifiers, enterprise numbers included). */
export function templateRecordLength(t: Template): number {
  let n = t.scopeFieldCount > 0 ? 6 : 4;
  for (const f of t.fields) n += f.ie.enterprise === 0 ? 4 : 8;
  return n;
}
