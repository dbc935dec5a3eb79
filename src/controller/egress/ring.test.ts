import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, HashRing } from './ring.js';

test('crc32 is IEEE CRC-32 (Go crc32.ChecksumIEEE)', () => {
  assert.equal(crc32(''), 0);
  assert.equal(crc32('123456789'), 0xcbf43926);
  assert.equal(crc32('The quick brown fox jumps over the lazy dog'), 0x414fa339);
});

test('every party with the same Nodes picks the same owner, whatever the order', () => {
  const a = new HashRing(['node-1', 'node-2', 'node-3']);
  const b = new HashRing(['node-3', 'node-1', 'node-2']);
  for (let i = 0; i < 50; i++) assert.equal(a.get(`10.0.0.${i}`), b.get(`10.0.0.${i}`));
  assert.equal(new HashRing([]).get('10.0.0.1'), undefined);
});

test('a Node leaving moves only the IPs it owned', () => {
  const ips = Array.from({ length: 200 }, (_, i) => `172.16.${i >> 8}.${i & 255}`);
  const before = new HashRing(['a', 'b', 'c']);
  const after = new HashRing(['a', 'b']);
  for (const ip of ips) if (before.get(ip) !== 'c') assert.equal(after.get(ip), before.get(ip), ip);
  const owners = new Set(ips.map((ip) => before.get(ip)));
  assert.deepEqual([...owners].sort(), ['a', 'b', 'c'], 'the IPs spread over every Node');
});
