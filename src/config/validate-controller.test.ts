import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConf } from './load.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

const found = (text: string, all = false) =>
  loadConf(text, 'controller')
    .problems.filter((p) => all || p.severity === 'error')
    .map((p) => [p.code, p.key, p.message]);

const ipam = (body: string) => `featureGates:\n  NodeIPAM: true\nnodeIPAM:\n  enableNodeIPAM: true\n${body}`;

test('nodeIPAM is validated only when enableNodeIPAM is true', () => {
  assert.deepEqual(found('nodeIPAM:\n  clusterCIDRs: [bogus]\n  nodeCIDRMaskSizeIPv4: 3'), []);
});

test('cluster CIDRs: parse, 1 or 2, one per family', () => {
  assert.deepEqual(found(ipam('  clusterCIDRs: [10.244.0.0/16]')), []);
  assert.deepEqual(found(ipam('  clusterCIDRs: [10.244.0.0/16, fd00:10:244::/56]')), []);
  assert.deepEqual(found(ipam('  clusterCIDRs: []')), [['ERR_INVALID_VALUE', 'nodeIPAM.clusterCIDRs', 'at least one cluster CIDR must be specified']]);
  assert.deepEqual(found(ipam('  clusterCIDRs: [10.0.0.0/8, fd00::/56, 11.0.0.0/8]')), [
    ['ERR_INVALID_VALUE', 'nodeIPAM.clusterCIDRs', 'at most two cluster CIDRs may be specified'],
  ]);
  assert.deepEqual(found(ipam('  clusterCIDRs: [10.0.0.0/8, 11.0.0.0/8]')), [
    ['ERR_INVALID_VALUE', 'nodeIPAM.clusterCIDRs', 'at most one cluster CIDR may be specified for each IP family'],
  ]);
  assert.match(String(found(ipam('  clusterCIDRs: [10.0.0.0/8, nope]'))[0]?.[2]), /^cluster CIDRs \[10.0.0.0\/8 nope\] is invalid/);
});

test('Node CIDR mask sizes: IPv4 16..30, IPv6 64..126, checked per family present', () => {
  assert.deepEqual(found(ipam('  clusterCIDRs: [10.0.0.0/8]\n  nodeCIDRMaskSizeIPv4: 31\n  nodeCIDRMaskSizeIPv6: 1')), [
    ['ERR_INVALID_VALUE', 'nodeIPAM.nodeCIDRMaskSizeIPv4', 'node IPv4 CIDR mask size 31 is invalid, should be between 16 and 30'],
  ]);
  assert.deepEqual(found(ipam('  clusterCIDRs: [fd00::/48]\n  nodeCIDRMaskSizeIPv6: 127')), [
    ['ERR_INVALID_VALUE', 'nodeIPAM.nodeCIDRMaskSizeIPv6', 'node IPv6 CIDR mask size 127 is invalid, should be between 64 and 126'],
  ]);
});

test('service CIDRs are optional but must parse', () => {
  assert.deepEqual(found(ipam('  clusterCIDRs: [10.0.0.0/8]\n  serviceCIDR: 10.96.0.0/12\n  serviceCIDRv6: fd00:10:96::/112')), []);
  assert.deepEqual(
    found(ipam('  clusterCIDRs: [10.0.0.0/8]\n  serviceCIDR: x\n  serviceCIDRv6: y')).map((p) => p[2]),
    ['service CIDR x is invalid', 'secondary service CIDR y is invalid'],
  );
});

test('enableNodeIPAM without the gate, and the gate without enableNodeIPAM, are warnings', () => {
  assert.deepEqual(found('nodeIPAM:\n  enableNodeIPAM: true\n  clusterCIDRs: [10.0.0.0/8]', true).map((p) => [p[0], p[1]]), [
    ['WARN_SETTING_NO_EFFECT', 'nodeIPAM.enableNodeIPAM'],
  ]);
  assert.deepEqual(found('featureGates:\n  NodeIPAM: true', true).map((p) => [p[0], p[1]]), [['WARN_SETTING_REQUIRED', 'featureGates.NodeIPAM']]);
});

test('controller apiPort must be a port', () => {
  assert.deepEqual(found('apiPort: 99999').map((p) => p[1]), ['apiPort']);
});
