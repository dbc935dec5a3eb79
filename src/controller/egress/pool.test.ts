import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExternalIPPool } from '../../apis/crd/egress.js';
import { isAntreaError } from '../../util/errors.js';
import { PoolAllocator } from './pool.js';

const pool = (ipRanges: ExternalIPPool['spec']['ipRanges']): ExternalIPPool => ({ apiVersion: 'crd.antrea.io/v1alpha2', kind: 'ExternalIPPool', metadata: { name: 'p' }, spec: { ipRanges } });

test('allocates the first free IP, keeps what Egresses hold, frees on release', () => {
  const p = pool([{ start: '10.0.0.1', end: '10.0.0.2' }, { cidr: '10.1.0.0/30' }]);
  assert.equal(PoolAllocator.total(p), 4);
  const a = new PoolAllocator();
  assert.equal(a.occupy('p', '10.0.0.1', 'old'), true);
  assert.equal(a.occupy('p', '10.0.0.1', 'dup'), false);
  assert.equal(a.allocate(p, 'e1'), '10.0.0.2');
  assert.equal(a.allocate(p, 'e1'), '10.0.0.2', 'an Egress asking again gets its IP back');
  assert.equal(a.allocate(p, 'e2'), '10.1.0.1');
  assert.equal(a.allocate(p, 'e3'), '10.1.0.2');
  assert.throws(() => a.allocate(p, 'e4'), (e: unknown) => isAntreaError(e, 'ERR_EGRESS_POOL_EXHAUSTED'));
  a.release('e2');
  assert.equal(a.used('p'), 3);
  assert.equal(a.allocate(p, 'e4'), '10.1.0.1');
  assert.equal(PoolAllocator.contains(p, '10.1.0.3'), false, 'a CIDR range leaves out the broadcast address');
  assert.equal(PoolAllocator.contains(p, '10.0.0.2'), true);
});
