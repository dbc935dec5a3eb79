import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConf, loadManifest } from './load.js';
import type { CheckOptions } from './resolve.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

const agentFound = (text: string, opts: CheckOptions = {}) => loadConf(text, 'agent', opts).problems.map((p) => [p.code, p.gate]);

/** A manifest with the two confs (each given as its lines). */
export function manifestWith(agent: string, controller: string): string {
  const indent = (s: string) =>
    s
      .split('\n')
      .map((l) => (l === '' ? '' : `    ${l}`))
      .join('\n');
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: |\n${indent(agent)}\n  antrea-controller.conf: |\n${indent(controller)}\n`;
}

test('another gate: EndpointSlice without AntreaProxy is a warning that it has no effect', () => {
  const r = loadConf('featureGates:\n  EndpointSlice: true\n  AntreaProxy: false\n  Traceflow: false', 'agent');
  assert.deepEqual(
    r.problems.map((p) => [p.severity, p.code, p.key]),
    [['warning', 'WARN_GATE_REQUIRED', 'featureGates.EndpointSlice']],
  );
  assert.match(r.problems[0]?.message ?? '', /no effect unless AntreaProxy is enabled/);
  assert.deepEqual(agentFound('featureGates:\n  EndpointSlice: true'), []);
});

test('platform: Linux-only features set true explicitly are errors on Windows; default-on ones are not', () => {
  const win = { os: 'windows' as const };
  assert.deepEqual(agentFound('', win), []);
  const tcp = '\nflowCollectorAddr: "collector:4739:tcp"';
  assert.deepEqual(agentFound(`featureGates:\n  Egress: true\n  FlowExporter: true\n  NodePortLocal: true${tcp}`, win), [
    ['ERR_UNSUPPORTED_OS', 'FlowExporter'],
    ['ERR_UNSUPPORTED_OS', 'NodePortLocal'],
    ['WARN_SETTING_REQUIRED', 'NodePortLocal'],
    ['ERR_UNSUPPORTED_OS', 'Egress'],
  ]);
  assert.deepEqual(agentFound(`featureGates:\n  Egress: true\n  FlowExporter: true${tcp}`, { os: 'linux' }), []);
});

test('platform: AntreaProxy must stay on for Windows', () => {
  const r = loadConf('featureGates:\n  AntreaProxy: false', 'agent', { os: 'windows' });
  assert.ok(r.problems.some((p) => p.code === 'ERR_REQUIRED_ON_WINDOWS' && p.key === 'featureGates.AntreaProxy'));
  assert.ok(!loadConf('featureGates:\n  AntreaProxy: false', 'agent').problems.some((p) => p.code === 'ERR_REQUIRED_ON_WINDOWS'));
});

test('traffic mode: Egress only in encap; Multicast and AntreaIPAM need noEncap', () => {
  assert.deepEqual(agentFound('featureGates:\n  Egress: true\ntrafficEncapMode: noEncap'), [['ERR_UNSUPPORTED_TRAFFIC_MODE', 'Egress']]);
  assert.deepEqual(agentFound('featureGates:\n  Egress: true\ntrafficEncapMode: hybrid'), [['ERR_UNSUPPORTED_TRAFFIC_MODE', 'Egress']]);
  assert.deepEqual(agentFound('featureGates:\n  Egress: true'), []);
  assert.deepEqual(agentFound('featureGates:\n  Multicast: true'), [['ERR_UNSUPPORTED_TRAFFIC_MODE', 'Multicast']]);
  assert.deepEqual(agentFound('featureGates:\n  Multicast: true\ntrafficEncapMode: noEncap'), []);
  // Egress is Beta and on by default from v1.6: in noEncap mode that is a warning, not an error.
  const v16 = loadConf('trafficEncapMode: noEncap', 'agent', { release: 'v1.6.0' });
  assert.deepEqual(
    v16.problems.map((p) => [p.severity, p.code, p.gate]),
    [['warning', 'WARN_UNSUPPORTED_TRAFFIC_MODE', 'Egress']],
  );
});

test('IP family: IPv4-only features in an IPv6 or dual-stack cluster', () => {
  const v6 = { ipFamilies: ['ipv6' as const] };
  assert.deepEqual(agentFound('featureGates:\n  Multicast: true\ntrafficEncapMode: noEncap', v6), [['ERR_UNSUPPORTED_IP_FAMILY', 'Multicast']]);
  // NodePortLocal is on by default but runs only with nodePortLocal.enable: then a warning.
  const npl = 'nodePortLocal:\n  enable: true';
  assert.deepEqual(agentFound('', v6), []);
  assert.deepEqual(agentFound(npl, v6), [['WARN_UNSUPPORTED_IP_FAMILY', 'NodePortLocal']]);
  assert.deepEqual(agentFound(npl, { ipFamilies: ['ipv4', 'ipv6'] }), [['WARN_PARTIAL_IP_FAMILY', 'NodePortLocal']]);
  assert.deepEqual(agentFound(npl, { ipFamilies: ['ipv4'] }), []);
  // Inferred from the confs: transportInterfaceCIDRs / NodeIPAM cluster CIDRs.
  assert.deepEqual(agentFound(`${npl}\ntransportInterfaceCIDRs: [fd00::/64]`), [['WARN_UNSUPPORTED_IP_FAMILY', 'NodePortLocal']]);
  const m = loadManifest(
    manifestWith('featureGates:\n  AntreaIPAM: true\ntrafficEncapMode: noEncap\nnoSNAT: true', 'featureGates:\n  AntreaIPAM: true\n  NodeIPAM: true\nnodeIPAM:\n  enableNodeIPAM: true\n  clusterCIDRs: [fd00:10:244::/56]'),
  );
  assert.deepEqual(
    m.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.gate]),
    [['ERR_UNSUPPORTED_IP_FAMILY', 'AntreaIPAM']],
  );
});

test('kernel: AntreaProxy needs 4.6 or newer', () => {
  assert.deepEqual(agentFound('', { kernel: '5.15' }), []);
  assert.deepEqual(agentFound('', { kernel: '4.6.0-generic' }), []);
  // On by default: a warning; set explicitly: an error.
  assert.deepEqual(agentFound('', { kernel: '4.4' }), [['WARN_KERNEL_TOO_OLD', 'AntreaProxy']]);
  assert.deepEqual(agentFound('featureGates:\n  AntreaProxy: true', { kernel: '3.10' }), [['ERR_KERNEL_TOO_OLD', 'AntreaProxy']]);
  assert.deepEqual(agentFound('', { kernel: '3.10', os: 'windows' }), []);
  const msg = loadConf('', 'agent', { kernel: '4.4' }).problems[0]?.message ?? '';
  assert.match(msg, /AntreaProxy needs Linux kernel 4\.6 or newer .*the Nodes run 4\.4/);
});

test('settings a gate needs: NodePortLocal set on without nodePortLocal.enable', () => {
  assert.deepEqual(agentFound('featureGates:\n  NodePortLocal: true'), [['WARN_SETTING_REQUIRED', 'NodePortLocal']]);
  assert.deepEqual(agentFound('featureGates:\n  NodePortLocal: true\nnodePortLocal:\n  enable: true'), []);
  // On by default and not asked for: no noise.
  assert.deepEqual(agentFound(''), []);
});

test('agent/controller consistency: a both-component gate must resolve the same on both sides', () => {
  const m = loadManifest(manifestWith('featureGates:\n  Egress: true', '# no gates'), { path: 'm.yml' });
  const errs = m.problems.filter((p) => p.severity === 'error');
  assert.deepEqual(
    errs.map((p) => [p.code, p.gate, p.key, p.conf]),
    [['ERR_GATE_INCONSISTENT', 'Egress', 'featureGates.Egress', 'antrea-agent.conf']],
  );
  assert.match(errs[0]?.message ?? '', /it is true in antrea-agent.conf \(set\) but false in antrea-controller.conf \(by default\)/);
  assert.equal(errs[0]?.line, 9);
  const ok = loadManifest(manifestWith('featureGates:\n  Egress: true', 'featureGates:\n  Egress: true'));
  assert.deepEqual(ok.problems, []);
  // Setting the default explicitly on one side only is consistent.
  assert.deepEqual(loadManifest(manifestWith('featureGates:\n  Traceflow: true', '')).problems, []);
  const off = loadManifest(manifestWith('', 'featureGates:\n  AntreaPolicy: false\n  NetworkPolicyStats: false'));
  assert.deepEqual(
    off.problems.map((p) => [p.code, p.gate, p.conf]),
    [
      ['ERR_GATE_INCONSISTENT', 'AntreaPolicy', 'antrea-controller.conf'],
      ['ERR_GATE_INCONSISTENT', 'NetworkPolicyStats', 'antrea-controller.conf'],
    ],
  );
});

test('a gate set in the conf of a component it does not belong to has no effect there', () => {
  const m = loadManifest(manifestWith('featureGates:\n  NodeIPAM: true', 'featureGates:\n  AntreaProxy: false\n  FlowExporter: true'));
  assert.deepEqual(
    m.problems.map((p) => [p.severity, p.code, p.gate, p.conf]),
    [
      ['warning', 'WARN_GATE_NO_EFFECT', 'NodeIPAM', 'antrea-agent.conf'],
      ['warning', 'WARN_GATE_NO_EFFECT', 'AntreaProxy', 'antrea-controller.conf'],
      ['warning', 'WARN_GATE_NO_EFFECT', 'FlowExporter', 'antrea-controller.conf'],
    ],
  );
});
