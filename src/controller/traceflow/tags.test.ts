import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATAPLANE_TAGS } from '../../apis/crd/traceflow.js';
import { isAntreaError } from '../../util/errors.js';
import { TagAllocator } from './tags.js';

test('the pool is Antrea’s: 7, 11, ..., 59, every tag ending in binary 11', () => {
  assert.equal(DATAPLANE_TAGS.length, 14);
  assert.equal(DATAPLANE_TAGS[0], 7);
  assert.equal(DATAPLANE_TAGS.at(-1), 59);
  for (const t of DATAPLANE_TAGS) assert.equal(t & 0b11, 0b11);
});

test('distinct owners get distinct tags; an owner asking again keeps its tag', () => {
  const a = new TagAllocator();
  const tags = DATAPLANE_TAGS.map((_, i) => a.allocate(`tf${i}`));
  assert.equal(new Set(tags).size, 14);
  assert.equal(a.allocate('tf3'), tags[3]);
});

test('when every tag is held, allocation fails with Antrea’s message until one is released', () => {
  const a = new TagAllocator();
  for (let i = 0; i < 14; i++) a.allocate(`tf${i}`);
  assert.throws(() => a.allocate('late'), (err) => isAntreaError(err, 'ERR_TRACEFLOW_TAGS_EXHAUSTED') && /upper limit: 59/.test(err.message));
  const freed = a.release('tf5');
  assert.equal(a.allocate('late'), freed);
  assert.equal(a.release('nobody'), undefined);
});

test('restore keeps tags found on existing Traceflows and refuses a tag held by another', () => {
  const a = new TagAllocator();
  assert.equal(a.restore('x', 11), true);
  assert.equal(a.restore('x', 11), true);
  assert.equal(a.restore('y', 11), false);
  assert.equal(a.restore('y', 12), false, 'not in the pool');
  assert.equal(a.allocate('z'), 7);
  assert.equal(a.allocate('w'), 15, '11 is taken');
  assert.deepEqual(a.inUse(), { x: 11, z: 7, w: 15 });
  assert.equal(a.ownerOf(11), 'x');
});
