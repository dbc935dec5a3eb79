import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConf } from './load.js';
import type { CheckOptions } from './resolve.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

/** [code, key] of every error (and, with `all`, warning) of an agent conf. */
function found(text: string, opts: CheckOptions & { all?: boolean } = {}): [string, string | undefined][] {
  const { all, ...check } = opts;
  return loadConf(text, 'agent', check)
    .problems.filter((p) => all || p.severity === 'error')
    .map((p) => [p.code, p.key]);
}

/** Messages of the errors. */
function messages(text: string, opts: CheckOptions = {}): string[] {
  return loadConf(text, 'agent', opts)
    .problems.filter((p) => p.severity === 'error')
    .map((p) => p.message);
}

test('rule 2: tunnel type must be geneve, vxlan, gre or stt', () => {
  for (const t of ['geneve', 'vxlan', 'gre', 'stt']) assert.deepEqual(found(`tunnelType: ${t}`), []);
  assert.deepEqual(found('tunnelType: ipip'), [['ERR_INVALID_VALUE', 'tunnelType']]);
  assert.deepEqual(found('tunnelType: GENEVE'), [['ERR_INVALID_VALUE', 'tunnelType']]);
});

test('rule 3: encryption mode none/ipsec/wireGuard, case-insensitive', () => {
  for (const m of ['none', 'None', 'IPsec', 'ipsec', 'wireGuard', 'WireGuard']) assert.deepEqual(found(`trafficEncryptionMode: ${m}`), [], m);
  assert.deepEqual(found('trafficEncryptionMode: tls'), [['ERR_INVALID_VALUE', 'trafficEncryptionMode']]);
  assert.match(messages('trafficEncryptionMode: tls')[0] ?? '', /^TrafficEncryptionMode tls is unknown/);
});

test('rule 4: datapath type system or netdev', () => {
  assert.deepEqual(found('ovsDatapathType: netdev'), []);
  assert.deepEqual(found('ovsDatapathType: dpdk'), [['ERR_INVALID_VALUE', 'ovsDatapathType']]);
  assert.match(messages('ovsDatapathType: dpdk')[0] ?? '', /^OVS datapath type dpdk is not supported/);
});

test('rule 5: encap mode, case-insensitive', () => {
  for (const m of ['encap', 'Encap', 'noEncap', 'NOENCAP', 'hybrid', 'networkPolicyOnly', 'networkpolicyonly']) {
    assert.deepEqual(found(`trafficEncapMode: ${m}`), [], m);
  }
  assert.deepEqual(found('trafficEncapMode: bridged'), [['ERR_INVALID_VALUE', 'trafficEncapMode']]);
  const r = loadConf('trafficEncapMode: NoEncap', 'agent');
  assert.equal(r.resolved?.component === 'agent' && r.resolved.derived.trafficMode, 'noEncap');
});

test('rule 7: noEncap, hybrid and networkPolicyOnly require AntreaProxy; encryption only in encap mode', () => {
  for (const m of ['noEncap', 'hybrid', 'networkPolicyOnly']) {
    assert.deepEqual(found(`trafficEncapMode: ${m}\nfeatureGates:\n  AntreaProxy: false`), [['ERR_GATE_REQUIRED', 'trafficEncapMode']], m);
    assert.deepEqual(found(`trafficEncapMode: ${m}\ntrafficEncryptionMode: ipsec`), [['ERR_INVALID_VALUE', 'trafficEncryptionMode']], m);
  }
  assert.deepEqual(found('trafficEncapMode: encap\nfeatureGates:\n  AntreaProxy: false'), []);
  assert.deepEqual(found('trafficEncapMode: encap\ntrafficEncryptionMode: wireGuard'), []);
  assert.match(messages('trafficEncapMode: hybrid\ntrafficEncryptionMode: ipsec')[0] ?? '', /may only be enabled in encap mode/);
});

test('rule 8: noSNAT only in noEncap or networkPolicyOnly', () => {
  assert.deepEqual(found('noSNAT: true'), [['ERR_INVALID_VALUE', 'noSNAT']]);
  assert.deepEqual(found('noSNAT: true\ntrafficEncapMode: hybrid'), [['ERR_INVALID_VALUE', 'noSNAT']]);
  assert.deepEqual(found('noSNAT: true\ntrafficEncapMode: noEncap'), []);
  assert.deepEqual(found('noSNAT: true\ntrafficEncapMode: networkPolicyOnly'), []);
});

test('rule 9: without AntreaProxy serviceCIDR must parse; with proxyAll nodePortAddresses must be CIDRs', () => {
  const off = 'featureGates:\n  AntreaProxy: false\n';
  assert.deepEqual(found(off), []);
  assert.deepEqual(found(`${off}serviceCIDR: 10.96.0.0/33`), [['ERR_INVALID_VALUE', 'serviceCIDR']]);
  assert.deepEqual(found(`${off}serviceCIDRv6: fd00::/200`), [['ERR_INVALID_VALUE', 'serviceCIDRv6']]);
  assert.deepEqual(found(`${off}serviceCIDRv6: 10.0.0.0/8`), [['ERR_INVALID_VALUE', 'serviceCIDRv6']]);
  assert.deepEqual(found(`${off}serviceCIDRv6: fd00:10:96::/112`), []);
  // With AntreaProxy on, serviceCIDR is ignored.
  assert.deepEqual(found('serviceCIDR: nonsense'), []);
  assert.deepEqual(found(`${off}antreaProxy:\n  skipServices: [kube-system/kube-dns]`, { all: true }), [
    ['WARN_SETTING_NO_EFFECT', 'antreaProxy.skipServices'],
    ['WARN_GATE_REQUIRED', 'featureGates.Traceflow'],
  ]);
  assert.deepEqual(found('antreaProxy:\n  proxyAll: true\n  nodePortAddresses: [192.168.0.0/16, 10.0.0.1]'), [['ERR_INVALID_VALUE', 'antreaProxy.nodePortAddresses']]);
  assert.match(messages('antreaProxy:\n  proxyAll: true\n  nodePortAddresses: [10.0.0.1]')[0] ?? '', /^proxy config is invalid: invalid NodePort IP address `10.0.0.1`/);
  // Without proxyAll, nodePortAddresses is not looked at (as in Antrea).
  assert.deepEqual(found('antreaProxy:\n  nodePortAddresses: [10.0.0.1]'), []);
});

test('rule 10: flow exporter address and intervals, only with FlowExporter', () => {
  const gate = 'featureGates:\n  FlowExporter: true\n';
  const on = `${gate}flowCollectorAddr: "collector:4739:tcp"\n`;
  assert.deepEqual(found('flowCollectorAddr: "::::"\nflowPollInterval: 1ms'), []);
  // Antrea's default transport is tls, which antrea-ts does not have: an error naming the key and the fix.
  assert.deepEqual(found(gate), [['ERR_UNSUPPORTED_VALUE', 'flowCollectorAddr']]);
  assert.match(messages(gate)[0] ?? '', /over tls are not supported by antrea-ts: set flowCollectorAddr to "flow-aggregator\.flow-aggregator\.svc:4739:tcp"/);
  assert.deepEqual(found(`${gate}flowCollectorAddr: "[fd00::10]:4739:udp"\nflowPollInterval: 2s\nactiveFlowExportTimeout: 1m\nidleFlowExportTimeout: 1.5s`, { all: true }), [
    ['WARN_VALUE_ADJUSTED', 'idleFlowExportTimeout'],
  ]);
  assert.deepEqual(found(`${gate}flowCollectorAddr: "a:4739:sctp"`), [['ERR_INVALID_VALUE', 'flowCollectorAddr']]);
  assert.deepEqual(found(`${on}flowPollInterval: 500ms`), [['ERR_INVALID_VALUE', 'flowPollInterval']]);
  assert.deepEqual(found(`${on}flowPollInterval: 5`), [['ERR_INVALID_VALUE', 'flowPollInterval']]);
  assert.deepEqual(found(`${on}activeFlowExportTimeout: 1 minute`), [['ERR_INVALID_VALUE', 'activeFlowExportTimeout']]);
  assert.deepEqual(found(`${on}idleFlowExportTimeout: "-"`), [['ERR_INVALID_VALUE', 'idleFlowExportTimeout']]);
  assert.match(messages(`${on}flowPollInterval: 500ms`)[0] ?? '', /^failed to validate flow exporter config: flow interval should be greater than or equal to one second/);
});

test('rule 11: egress exceptCIDRs must parse, only with Egress', () => {
  assert.deepEqual(found('egress:\n  exceptCIDRs: [bogus]'), []);
  assert.deepEqual(found('featureGates:\n  Egress: true\negress:\n  exceptCIDRs: [10.0.0.0/8, bogus]'), [['ERR_INVALID_VALUE', 'egress.exceptCIDRs']]);
  assert.match(messages('featureGates:\n  Egress: true\negress:\n  exceptCIDRs: [bogus]')[0] ?? '', /^Egress Except CIDR bogus is invalid/);
});

test('rule 12: NodePortLocal port range, and enable without the gate', () => {
  assert.deepEqual(found('nodePortLocal:\n  portRange: 62000-61000'), [['ERR_INVALID_VALUE', 'nodePortLocal.portRange']]);
  assert.deepEqual(found('nplPortRange: 1-2-3'), [['ERR_INVALID_VALUE', 'nplPortRange']]);
  assert.match(messages('nodePortLocal:\n  portRange: 61000')[0] ?? '', /^NodePortLocal portRange is not valid: wrong port range format: 61000/);
  assert.deepEqual(found('featureGates:\n  NodePortLocal: false\nnodePortLocal:\n  portRange: nonsense'), []);
  assert.deepEqual(found('featureGates:\n  NodePortLocal: false\nnodePortLocal:\n  enable: true', { all: true }), [['WARN_SETTING_NO_EFFECT', 'nodePortLocal.enable']]);
  const r = loadConf('nodePortLocal:\n  enable: true\n  portRange: 40000-40100', 'agent');
  assert.deepEqual(r.resolved?.component === 'agent' && r.resolved.derived.nodePortLocalRange, { start: 40000, end: 40100 });
});

test('rule 13: AntreaIPAM needs the system datapath, noEncap and noSNAT', () => {
  const gate = 'featureGates:\n  AntreaIPAM: true\n';
  assert.deepEqual(found(gate), [
    ['ERR_UNSUPPORTED_TRAFFIC_MODE', 'featureGates.AntreaIPAM'],
    ['ERR_REQUIRES_NO_SNAT', 'featureGates.AntreaIPAM'],
  ]);
  assert.deepEqual(found(`${gate}trafficEncapMode: noEncap\nnoSNAT: true`), []);
  assert.deepEqual(found(`${gate}trafficEncapMode: NoEncap\nnoSNAT: true\novsDatapathType: netdev`), [['ERR_UNSUPPORTED_DATAPATH', 'featureGates.AntreaIPAM']]);
  const m = messages(`${gate}ovsDatapathType: netdev`);
  assert.ok(m.includes("AntreaIPAM requires 'system' OVSDatapathType, current: netdev"));
  assert.ok(m.includes("AntreaIPAM requires 'noEncap' TrafficEncapMode, current: encap"));
  assert.ok(m.includes('AntreaIPAM requires noSNAT'));
});

test('Windows: unsupported settings are errors (checkUnsupportedFeatures)', () => {
  const win = { os: 'windows' as const };
  assert.deepEqual(found('', win), []);
  assert.deepEqual(found('ovsDatapathType: netdev\ntunnelType: gre\ntrafficEncryptionMode: ipsec', win), [
    ['ERR_UNSUPPORTED_ON_WINDOWS', 'ovsDatapathType'],
    ['ERR_UNSUPPORTED_ON_WINDOWS', 'tunnelType'],
    ['ERR_UNSUPPORTED_ON_WINDOWS', 'trafficEncryptionMode'],
  ]);
  assert.deepEqual(found('trafficEncapMode: networkPolicyOnly', win), [['ERR_UNSUPPORTED_ON_WINDOWS', 'trafficEncapMode']]);
  assert.deepEqual(found('tunnelType: gre'), []);
});

test('ports and MTU must be in range', () => {
  assert.deepEqual(found('apiPort: 0\nclusterPort: 70000\ndefaultMTU: 20'), [
    ['ERR_INVALID_VALUE', 'apiPort'],
    ['ERR_INVALID_VALUE', 'clusterPort'],
    ['ERR_INVALID_VALUE', 'defaultMTU'],
  ]);
  assert.deepEqual(found('defaultMTU: 1450'), []);
  assert.deepEqual(found('transportInterfaceCIDRs: [10.0.0.0/24, nope]'), [['ERR_INVALID_VALUE', 'transportInterfaceCIDRs']]);
});

test('validation collects every problem in one pass', () => {
  const r = found('tunnelType: x\ntrafficEncryptionMode: y\novsDatapathType: z\ntrafficEncapMode: w\nnoSNAT: true\nbogus: 1');
  assert.deepEqual(r.map(([, k]) => k), ['bogus', 'tunnelType', 'trafficEncryptionMode', 'ovsDatapathType', 'trafficEncapMode']);
});
