import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr, parseCidr } from '../../util/ip.js';
import { isAntreaError } from '../../util/errors.js';
import { CidrSet } from './cidrset.js';

const take = (s: CidrSet) => formatCidr(s.allocate().cidr);

test('hands out Node subnets in order, IPv4 and IPv6', () => {
  const v4 = new CidrSet(parseCidr('10.0.0.0/22'), 24);
  assert.equal(v4.capacity, 4n);
  assert.deepEqual([take(v4), take(v4), take(v4), take(v4)], ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']);
  const v6 = new CidrSet(parseCidr('fd00:10:244::/56'), 64);
  assert.deepEqual([take(v6), take(v6)], ['fd00:10:244::/64', 'fd00:10:244:1::/64']);
});

test('exhaustion is an ERR_NODEIPAM_EXHAUSTED error, and a released subnet is handed out again', () => {
  const s = new CidrSet(parseCidr('10.0.0.0/23'), 24);
  const a = s.allocate();
  s.allocate();
  assert.throws(() => s.allocate(), (e: unknown) => isAntreaError(e, 'ERR_NODEIPAM_EXHAUSTED') && /10\.0\.0\.0\/23/.test(e.message));
  s.release(a.index);
  assert.equal(take(s), '10.0.0.0/24');
});

test('a freed subnet is not reused before the others (the cursor moves on)', () => {
  const s = new CidrSet(parseCidr('10.0.0.0/22'), 24);
  const first = s.allocate();
  s.release(first.index);
  assert.equal(take(s), '10.0.1.0/24');
});

test('reserved ranges (a Service CIDR) are skipped', () => {
  const s = new CidrSet(parseCidr('10.0.0.0/22'), 24);
  assert.equal(s.reserve(parseCidr('10.0.1.128/25')), true);
  assert.equal(s.reserve(parseCidr('10.96.0.0/12')), false, 'outside: nothing to reserve');
  assert.deepEqual([take(s), take(s), take(s)], ['10.0.0.0/24', '10.0.2.0/24', '10.0.3.0/24']);
  assert.throws(() => s.allocate(), (e: unknown) => isAntreaError(e, 'ERR_NODEIPAM_EXHAUSTED'));
});

test('a Service CIDR covering the whole cluster CIDR leaves nothing', () => {
  const s = new CidrSet(parseCidr('10.0.0.0/22'), 24);
  s.reserve(parseCidr('10.0.0.0/8'));
  assert.throws(() => s.allocate(), (e: unknown) => isAntreaError(e, 'ERR_NODEIPAM_EXHAUSTED'));
});

test('occupy marks every subnet an existing CIDR covers, and reports conflicts', () => {
  const s = new CidrSet(parseCidr('10.0.0.0/22'), 24);
  assert.deepEqual(s.occupy(parseCidr('10.0.0.0/23')), { indices: [0n, 1n], conflicts: [] });
  assert.deepEqual(s.occupy(parseCidr('10.0.1.0/25')), { indices: [], conflicts: [1n] });
  assert.deepEqual(s.occupy(parseCidr('192.168.0.0/24')), { indices: [], conflicts: [] });
  assert.equal(take(s), '10.0.2.0/24');
});

test('a big IPv6 cluster CIDR allocates without scanning it', () => {
  const s = new CidrSet(parseCidr('fd00::/8'), 120);
  assert.equal(s.capacity, 1n << 112n);
  s.reserve(parseCidr('fd00::/16'));
  assert.equal(take(s), 'fd01::/120');
});
