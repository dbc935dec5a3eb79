/**
 * The one label selector implementation of antrea-ts: the string syntax of `?labelSelector=` and `kubectl -l`
 * (`a=b,c!=d,e in (x,y),f notin (z),g,!h`), the `LabelSelector` object of Services and NetworkPolicies
 * (matchLabels + matchExpressions), and matching. A parsed or compiled `Selector` is immutable and matches with
 * one precompiled closure per requirement (no parsing, no allocation per match).
 */
import { AntreaError } from '../util/errors.js';
import { type FieldError, invalid, isLabelValue, isQualifiedName, notSupported, required, isObject, typeInvalid, forbidden } from './validation.js';

export type Labels = Readonly<Record<string, string>>;

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals';

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** Sorted and de-duplicated; one value for Equals/NotEquals, none for Exists/DoesNotExist. */
  readonly values: readonly string[];
}

export interface Selector {
  /** Sorted by key (stable), as Kubernetes does. */
  readonly requirements: readonly Requirement[];
  matches(labels: Labels | undefined | null): boolean;
  /** True when it selects everything (no requirements). `nothing` is not empty but matches nothing. */
  isEverything(): boolean;
  /** Canonical string syntax; `parseSelector(s.toString())` gives an equal selector. */
  toString(): string;
}

/** `metav1.LabelSelector` as it appears in Services, NetworkPolicies and Antrea policies. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** A label selector string that does not parse; `position` is the 0-based character offset of the problem. */
export class SelectorParseError extends AntreaError {
  constructor(
    message: string,
    readonly position: number,
    readonly selector: string,
  ) {
    super('ERR_LABEL_SELECTOR', `unable to parse requirement: ${message} at position ${position} in "${selector}"`, { field: 'labelSelector' });
    this.name = 'SelectorParseError';
  }
}

// ---------------------------------------------------------------- matching

type Matcher = (labels: Labels) => boolean;

function compileRequirement(r: Requirement): Matcher {
  const { key } = r;
  switch (r.operator) {
    case 'Exists':
      return (l) => Object.prototype.hasOwnProperty.call(l, key);
    case 'DoesNotExist':
      return (l) => !Object.prototype.hasOwnProperty.call(l, key);
    case 'Equals': {
      const v = r.values[0]!;
      return (l) => Object.prototype.hasOwnProperty.call(l, key) && l[key] === v;
    }
    case 'NotEquals': {
      const v = r.values[0]!;
      return (l) => !Object.prototype.hasOwnProperty.call(l, key) || l[key] !== v;
    }
    case 'In': {
      if (r.values.length === 1) {
        const v = r.values[0]!;
        return (l) => Object.prototype.hasOwnProperty.call(l, key) && l[key] === v;
      }
      const set = new Set(r.values);
      return (l) => Object.prototype.hasOwnProperty.call(l, key) && set.has(l[key]!);
    }
    case 'NotIn': {
      const set = new Set(r.values);
      return (l) => !Object.prototype.hasOwnProperty.call(l, key) || !set.has(l[key]!);
    }
  }
}

const noLabels: Labels = Object.freeze({});

function formatRequirement(r: Requirement): string {
  switch (r.operator) {
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
    case 'Equals':
      return `${r.key}=${r.values[0]}`;
    case 'NotEquals':
      return `${r.key}!=${r.values[0]}`;
    case 'In':
      return `${r.key} in (${r.values.join(',')})`;
    case 'NotIn':
      return `${r.key} notin (${r.values.join(',')})`;
  }
}

export function formatSelector(requirements: readonly Requirement[]): string {
  return requirements.map(formatRequirement).join(',');
}

function makeSelector(reqs: Requirement[]): Selector {
  const requirements = Object.freeze(reqs.map((r) => Object.freeze({ ...r, values: Object.freeze([...r.values]) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  const matchers = requirements.map(compileRequirement);
  const text = formatSelector(requirements);
  let matches: (labels: Labels | undefined | null) => boolean;
  if (matchers.length === 0) matches = () => true;
  else if (matchers.length === 1) {
    const m = matchers[0]!;
    matches = (l) => m(l ?? noLabels);
  } else {
    matches = (l) => {
      const labels = l ?? noLabels;
      for (const m of matchers) if (!m(labels)) return false;
      return true;
    };
  }
  return Object.freeze({ requirements, matches, isEverything: () => requirements.length === 0, toString: () => text });
}

/** Selects every object (the empty selector). */
export const everything: Selector = makeSelector([]);

/** Selects no object (a null `LabelSelector`). */
export const nothing: Selector = Object.freeze({
  requirements: Object.freeze([]) as readonly Requirement[],
  matches: () => false,
  isEverything: () => false,
  toString: () => '<none>',
});

/**
 * Builds a requirement, checking it the way Kubernetes' `NewRequirement` does. Throws a `SelectorParseError` at
 * `position` (0 when built from an object).
 */
export function newRequirement(
  key: string,
  operator: Operator,
  values: readonly string[],
  ctx: { selector?: string; position?: number; valuePosition?: number } = {},
): Requirement {
  const fail = (msg: string, pos = ctx.position): never => {
    throw new SelectorParseError(msg, pos ?? 0, ctx.selector ?? key);
  };
  const keyProblems = isQualifiedName(key);
  if (keyProblems.length > 0) fail(`invalid label key "${key}": ${keyProblems.join('; ')}`);
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) fail(`for 'in', 'notin' operators, values set can't be empty`);
      break;
    case 'Equals':
    case 'NotEquals':
      if (values.length !== 1) fail(`exact-match compatibility requires one single value`);
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length !== 0) fail(`values set must be empty for exists and does not exist`);
      break;
  }
  for (const v of values) {
    const problems = isLabelValue(v);
    if (problems.length > 0) fail(`invalid label value: "${v}": ${problems.join('; ')}`, ctx.valuePosition ?? ctx.position);
  }
  return { key, operator, values: [...new Set(values)].sort() };
}

// ---------------------------------------------------------------- the string syntax

type TokenKind = 'id' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

const special = new Set(['!', '=', ',', '(', ')', '<', '>']);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '!' && s[i + 1] === '=') {
      out.push({ kind: '!=', text: '!=', pos: start });
      i += 2;
    } else if (c === '=' && s[i + 1] === '=') {
      out.push({ kind: '==', text: '==', pos: start });
      i += 2;
    } else if (c === '!' || c === '=' || c === ',' || c === '(' || c === ')') {
      out.push({ kind: c, text: c, pos: start });
      i++;
    } else if (c === '<' || c === '>') {
      throw new SelectorParseError(`operator '${c}' is not supported`, start, s);
    } else {
      while (i < s.length && !isSpace(s[i]!) && !special.has(s[i]!)) i++;
      const text = s.slice(start, i);
      out.push({ kind: text === 'in' ? 'in' : text === 'notin' ? 'notin' : 'id', text, pos: start });
    }
  }
  out.push({ kind: 'end', text: 'end of string', pos: s.length });
  return out;
}

/**
 * Parses the string syntax. Empty (or blank) selects everything. Errors say what was found, what was expected,
 * and where: `unable to parse requirement: found ')', expected: identifier at position 7 in "a in (x,)"`.
 */
export function parseSelector(s: string): Selector {
  const toks = lex(s);
  let p = 0;
  const peek = () => toks[p]!;
  const next = () => toks[p++]!;
  const fail = (t: Token, expected: string): never => {
    throw new SelectorParseError(`found '${t.text}', expected: ${expected}`, t.pos, s);
  };
  const reqs: Requirement[] = [];
  if (peek().kind === 'end') return everything;
  for (;;) {
    const first = next();
    let negated = false;
    let keyTok = first;
    if (first.kind === '!') {
      negated = true;
      keyTok = next();
    }
    if (keyTok.kind !== 'id' && keyTok.kind !== 'in' && keyTok.kind !== 'notin') fail(keyTok, 'identifier');
    // `in`/`notin` as a key is only legal when not followed by a parenthesis, as in Kubernetes.
    const key = keyTok.text;
    const ctx = { selector: s, position: keyTok.pos };
    const op = peek();
    if (negated) {
      if (op.kind !== ',' && op.kind !== 'end') fail(op, "',' or 'end of string'");
      reqs.push(newRequirement(key, 'DoesNotExist', [], ctx));
    } else if (op.kind === ',' || op.kind === 'end') {
      reqs.push(newRequirement(key, 'Exists', [], ctx));
    } else if (op.kind === '=' || op.kind === '==' || op.kind === '!=') {
      next();
      const v = peek();
      let value = '';
      if (v.kind === 'id' || v.kind === 'in' || v.kind === 'notin') {
        value = v.text;
        next();
      } else if (v.kind !== ',' && v.kind !== 'end') fail(v, 'identifier');
      reqs.push(newRequirement(key, op.kind === '!=' ? 'NotEquals' : 'Equals', [value], { ...ctx, valuePosition: v.pos }));
    } else if (op.kind === 'in' || op.kind === 'notin') {
      next();
      const open = next();
      if (open.kind !== '(') fail(open, "'('");
      const values: string[] = [];
      // identifiers separated by commas; an empty slot is the empty value, as in Kubernetes.
      let expectValue = true;
      for (;;) {
        const t = next();
        if (t.kind === ')') {
          // `()` is the set {""} and a trailing comma adds "", as in Kubernetes.
          if (expectValue) values.push('');
          break;
        }
        if (t.kind === ',') {
          if (expectValue) values.push('');
          expectValue = true;
          continue;
        }
        if ((t.kind === 'id' || t.kind === 'in' || t.kind === 'notin') && expectValue) {
          values.push(t.text);
          expectValue = false;
          continue;
        }
        fail(t, expectValue ? "identifier or ')'" : "',' or ')'");
      }
      reqs.push(newRequirement(key, op.kind === 'in' ? 'In' : 'NotIn', values, ctx));
    } else {
      fail(op, 'in, notin, =, ==, !=');
    }
    const sep = next();
    if (sep.kind === 'end') break;
    if (sep.kind !== ',') fail(sep, "',' or 'end of string'");
    if (peek().kind === 'end') fail(peek(), 'identifier');
  }
  return makeSelector(reqs);
}

// ---------------------------------------------------------------- the object form

/** Equality on every key of a map, as in a Service's `spec.selector`. An empty map selects everything. */
export function selectorFromSet(set: Readonly<Record<string, string>> | undefined | null): Selector {
  if (!set) return everything;
  return makeSelector(Object.entries(set).map(([k, v]) => newRequirement(k, 'Equals', [v])));
}

/**
 * Compiles a `LabelSelector` object. `null`/`undefined` selects **nothing** and `{}` selects **everything**, as in
 * Kubernetes' `LabelSelectorAsSelector`. Throws a `SelectorParseError` for an invalid selector; call
 * `validateLabelSelector` first to get field errors instead.
 */
export function compileLabelSelector(sel: LabelSelector | undefined | null): Selector {
  if (sel === undefined || sel === null) return nothing;
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push(newRequirement(k, 'Equals', [v]));
  for (const e of sel.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) {
      throw new SelectorParseError(`"${e.operator}" is not a valid label selector operator`, 0, e.key);
    }
    reqs.push(newRequirement(e.key, e.operator, e.values ?? []));
  }
  return makeSelector(reqs);
}

/** Matches labels against a `LabelSelector` object (compiles it each call: compile once for hot paths). */
export function matchesLabelSelector(sel: LabelSelector | undefined | null, labels: Labels | undefined | null): boolean {
  return compileLabelSelector(sel).matches(labels);
}

/** Field errors for a `LabelSelector` object at `field` (e.g. `spec.podSelector`). */
export function validateLabelSelector(sel: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (sel === undefined || sel === null) return errs;
  if (!isObject(sel)) return [typeInvalid(field, sel, 'must be an object')];
  const ml = sel.matchLabels;
  if (ml !== undefined && ml !== null) {
    if (!isObject(ml)) errs.push(typeInvalid(`${field}.matchLabels`, ml, 'must be an object of string values'));
    else {
      for (const [k, v] of Object.entries(ml)) {
        for (const m of isQualifiedName(k)) errs.push(invalid(`${field}.matchLabels`, k, m));
        if (typeof v !== 'string') errs.push(typeInvalid(`${field}.matchLabels[${k}]`, v, 'must be a string'));
        else for (const m of isLabelValue(v)) errs.push(invalid(`${field}.matchLabels`, v, m));
      }
    }
  }
  const me = sel.matchExpressions;
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) errs.push(typeInvalid(`${field}.matchExpressions`, me, 'must be a list'));
    else {
      me.forEach((e: unknown, i) => {
        const p = `${field}.matchExpressions[${i}]`;
        if (!isObject(e)) {
          errs.push(typeInvalid(p, e, 'must be an object'));
          return;
        }
        if (typeof e.key !== 'string' || e.key === '') errs.push(required(`${p}.key`));
        else for (const m of isQualifiedName(e.key)) errs.push(invalid(`${p}.key`, e.key, m));
        const values = e.values;
        if (values !== undefined && values !== null && (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))) {
          errs.push(typeInvalid(`${p}.values`, values, 'must be a list of strings'));
          return;
        }
        const vs = (values ?? []) as string[];
        switch (e.operator) {
          case 'In':
          case 'NotIn':
            if (vs.length === 0) errs.push(required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
            break;
          case 'Exists':
          case 'DoesNotExist':
            if (vs.length > 0) errs.push(forbidden(`${p}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
            break;
          default:
            errs.push(notSupported(`${p}.operator`, e.operator, ['In', 'NotIn', 'Exists', 'DoesNotExist']));
        }
        vs.forEach((v, j) => {
          for (const m of isLabelValue(v)) errs.push(invalid(`${p}.values[${j}]`, v, m));
        });
      });
    }
  }
  return errs;
}
