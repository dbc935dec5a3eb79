/**
 * Field-level validation the way the Kubernetes API server does it: validators return `FieldError[]` (every
 * problem, not just the first), and `invalidStatus` turns them into the 422 `Invalid` Status whose
 * `details.causes` name each field. Name, label and IP syntax checks live here so every resource shares them.
 */
import { isIP } from 'node:net';
import type { Status, StatusCause } from './meta.js';

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with indices: `spec.containers[0].ports[1].containerPort`. */
  field: string;
  value?: unknown;
  detail?: string;
}

export const required = (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, ...(detail ? { detail } : {}) });
export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
export const notSupported = (field: string, value: unknown, valid: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  value,
  detail: `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}`,
});
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
export const tooLong = (field: string, value: unknown, max: number): FieldError => ({
  type: 'FieldValueTooLong',
  field,
  value,
  detail: `may not be more than ${max} bytes`,
});
export const typeInvalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail });

function shortValue(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** The text Kubernetes puts after the field name: `Required value`, `Invalid value: "A": detail`, ... */
export function fieldErrorMessage(e: FieldError): string {
  const d = e.detail ? `: ${e.detail}` : '';
  switch (e.type) {
    case 'FieldValueRequired':
      return `Required value${d}`;
    case 'FieldValueInvalid':
      return `Invalid value: ${shortValue(e.value)}${d}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${shortValue(e.value)}${d}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${shortValue(e.value)}`;
    case 'FieldValueForbidden':
      return `Forbidden${d}`;
    case 'FieldValueTooLong':
      return `Too long${d}`;
    case 'FieldValueTypeInvalid':
      return `Invalid value: ${shortValue(e.value)}${d}`;
    case 'FieldValueNotFound':
      return `Not found: ${shortValue(e.value)}`;
  }
}

export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${fieldErrorMessage(e)}`;
}

/** The 422 Status for a failed validation: `Pod "p1" is invalid: [a: ..., b: ...]` with one cause per error. */
export function invalidStatus(kind: string, name: string, errors: readonly FieldError[], group = ''): Status {
  const causes: StatusCause[] = errors.map((e) => ({ reason: e.type, message: fieldErrorMessage(e), field: e.field }));
  const list = errors.map(fieldErrorString);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${kind} "${name}" is invalid: ${joined}`,
    reason: 'Invalid',
    details: { name, ...(group ? { group } : {}), kind, causes },
    code: 422,
  };
}

// ---- syntax checks: each returns the list of problems as strings (empty = valid), like k8s.io/apimachinery ----

const dns1123LabelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123SubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035LabelRe = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedNameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isDNS1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!dns1123LabelRe.test(v)) {
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

export function isDNS1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push('must be no more than 253 characters');
  if (!dns1123SubdomainRe.test(v)) {
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return out;
}

export function isDNS1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!dns1035LabelRe.test(v)) {
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name 1..63 characters. */
export function isQualifiedName(v: string): string[] {
  const parts = v.split('/');
  let name: string;
  const out: string[] = [];
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else for (const msg of isDNS1123Subdomain(prefix)) out.push(`prefix part ${msg}`);
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  if (name.length > 0 && !qualifiedNameRe.test(name)) {
    out.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  }
  return out;
}

export function isLabelValue(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!labelValueRe.test(v)) {
    out.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return out;
}

/** An IANA service name (a named port): 1..15 characters, lower case alphanumerics and '-', at least one letter. */
export function isIanaSvcName(v: string): string[] {
  const out: string[] = [];
  if (v.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(v)) out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (v.includes('--')) out.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(v)) out.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) out.push('must not begin or end with a hyphen');
  return out;
}

export function isValidIP(v: string): boolean {
  return isIP(v) !== 0;
}

export function ipFamily(v: string): 4 | 6 | 0 {
  return isIP(v) as 4 | 6 | 0;
}

/** `10.0.0.0/24` or `fd00::/64`: a valid address and a prefix length within its family. */
export function isValidCIDR(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash < 0) return false;
  const fam = isIP(v.slice(0, slash));
  const bits = v.slice(slash + 1);
  if (fam === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (fam === 4 ? 32 : 128);
}

// ---- validators over object fields ----

/** Pushes FieldValueInvalid errors for each message a syntax check returns. */
export function check(errs: FieldError[], field: string, value: string, checker: (v: string) => string[]): void {
  for (const msg of checker(value)) errs.push(invalid(field, value, msg));
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  if (typeof labels !== 'object' || Array.isArray(labels)) return [typeInvalid(field, labels, 'must be an object of string values')];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    check(errs, field, k, isQualifiedName);
    if (typeof v !== 'string') errs.push(typeInvalid(`${field}[${k}]`, v, 'must be a string'));
    else check(errs, field, v, isLabelValue);
  }
  return errs;
}

const totalAnnotationSizeLimit = 256 * 1024;

export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  if (typeof annotations !== 'object' || Array.isArray(annotations)) return [typeInvalid(field, annotations, 'must be an object of string values')];
  let size = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    check(errs, field, k.toLowerCase(), isQualifiedName);
    if (typeof v !== 'string') errs.push(typeInvalid(`${field}[${k}]`, v, 'must be a string'));
    else size += k.length + v.length;
  }
  if (size > totalAnnotationSizeLimit) errs.push(tooLong(field, '', totalAnnotationSizeLimit));
  return errs;
}

export type NameValidator = (name: string) => string[];

/**
 * Metadata checks common to every resource: name (or generateName) syntax, namespace presence matching the scope,
 * labels and annotations.
 */
export function validateObjectMeta(meta: unknown, opts: { namespaced: boolean; nameValidator: NameValidator }): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return [required('metadata')];
  const m = meta as Record<string, unknown>;
  const name = m.name;
  const generateName = m.generateName;
  if (name === undefined || name === '') {
    if (generateName === undefined || generateName === '') errs.push(required('metadata.name', 'name or generateName is required'));
  } else if (typeof name !== 'string') {
    errs.push(typeInvalid('metadata.name', name, 'must be a string'));
  } else {
    check(errs, 'metadata.name', name, opts.nameValidator);
  }
  if (generateName !== undefined && typeof generateName !== 'string') errs.push(typeInvalid('metadata.generateName', generateName, 'must be a string'));
  const ns = m.namespace;
  if (opts.namespaced) {
    if (ns === undefined || ns === '') errs.push(required('metadata.namespace'));
    else if (typeof ns !== 'string') errs.push(typeInvalid('metadata.namespace', ns, 'must be a string'));
    else check(errs, 'metadata.namespace', ns, isDNS1123Label);
  } else if (ns !== undefined && ns !== '') {
    errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  if (m.finalizers !== undefined) {
    if (!Array.isArray(m.finalizers)) errs.push(typeInvalid('metadata.finalizers', m.finalizers, 'must be a list of strings'));
    else {
      m.finalizers.forEach((f, i) => {
        if (typeof f !== 'string') errs.push(typeInvalid(`metadata.finalizers[${i}]`, f, 'must be a string'));
        else check(errs, `metadata.finalizers[${i}]`, f, isQualifiedName);
      });
    }
  }
  return errs;
}

// ---- small type guards that read well in validators ----

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

export const protocols = ['TCP', 'UDP', 'SCTP'] as const;
export type Protocol = (typeof protocols)[number];

/** Checks an optional protocol field against TCP, UDP and SCTP. */
export function validateProtocol(errs: FieldError[], field: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || !(protocols as readonly string[]).includes(v)) errs.push(notSupported(field, v, protocols));
}

export function validatePortNumber(errs: FieldError[], field: string, v: unknown, opts: { required?: boolean } = {}): void {
  if (v === undefined || v === null) {
    if (opts.required) errs.push(required(field));
    return;
  }
  if (!isPort(v)) errs.push(invalid(field, v, 'must be between 1 and 65535, inclusive'));
}

/** Lists of objects: a typed check that the value is an array, calling `each` per element. */
export function eachOf(errs: FieldError[], field: string, v: unknown, each: (item: unknown, path: string, i: number) => void): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) {
    errs.push(typeInvalid(field, v, 'must be a list'));
    return;
  }
  v.forEach((item, i) => each(item, `${field}[${i}]`, i));
}

export function validateOptionalString(errs: FieldError[], field: string, v: unknown): v is string | undefined {
  if (v === undefined || v === null || typeof v === 'string') return true;
  errs.push(typeInvalid(field, v, 'must be a string'));
  return false;
}

export function validateIP(errs: FieldError[], field: string, v: unknown, opts: { required?: boolean } = {}): void {
  if (v === undefined || v === null || v === '') {
    if (opts.required) errs.push(required(field));
    return;
  }
  if (typeof v !== 'string' || !isValidIP(v)) errs.push(invalid(field, v, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
}

export function validateCIDR(errs: FieldError[], field: string, v: unknown): void {
  if (typeof v !== 'string' || !isValidCIDR(v)) errs.push(invalid(field, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
}

export function validateBoolean(errs: FieldError[], field: string, v: unknown): void {
  if (v !== undefined && v !== null && typeof v !== 'boolean') errs.push(typeInvalid(field, v, 'must be a boolean'));
}
