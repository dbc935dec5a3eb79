import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAntreaError } from '../../util/errors.js';
import { RangeAllocator } from './allocator.js';

const masks = { nodeCIDRMaskSizeIPv4: 24, nodeCIDRMaskSizeIPv6: 64 };

test('one CIDR per family, in the order of the cluster CIDRs', () => {
  const a = new RangeAllocator({ clusterCIDRs: ['fd00:10:244::/56', '10.244.0.0/16'], ...masks });
  assert.deepEqual(a.allocate('n1'), ['fd00:10:244::/64', '10.244.0.0/24']);
  assert.deepEqual(a.allocate('n2'), ['fd00:10:244:1::/64', '10.244.1.0/24']);
  assert.deepEqual(a.allocate('n1'), ['fd00:10:244::/64', '10.244.0.0/24'], 'a recorded Node gets its CIDRs back');
});

test('Service CIDRs inside the cluster CIDR are never handed out', () => {
  const a = new RangeAllocator({ clusterCIDRs: ['10.0.0.0/22', 'fd00::/62'], serviceCIDR: '10.0.0.0/24', serviceCIDRv6: 'fd00::/64', ...masks });
  assert.deepEqual(a.allocate('n1'), ['10.0.1.0/24', 'fd00:0:0:1::/64']);
});

test('existing CIDRs are kept and marked used; outside ones are reported', () => {
  const a = new RangeAllocator({ clusterCIDRs: ['10.0.0.0/22'], ...masks });
  assert.deepEqual(a.occupy('old', ['10.0.0.0/24']), { outside: [], conflicting: [] });
  assert.deepEqual(a.occupy('old', ['10.0.0.0/24']), { outside: [], conflicting: [] }, 'idempotent');
  assert.deepEqual(a.occupy('foreign', ['172.16.0.0/24']), { outside: ['172.16.0.0/24'], conflicting: [] });
  assert.deepEqual(a.occupy('dup', ['10.0.0.0/24']), { outside: [], conflicting: ['10.0.0.0/24'] });
  assert.deepEqual(a.allocate('new'), ['10.0.1.0/24']);
  // Releasing the duplicate must not free the subnet the first Node still holds.
  a.release('dup');
  assert.deepEqual(a.allocate('next'), ['10.0.2.0/24']);
  assert.deepEqual(a.allocate('last'), ['10.0.3.0/24']);
  assert.throws(() => a.allocate('more'), (e: unknown) => isAntreaError(e, 'ERR_NODEIPAM_EXHAUSTED') && /Node more/.test(e.message));
});

test('release frees exactly what a Node held; dual stack is all or nothing', () => {
  const a = new RangeAllocator({ clusterCIDRs: ['10.0.0.0/23', 'fd00::/64'], nodeCIDRMaskSizeIPv4: 24, nodeCIDRMaskSizeIPv6: 64 });
  assert.deepEqual(a.allocate('n1'), ['10.0.0.0/24', 'fd00::/64']);
  assert.throws(() => a.allocate('n2'), (e: unknown) => isAntreaError(e, 'ERR_NODEIPAM_EXHAUSTED'));
  assert.equal(a.cidrsOf('n2'), undefined);
  assert.deepEqual(a.usage().map((u) => u.used), [1, 1], 'the IPv4 subnet taken for n2 was given back');
  assert.deepEqual(a.release('n1'), ['10.0.0.0/24', 'fd00::/64']);
  assert.deepEqual(a.release('n1'), []);
  assert.deepEqual(a.usage().map((u) => u.used), [0, 0]);
});
