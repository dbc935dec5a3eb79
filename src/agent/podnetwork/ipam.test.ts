import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PodIpAllocator, formatIps } from './ipam.js';
import { parseCidr } from '../../util/ip.js';
import { isAntreaError } from '../../util/errors.js';

const v4 = () => new PodIpAllocator([parseCidr('10.10.1.0/24')]);

test('the gateway is the first address and Pods start after it', () => {
  const a = v4();
  assert.deepEqual(formatIps(a.gateways()), ['10.10.1.1']);
  assert.deepEqual(formatIps(a.allocate('ns/a')), ['10.10.1.2']);
  assert.deepEqual(formatIps(a.allocate('ns/b')), ['10.10.1.3']);
  assert.deepEqual(formatIps(a.allocate('ns/a')), ['10.10.1.2'], 'idempotent per owner');
});

test('released addresses are reused last', () => {
  const a = v4();
  a.allocate('ns/a');
  a.allocate('ns/b');
  a.release('ns/a');
  assert.deepEqual(formatIps(a.allocate('ns/c')), ['10.10.1.4']);
});

test('a /24 hands out 253 addresses, then fails clearly', () => {
  const a = v4();
  const seen = new Set<string>();
  for (let i = 0; i < 253; i++) seen.add(formatIps(a.allocate(`ns/p${i}`))[0] as string);
  assert.equal(seen.size, 253);
  assert.ok(!seen.has('10.10.1.255') && !seen.has('10.10.1.0') && !seen.has('10.10.1.1'));
  assert.throws(() => a.allocate('ns/extra'), (e: unknown) => isAntreaError(e, 'ERR_POD_CIDR_EXHAUSTED') && /10.10.1.0\/24/.test(e.message));
  a.release('ns/p7');
  assert.deepEqual(formatIps(a.allocate('ns/extra')), ['10.10.1.9']);
});

test('dual-stack: one address per family', () => {
  const a = new PodIpAllocator([parseCidr('10.10.1.0/24'), parseCidr('fd00:10:244:1::/64')]);
  assert.deepEqual(formatIps(a.allocate('ns/a')), ['10.10.1.2', 'fd00:10:244:1::2']);
  assert.deepEqual(formatIps(a.gateways()), ['10.10.1.1', 'fd00:10:244:1::1']);
});

test('restore after a restart never hands out an address twice', () => {
  const before = v4();
  const owners = ['ns/a', 'ns/b', 'ns/c', 'ns/d'];
  const ips = new Map(owners.map((o) => [o, formatIps(before.allocate(o))]));
  before.release('ns/b');
  ips.delete('ns/b');
  const after = v4();
  for (const [owner, list] of ips) assert.deepEqual(after.restore(owner, list), []);
  const fresh = formatIps(after.allocate('ns/e'))[0];
  assert.ok(![...ips.values()].flat().includes(fresh as string));
  assert.equal(fresh, '10.10.1.6', 'the cursor continues after the highest restored address');
});

test('restore reports conflicts instead of recording them', () => {
  const a = v4();
  assert.deepEqual(a.restore('ns/a', ['10.10.1.5']), []);
  assert.deepEqual(a.restore('ns/b', ['10.10.1.5']), [{ ip: '10.10.1.5', owner: 'ns/b', heldBy: 'ns/a' }]);
  assert.deepEqual(a.restore('ns/c', ['10.10.1.1']), [{ ip: '10.10.1.1', owner: 'ns/c', heldBy: 'the gateway' }]);
  assert.deepEqual(a.restore('ns/d', ['192.168.0.9']), [], 'addresses of another IPAM are not ours');
});

test('property: live owners always hold distinct addresses inside the CIDR', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 300 }), (ops) => {
      const a = new PodIpAllocator([parseCidr('10.0.0.0/27')]);
      const live = new Set<string>();
      for (const [alloc, n] of ops) {
        const owner = `p${n}`;
        if (alloc) {
          try {
            a.allocate(owner);
            live.add(owner);
          } catch (e) {
            assert.ok(isAntreaError(e, 'ERR_POD_CIDR_EXHAUSTED'));
          }
        } else {
          a.release(owner);
          live.delete(owner);
        }
      }
      const held = [...live].map((o) => formatIps(a.owned(o) ?? [])[0]);
      assert.equal(new Set(held).size, held.length);
      for (const ip of held) assert.match(ip ?? '', /^10\.0\.0\.([2-9]|[12]\d|30)$/);
    }),
  );
});
