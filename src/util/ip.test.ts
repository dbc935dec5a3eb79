import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrAddress, cidrContains, cidrSize, cidrsOverlap, formatCidr, formatIp, parseCidr, parseIp } from './ip.js';
import { isAntreaError } from './errors.js';

test('IPv4 and IPv6 round trip', () => {
  for (const text of ['10.10.0.1', '0.0.0.0', '255.255.255.255', '::', '::1', 'fd00::1', '2001:db8::8:800:200c:417a', 'fe80::1:0:0:1']) {
    assert.equal(formatIp(parseIp(text)), text);
  }
  assert.equal(formatIp(parseIp('::ffff:10.0.0.1')), '::ffff:a00:1');
  assert.equal(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')), '2001:db8::1');
});

test('property: any IPv4 address formats and parses back', () => {
  fc.assert(fc.property(fc.ipV4(), (ip) => assert.equal(formatIp(parseIp(ip)), ip)));
});

test('property: any IPv6 address parses to the value node formats', () => {
  fc.assert(fc.property(fc.ipV6(), (ip) => assert.equal(formatIp(parseIp(formatIp(parseIp(ip)))), formatIp(parseIp(ip)))));
});

test('CIDRs: normalised base, size, containment, nth address, overlap', () => {
  const c = parseCidr('10.10.1.77/24');
  assert.equal(formatCidr(c), '10.10.1.0/24');
  assert.equal(cidrSize(c), 256n);
  assert.ok(cidrContains(c, parseIp('10.10.1.255')));
  assert.ok(!cidrContains(c, parseIp('10.10.2.0')));
  assert.equal(formatIp(cidrAddress(c, 1n)), '10.10.1.1');
  assert.ok(cidrsOverlap(parseCidr('10.0.0.0/8'), c));
  assert.ok(!cidrsOverlap(parseCidr('10.11.0.0/16'), c));
  const v6 = parseCidr('fd00:10:244:1::/64');
  assert.equal(formatIp(cidrAddress(v6, 1n)), 'fd00:10:244:1::1');
  assert.ok(!cidrContains(v6, parseIp('10.10.1.1')));
});

test('bad input names the field', () => {
  assert.throws(() => parseIp('10.0.0', 'status.podIP'), (e: unknown) => isAntreaError(e, 'ERR_INVALID_IP') && e.message.startsWith('status.podIP:'));
  assert.throws(() => parseCidr('10.0.0.0', 'spec.podCIDR'), (e: unknown) => isAntreaError(e, 'ERR_INVALID_CIDR') && /missing \/prefix/.test(e.message));
  assert.throws(() => parseCidr('10.0.0.0/33'), (e: unknown) => isAntreaError(e, 'ERR_INVALID_CIDR'));
  assert.throws(() => parseCidr('fd00::/129'), (e: unknown) => isAntreaError(e, 'ERR_INVALID_CIDR'));
});
