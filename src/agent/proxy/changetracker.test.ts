import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeTracker, sameMap } from './changetracker.js';

const tracker = () => new ChangeTracker<Map<string, number>>(() => new Map(), sameMap);
const m = (o: Record<string, number>) => new Map(Object.entries(o));

test('a burst of updates to one key is one change from the first previous to the last current', () => {
  const t = tracker();
  t.update('ns/a', undefined, m({ p: 1 }));
  t.update('ns/a', m({ p: 1 }), m({ p: 2 }));
  t.update('ns/a', m({ p: 2 }), m({ p: 3 }));
  const [ch, ...rest] = t.checkout();
  assert.equal(rest.length, 0);
  assert.deepEqual([ch?.key, [...(ch?.previous ?? [])], [...(ch?.current ?? [])]], ['ns/a', [], [['p', 3]]]);
  assert.equal(t.checkout().length, 0, 'checkout forgets');
});

test('an add then a delete before a checkout cancels out', () => {
  const t = tracker();
  assert.equal(t.update('ns/a', undefined, m({ p: 1 })), true);
  assert.equal(t.update('ns/a', m({ p: 1 }), undefined), false);
  assert.equal(t.size(), 0);
});

test('an update back to the applied state cancels out; a resync (same object) is no change', () => {
  const t = tracker();
  t.update('ns/a', m({ p: 1 }), m({ p: 2 }));
  t.update('ns/a', m({ p: 2 }), m({ p: 1 }));
  assert.equal(t.size(), 0);
  assert.equal(t.update('ns/b', m({ p: 1 }), m({ p: 1 })), false);
});

test('keys are independent; a delete after a checkout is a change to empty', () => {
  const t = tracker();
  t.update('ns/a', undefined, m({ p: 1 }));
  t.update('ns/b', undefined, m({ q: 1 }));
  assert.equal(t.checkout().length, 2);
  t.update('ns/a', m({ p: 1 }), undefined);
  const [ch] = t.checkout();
  assert.deepEqual([[...(ch?.previous ?? [])], ch?.current.size], [[['p', 1]], 0]);
});
