import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compileLabelSelector,
  everything,
  formatSelector,
  nothing,
  parseSelector,
  selectorFromSet,
  SelectorParseError,
  validateLabelSelector,
  type Operator,
  type Requirement,
} from './labels.js';

// ---- generators of valid keys, values and requirements

const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
const inner = fc.constantFrom(...'abcxyz019-_.'.split(''));
const namePart = fc
  .tuple(alnum, fc.array(inner, { maxLength: 8 }), alnum)
  .map(([a, mid, b]) => a + mid.join('') + b)
  .filter((s) => s.length <= 63);
const dnsLabel = fc
  .tuple(fc.constantFrom(...'abcz09'.split('')), fc.array(fc.constantFrom(...'abz09-'.split('')), { maxLength: 6 }), fc.constantFrom(...'abz09'.split('')))
  .map(([a, m, b]) => a + m.join('') + b);
const key = fc.oneof(namePart, fc.tuple(fc.array(dnsLabel, { minLength: 1, maxLength: 3 }), namePart).map(([p, n]) => `${p.join('.')}/${n}`));
// `in`/`notin` are legal values; the empty value is legal too.
const value = fc.oneof(namePart, fc.constant(''), fc.constantFrom('in', 'notin'));

const requirement: fc.Arbitrary<Requirement> = fc.oneof(
  fc.record({ key, operator: fc.constantFrom<Operator>('Equals', 'NotEquals'), values: value.map((v) => [v]) }),
  fc.record({ key, operator: fc.constantFrom<Operator>('In', 'NotIn'), values: fc.uniqueArray(value, { minLength: 1, maxLength: 4 }).map((v) => [...v].sort()) }),
  fc.record({ key, operator: fc.constantFrom<Operator>('Exists', 'DoesNotExist'), values: fc.constant([] as string[]) }),
);

const labels = fc.dictionary(fc.oneof(key, fc.constantFrom('app', 'tier', 'env')), fc.oneof(value, fc.constantFrom('web', 'db')), { maxKeys: 6 });

function reference(r: Requirement, l: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(l, r.key);
  switch (r.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Equals':
    case 'In':
      return has && r.values.includes(l[r.key]!);
    case 'NotEquals':
    case 'NotIn':
      return !has || !r.values.includes(l[r.key]!);
  }
}

test('format then parse gives the same selector (round trip)', () => {
  fc.assert(
    fc.property(fc.array(requirement, { maxLength: 5 }), (reqs) => {
      const text = reqs
        .map((r) => {
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
              return `${r.key} notin (${r.values.join(', ')})`;
          }
        })
        .join(' , ');
      const parsed = parseSelector(text);
      const again = parseSelector(parsed.toString());
      assert.deepEqual(again.requirements, parsed.requirements);
      assert.equal(again.toString(), parsed.toString());
      assert.equal(parsed.requirements.length, reqs.length);
    }),
    { numRuns: 500 },
  );
});

test('matching agrees with the definition of each operator (AND of requirements)', () => {
  fc.assert(
    fc.property(fc.array(requirement, { maxLength: 4 }), labels, (reqs, l) => {
      const sel = parseSelector(reqs.map((r) => formatOne(r)).join(','));
      assert.equal(sel.matches(l), reqs.every((r) => reference(r, l)));
    }),
    { numRuns: 1000 },
  );
});

test('the object form (matchLabels + matchExpressions) matches like the string form', () => {
  const expr = fc.oneof(
    fc.record({ key, operator: fc.constantFrom<'In' | 'NotIn'>('In', 'NotIn'), values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }) }),
    fc.record({ key, operator: fc.constantFrom<'Exists' | 'DoesNotExist'>('Exists', 'DoesNotExist') }),
  );
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 3 }), fc.array(expr, { maxLength: 3 }), labels, (ml, me, l) => {
      const sel = compileLabelSelector({ matchLabels: ml, matchExpressions: me });
      const expected = Object.entries(ml).every(([k, v]) => l[k] === v && k in l) && me.every((e) => reference({ key: e.key, operator: e.operator, values: 'values' in e ? e.values : [] }, l));
      assert.equal(sel.matches(l), expected);
      assert.equal(parseSelector(sel.toString()).matches(l), expected);
      assert.deepEqual(validateLabelSelector({ matchLabels: ml, matchExpressions: me }, 'spec.selector'), []);
    }),
    { numRuns: 500 },
  );
});

/** One requirement in the string syntax, through the library formatter. */
function formatOne(r: Requirement): string {
  return formatSelector([r]);
}

test('examples from the Kubernetes syntax', () => {
  const sel = parseSelector('a=b,c!=d,e in (x,y),f notin (z),g,!h');
  assert.equal(sel.toString(), 'a=b,c!=d,e in (x,y),f notin (z),g,!h');
  assert.equal(sel.matches({ a: 'b', e: 'x', g: '' }), true);
  assert.equal(sel.matches({ a: 'b', e: 'x', g: '', h: '1' }), false);
  assert.equal(sel.matches({ a: 'b', c: 'd', e: 'x', g: '' }), false);
  assert.equal(sel.matches({ a: 'b', e: 'x', f: 'z', g: '' }), false);
  assert.equal(parseSelector('a==b').toString(), 'a=b');
  assert.equal(parseSelector('').isEverything(), true);
  assert.equal(parseSelector('  ').matches({}), true);
  assert.equal(parseSelector('x=').matches({ x: '' }), true);
  assert.equal(parseSelector('example.com/app in (a, b)').matches({ 'example.com/app': 'b' }), true);
  assert.equal(parseSelector('a!=b').matches({}), true, '!= matches objects without the key');
  assert.equal(everything.matches(undefined), true);
  assert.equal(nothing.matches({}), false);
  assert.equal(compileLabelSelector(null).matches({}), false, 'a null LabelSelector selects nothing');
  assert.equal(compileLabelSelector({}).matches({ any: 'thing' }), true, 'an empty LabelSelector selects everything');
  assert.equal(selectorFromSet({ app: 'web' }).matches({ app: 'web', x: 'y' }), true);
  assert.equal(selectorFromSet({}).matches({ a: 'b' }), true);
});

test('parse errors say what was found, what was expected and where', () => {
  const cases: [string, RegExp, number][] = [
    ['a in (x,y', /found 'end of string', expected: ',' or '\)'/, 9],
    ['a in x', /found 'x', expected: '\('/, 5],
    ['a=b,', /found 'end of string', expected: identifier/, 4],
    ['a b', /found 'b', expected: in, notin, =, ==, !=/, 2],
    ['=b', /found '=', expected: identifier/, 0],
    ['bad key!=x', /found 'key', expected/, 4],
    ['-a=b', /invalid label key "-a"/, 0],
    ['a=-b', /invalid label value: "-b"/, 2],
    ['a>1', /operator '>' is not supported/, 1],
    ['!a=b', /found '=', expected: ',' or 'end of string'/, 2],
  ];
  for (const [s, re, pos] of cases) {
    assert.throws(
      () => parseSelector(s),
      (e: unknown) => {
        assert.ok(e instanceof SelectorParseError, s);
        assert.match(e.message, re, s);
        assert.equal(e.position, pos, `${s}: ${e.message}`);
        assert.equal(e.code, 'ERR_LABEL_SELECTOR');
        return true;
      },
    );
  }
});

test('validateLabelSelector reports each bad field', () => {
  const errs = validateLabelSelector(
    {
      matchLabels: { 'bad key': 'v', ok: '-bad' },
      matchExpressions: [
        { key: 'a', operator: 'In', values: [] },
        { key: 'b', operator: 'Exists', values: ['x'] },
        { key: 'c', operator: 'Near' },
      ],
    },
    'spec.podSelector',
  );
  assert.deepEqual(
    errs.map((e) => `${e.type} ${e.field}`),
    [
      'FieldValueInvalid spec.podSelector.matchLabels',
      'FieldValueInvalid spec.podSelector.matchLabels',
      'FieldValueRequired spec.podSelector.matchExpressions[0].values',
      'FieldValueForbidden spec.podSelector.matchExpressions[1].values',
      'FieldValueNotSupported spec.podSelector.matchExpressions[2].operator',
    ],
  );
});

test('matching is cheap: a compiled selector matches a million label sets quickly (loose bound: machines are shared)', () => {
  const sel = parseSelector('app=web,tier in (fe,be),!legacy');
  const l = { app: 'web', tier: 'be', zone: 'a' };
  const start = performance.now();
  let n = 0;
  for (let i = 0; i < 1_000_000; i++) if (sel.matches(l)) n++;
  assert.equal(n, 1_000_000);
  // About 0.1-0.3 s on an idle machine; the bound only catches an accidental re-parse per match.
  assert.ok(performance.now() - start < 10_000);
});
