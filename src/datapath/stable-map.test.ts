import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StableMap } from './stable-map.js';

test('property: StableMap behaves like Map under any sequence of set and delete', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer())), (ops) => {
      const a = new StableMap<number, number>();
      const b = new Map<number, number>();
      for (const [isSet, k, v] of ops) {
        if (isSet) {
          a.set(k, v);
          b.set(k, v);
        } else assert.equal(a.delete(k), b.delete(k));
        assert.equal(a.size, b.size);
      }
      assert.deepEqual([...a.entries()].sort((x, y) => x[0] - y[0]), [...b.entries()].sort((x, y) => x[0] - y[0]));
      for (let k = 0; k <= 40; k++) assert.equal(a.get(k), b.get(k));
    }),
  );
});

test('StableMap compacts after many deletes and keeps working', () => {
  const m = new StableMap<string, number>();
  for (let i = 0; i < 5000; i++) m.set(`k${i}`, i);
  for (let i = 0; i < 5000; i++) m.delete(`k${i}`);
  assert.equal(m.size, 0);
  m.set('x', 1);
  assert.deepEqual([...m], [['x', 1]]);
});
