import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrMinus } from './cidr.js';

const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const inCidr = (ip: number, c: string) => {
  const [b, l] = c.includes('/') ? c.split('/') : [c, '32'];
  const size = 2 ** (32 - Number(l));
  return Math.floor(ip / size) === Math.floor(toInt(b!) / size);
};

test('examples', () => {
  assert.deepEqual(cidrMinus('10.0.0.0/24', ['10.0.0.0/25']), ['10.0.0.128/25']);
  assert.deepEqual(cidrMinus('10.0.0.0/30', ['10.0.0.1']), ['10.0.0.0', '10.0.0.2/31']);
  assert.deepEqual(cidrMinus('10.0.0.0/24', ['10.0.0.0/16']), []);
  assert.deepEqual(cidrMinus('10.0.0.0/24', ['192.168.0.0/16']), ['10.0.0.0/24']);
});

test('property: an address is in the result iff it is in the block and in no except', () => {
  const prefix = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 8, max: 32 })).map(([ip, len]) => {
    const size = 2 ** (32 - len);
    const base = Math.floor(ip / size) * size;
    return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${len}`;
  });
  fc.assert(
    fc.property(prefix, fc.array(prefix, { maxLength: 4 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (block, excepts, probe) => {
      // Probe near the block so the interesting cases happen.
      const [b, l] = block.split('/');
      const ip = (toInt(b!) + (probe % 2 ** (34 - Number(l)))) % 2 ** 32;
      const expected = inCidr(ip, block) && !excepts.some((e) => inCidr(ip, e));
      const out = cidrMinus(block, excepts);
      assert.equal(out.some((c) => inCidr(ip, c)), expected);
    }),
    { numRuns: 2000 },
  );
});
