import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIpfixError } from './errors.js';
import { ANTREA_ENTERPRISE, REVERSE_ENTERPRISE, antreaTemplateFields, defaultRegistry } from './registry.js';
import { defineTemplate } from './template.js';
import { formatIpv6, writeIpv6 } from './addr.js';

test('Antrea IEs have the ids and types of antrea.md 4.5 under enterprise 56506', () => {
  const r = defaultRegistry;
  assert.deepEqual(r.get('sourcePodName'), { name: 'sourcePodName', enterprise: 56506, id: 101, type: 'string' });
  assert.deepEqual(r.get('tcpState'), { name: 'tcpState', enterprise: ANTREA_ENTERPRISE, id: 136, type: 'string' });
  assert.equal(r.get('destinationClusterIPv6').type, 'ipv6Address');
  assert.equal(r.get('ingressNetworkPolicyRuleAction').id, 139);
  assert.equal(r.lookup(ANTREA_ENTERPRISE, 137)!.name, 'flowType');
  // flowEndReason (IANA 136) and tcpState (Antrea 136) share an id under different enterprises.
  assert.equal(r.lookup(0, 136)!.name, 'flowEndReason');
});

test('reverse IEs are the IANA ids under enterprise 29305, and identifiers have none', () => {
  assert.deepEqual(defaultRegistry.get('reverseOctetDeltaCount'), { name: 'reverseOctetDeltaCount', enterprise: REVERSE_ENTERPRISE, id: 1, type: 'unsigned64' });
  assert.equal(defaultRegistry.byNameOrUndefined('reverseObservationDomainId'), undefined);
});

test('the Antrea templates have 37 fields each', () => {
  assert.equal(defineTemplate(256, antreaTemplateFields(4)).fields.length, 37);
  assert.equal(defineTemplate(257, antreaTemplateFields(6)).fields.length, 37);
});

test('templates reject unknown names, bad ids and lengths with typed errors', () => {
  assert.throws(() => defineTemplate(256, ['noSuchIe']), (e) => isIpfixError(e, 'ERR_IPFIX_UNKNOWN_IE'));
  assert.throws(() => defineTemplate(255, ['octetDeltaCount']), (e) => isIpfixError(e, 'ERR_IPFIX_BAD_TEMPLATE'));
  assert.throws(() => defineTemplate(256, []), (e) => isIpfixError(e, 'ERR_IPFIX_BAD_TEMPLATE'));
  assert.throws(() => defineTemplate(256, [{ name: 'sourceIPv4Address', length: 3 }]), (e) => isIpfixError(e, 'ERR_IPFIX_BAD_TEMPLATE'));
  assert.throws(() => defineTemplate(256, [{ name: 'octetDeltaCount', length: 9 }]), (e) => isIpfixError(e, 'ERR_IPFIX_BAD_TEMPLATE'));
});

test('IPv6 text parses and formats per RFC 4291 / RFC 5952', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['1::', '1::'],
  ];
  const b = new Uint8Array(16);
  for (const [inp, out] of cases) {
    assert.ok(writeIpv6(inp, b, 0), inp);
    assert.equal(formatIpv6(b, 0), out);
  }
  for (const bad of ['', ':', '1:2', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::', '1:']) {
    assert.equal(writeIpv6(bad, b, 0), false, bad);
  }
});
