import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gratuitousArp, parseHostAddresses } from './egressip.js';

test('a gratuitous ARP announces the Egress IP at the Node MAC, broadcast, padded to 60 bytes', () => {
  const hex = gratuitousArp('192.168.77.200', '0e:c0:a8:4d:65:01');
  assert.equal(hex.length, 120);
  assert.equal(hex.slice(0, 12), 'ffffffffffff', 'broadcast');
  assert.equal(hex.slice(12, 24), '0ec0a84d6501', 'from the Node MAC');
  assert.equal(hex.slice(24, 28), '0806', 'ARP');
  assert.equal(hex.slice(28, 44), '0001080006040001', 'Ethernet/IPv4 request');
  assert.equal(hex.slice(44, 56), '0ec0a84d6501', 'sender MAC');
  assert.equal(hex.slice(56, 64), 'c0a84dc8', 'sender IP = the Egress IP');
  assert.equal(hex.slice(64, 76), '000000000000');
  assert.equal(hex.slice(76, 84), 'c0a84dc8', 'target IP = the Egress IP');
  assert.throws(() => gratuitousArp('192.168.77.200,actions=drop', '0e:c0:a8:4d:65:01'), { code: 'ERR_OVS_INVALID_VALUE' });
});

test('after a restart the Egress IPs are the /32 addresses on br-phy, not the Node IP', () => {
  const json = JSON.stringify([{ ifname: 'br-phy', addr_info: [
    { family: 'inet', local: '192.168.77.101', prefixlen: 24 },
    { family: 'inet', local: '192.168.77.200', prefixlen: 32 },
    { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
  ] }]);
  assert.deepEqual(parseHostAddresses(json), ['192.168.77.200']);
  assert.deepEqual(parseHostAddresses('[]'), []);
});
