import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apis/meta.js';
import { ObjectCache, cacheKey, objectKey, splitKey } from './cache.js';

const obj = (ns: string | undefined, name: string, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { name, ...(ns ? { namespace: ns } : {}), labels },
});

test('keys: namespace/name for namespaced objects, name alone for cluster-scoped ones', () => {
  assert.equal(objectKey(obj('a', 'p')), 'a/p');
  assert.equal(objectKey(obj(undefined, 'n1')), 'n1');
  assert.deepEqual(splitKey(cacheKey('a', 'p')), { namespace: 'a', name: 'p' });
  assert.deepEqual(splitKey('n1'), { name: 'n1' });
});

test('indexes follow upserts and removals; multi-valued index functions file an object several times', () => {
  const c = new ObjectCache({ freeze: false });
  c.addIndexer('label', (o) => Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`));
  c.upsert(obj('a', 'p1', { app: 'web', tier: 'fe' }));
  c.upsert(obj('b', 'p2', { app: 'web' }));
  assert.equal(c.byIndex('label', 'app=web').length, 2);
  assert.equal(c.byIndex('label', 'tier=fe').length, 1);
  c.upsert(obj('a', 'p1', { app: 'db' }));
  assert.deepEqual(c.indexKeys('label', 'app=web'), ['b/p2']);
  assert.deepEqual(c.indexValues('label').sort(), ['app=db', 'app=web']);
  c.remove('b/p2');
  assert.deepEqual(c.indexValues('label'), ['app=db']);
  assert.deepEqual(c.list('a').map(objectKey), ['a/p1']);
  assert.equal(c.size, 1);
  assert.throws(() => c.addIndexer('label', () => []), /already exists/);
});
