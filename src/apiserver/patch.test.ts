import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { deepFreeze } from './objects.js';
import { isApiError } from './types.js';

test('merge patch: the RFC 7386 examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) assert.deepEqual(mergePatch(target, patch), want);
});

test('JSON patch: operations, failures are 422, a non-list is 400', () => {
  const doc = { a: { b: [1, 2, 3] }, c: 'x' };
  assert.deepEqual(
    jsonPatch(doc, [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e~1f' },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'test', path: '/c', value: 'y' },
    ]),
    { a: { b: [9, 2, 3, 4] }, c: 'y', 'e/f': 'y' },
  );
  assert.deepEqual(doc, { a: { b: [1, 2, 3] }, c: 'x' }, 'the input is untouched');
  assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }]), (e) => isApiError(e, 'Invalid'));
  assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/c', value: 'z' }]), (e) => isApiError(e, 'Invalid'));
  assert.throws(() => jsonPatch(doc, { op: 'add' }), (e) => isApiError(e, 'BadRequest'));
  assert.throws(() => jsonPatch(doc, [{ op: 'frobnicate', path: '/c' }]), (e) => isApiError(e, 'BadRequest'));
});

test('strategic merge: lists of objects merge by key, $patch delete removes one, directives are dropped', () => {
  const pod = { spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80 }] }, { name: 'b', image: 'y' }] }, metadata: { finalizers: ['f1'] } };
  const out = strategicMergePatch(pod, {
    spec: { containers: [{ name: 'a', image: 'x2' }, { name: 'b', $patch: 'delete' }, { name: 'c', image: 'z' }], '$setElementOrder/containers': [{ name: 'a' }, { name: 'c' }] },
    metadata: { finalizers: ['f2'] },
  });
  assert.deepEqual(out, {
    spec: { containers: [{ name: 'a', image: 'x2', ports: [{ containerPort: 80 }] }, { name: 'c', image: 'z' }] },
    metadata: { finalizers: ['f1', 'f2'] },
  });
  assert.deepEqual(strategicMergePatch({ a: { b: 1, c: 2 } }, { a: { $patch: 'replace', d: 3 } }), { a: { d: 3 } });
  assert.deepEqual(strategicMergePatch({ l: ['a', 'b', 'c'] }, { '$deleteFromPrimitiveList/l': ['b'] }), { l: ['a', 'c'] });
});

test('patches never modify their inputs (frozen inputs do not throw)', () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  fc.assert(
    fc.property(json, json, (target, patch) => {
      const t = deepFreeze(JSON.parse(JSON.stringify(target)) as unknown);
      const p = deepFreeze(JSON.parse(JSON.stringify(patch)) as unknown);
      mergePatch(t, p);
      strategicMergePatch(t, p);
      // merge patch is idempotent
      const once = mergePatch(t, p);
      assert.deepEqual(mergePatch(once, p), once);
    }),
    { numRuns: 500 },
  );
});
