import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConf } from './load.js';
import { formatConfigProblem } from './problems.js';
import { AGENT_SCHEMA, CONTROLLER_SCHEMA, keyPaths } from './schema.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

const agent = (text: string) => loadConf(text, 'agent');
const controller = (text: string) => loadConf(text, 'controller');
const errors = (r: ReturnType<typeof loadConf>) => r.problems.filter((p) => p.severity === 'error');

test('every key of Antrea 1.5 conf files is known (reference section 7)', () => {
  const agentKeys = [
    'featureGates', 'ovsBridge', 'ovsDatapathType', 'hostGateway', 'trafficEncapMode', 'noSNAT', 'tunnelType',
    'trafficEncryptionMode', 'enableBridgingMode', 'defaultMTU', 'wireGuard.port', 'egress.exceptCIDRs', 'serviceCIDR',
    'serviceCIDRv6', 'apiPort', 'clusterPort', 'enablePrometheusMetrics', 'flowCollectorAddr', 'flowPollInterval',
    'activeFlowExportTimeout', 'idleFlowExportTimeout', 'nplPortRange', 'nodePortLocal.enable', 'nodePortLocal.portRange',
    'kubeAPIServerOverride', 'tlsCipherSuites', 'tlsMinVersion', 'transportInterface', 'transportInterfaceCIDRs',
    'multicastInterfaces', 'antreaProxy.proxyAll', 'antreaProxy.nodePortAddresses', 'antreaProxy.skipServices',
    'antreaProxy.proxyLoadBalancerIPs',
  ];
  const controllerKeys = [
    'featureGates', 'apiPort', 'enablePrometheusMetrics', 'selfSignedCert', 'tlsCipherSuites', 'tlsMinVersion',
    'legacyCRDMirroring', 'nodeIPAM.enableNodeIPAM', 'nodeIPAM.clusterCIDRs', 'nodeIPAM.serviceCIDR',
    'nodeIPAM.serviceCIDRv6', 'nodeIPAM.nodeCIDRMaskSizeIPv4', 'nodeIPAM.nodeCIDRMaskSizeIPv6',
  ];
  const a = new Set(keyPaths(AGENT_SCHEMA));
  const c = new Set(keyPaths(CONTROLLER_SCHEMA));
  for (const k of agentKeys) assert.ok(a.has(k), `agent: ${k}`);
  for (const k of controllerKeys) assert.ok(c.has(k), `controller: ${k}`);
});

test("an empty conf takes Antrea's defaults", () => {
  const r = agent('');
  assert.deepEqual(r.problems, []);
  assert.ok(r.resolved?.component === 'agent');
  const c = r.resolved.config;
  assert.equal(c.ovsBridge, 'br-int');
  assert.equal(c.ovsDatapathType, 'system');
  assert.equal(c.hostGateway, 'antrea-gw0');
  assert.equal(c.trafficEncapMode, 'encap');
  assert.equal(c.tunnelType, 'geneve');
  assert.equal(c.trafficEncryptionMode, 'none');
  assert.equal(c.apiPort, 10350);
  assert.equal(c.clusterPort, 10351);
  assert.equal(c.wireGuard.port, 51820);
  assert.equal(c.enablePrometheusMetrics, true);
  assert.equal(c.noSNAT, false);
  assert.equal(c.defaultMTU, 0);
  assert.deepEqual(c.egress.exceptCIDRs, []);
  // AntreaProxy is on: no serviceCIDR default, proxyLoadBalancerIPs defaults to true.
  assert.equal(c.serviceCIDR, '');
  assert.equal(c.antreaProxy.proxyLoadBalancerIPs, true);
  // FlowExporter is off: no flow defaults. NodePortLocal is on: the default range.
  assert.equal(c.flowCollectorAddr, '');
  assert.equal(c.nodePortLocal.portRange, '61000-62000');
  assert.equal(c.nodePortLocal.enable, false);
  const k = controller('# nothing\n');
  assert.deepEqual(k.problems, []);
  assert.ok(k.resolved?.component === 'controller');
  assert.equal(k.resolved.config.apiPort, 10349);
  assert.equal(k.resolved.config.selfSignedCert, true);
  assert.equal(k.resolved.config.legacyCRDMirroring, true);
  assert.equal(k.resolved.config.nodeIPAM.nodeCIDRMaskSizeIPv4, 24);
  assert.equal(k.resolved.config.nodeIPAM.nodeCIDRMaskSizeIPv6, 64);
});

test('null values (uncommented section headers) mean "not set"', () => {
  const r = agent('featureGates:\nwireGuard:\negress:\nnodePortLocal:\nantreaProxy:\n  proxyAll:\n');
  assert.deepEqual(r.problems, []);
  assert.equal(r.resolved?.component === 'agent' && r.resolved.config.wireGuard.port, 51820);
});

test('feature-dependent defaults: serviceCIDR without AntreaProxy, flow exporter defaults with FlowExporter', () => {
  const r = agent('featureGates:\n  AntreaProxy: false\n  FlowExporter: true\n');
  assert.ok(r.resolved?.component === 'agent');
  const c = r.resolved.config;
  assert.equal(c.serviceCIDR, '10.96.0.0/12');
  assert.equal(c.antreaProxy.proxyLoadBalancerIPs, false);
  assert.equal(c.flowCollectorAddr, 'flow-aggregator.flow-aggregator.svc:4739:tls');
  assert.equal(c.flowPollInterval, '5s');
  assert.equal(c.activeFlowExportTimeout, '30s');
  assert.equal(c.idleFlowExportTimeout, '15s');
  assert.equal(r.resolved.derived.flowExporter?.staleConnectionTimeoutNs, 300e9);
  assert.equal(r.resolved.derived.flowExporter?.collector.port, 4739);
});

test('nodePortLocal.portRange comes from the deprecated nplPortRange, with a warning', () => {
  const r = agent('nplPortRange: 40000-41000\n');
  assert.equal(r.resolved?.component === 'agent' && r.resolved.config.nodePortLocal.portRange, '40000-41000');
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.key]),
    [['WARN_DEPRECATED_KEY', 'nplPortRange']],
  );
  assert.match(r.problems[0]?.message ?? '', /please use nodePortLocal.portRange instead/);
  const both = agent('nplPortRange: 40000-41000\nnodePortLocal:\n  portRange: 50000-51000\n');
  assert.equal(both.resolved?.component === 'agent' && both.resolved.config.nodePortLocal.portRange, '50000-51000');
});

test('enableIPSecTunnel (deprecated) means trafficEncryptionMode ipsec', () => {
  const r = agent('enableIPSecTunnel: true\n');
  assert.equal(r.resolved?.component === 'agent' && r.resolved.config.trafficEncryptionMode, 'ipsec');
  assert.ok(r.problems.some((p) => p.code === 'WARN_DEPRECATED_KEY' && p.key === 'enableIPSecTunnel'));
});

test('unknown keys are errors naming the key, with the closest known key', () => {
  const r = agent('ovsBrige: br-int\nantreaProxy:\n  proxyALL: true\ncompletelyNew: 1\n');
  assert.deepEqual(
    errors(r).map((p) => [p.code, p.key, p.message]),
    [
      ['ERR_UNKNOWN_KEY', 'ovsBrige', 'unknown key "ovsBrige" (did you mean ovsBridge?)'],
      ['ERR_UNKNOWN_KEY', 'antreaProxy.proxyALL', 'unknown key "proxyALL" (did you mean proxyAll?)'],
      ['ERR_UNKNOWN_KEY', 'completelyNew', 'unknown key "completelyNew"'],
    ],
  );
  assert.equal(errors(r)[0]?.line, 1);
  assert.equal(errors(r)[1]?.line, 3);
  const k = controller('nodeIPAM:\n  enableNodeIpam: true\n');
  assert.match(errors(k)[0]?.message ?? '', /did you mean enableNodeIPAM/);
});

test('wrong types are errors naming the key and the expected type', () => {
  const r = agent(
    [
      'noSNAT: yes',
      'apiPort: "10350"',
      'defaultMTU: 1450.5',
      'egress:',
      '  exceptCIDRs: 10.0.0.0/8',
      'transportInterfaceCIDRs: [10.0.0.0/8, {a: 1}]',
      'antreaProxy: true',
      'featureGates: [Egress]',
      'ovsBridge: {name: br}',
      'tunnelType: 123',
    ].join('\n'),
  );
  assert.deepEqual(
    errors(r).map((p) => [p.key, p.message]),
    [
      ['noSNAT', 'must be a boolean (true or false), not "yes" (YAML 1.1 yes/no/on/off are not booleans here; write true or false)'],
      ['apiPort', 'must be an integer, not "10350"'],
      ['defaultMTU', 'must be an integer, not 1450.5'],
      ['egress.exceptCIDRs', 'must be a list of strings, not "10.0.0.0/8"'],
      ['transportInterfaceCIDRs', 'item 1 must be a string, not a mapping'],
      ['antreaProxy', 'must be a mapping, not true'],
      ['featureGates', 'must be a mapping of feature names to true or false, not a list'],
      ['ovsBridge', 'must be a string, not a mapping'],
      // tunnelType 123 is accepted as the string "123" (yaml.v2 does so) and then refused as a tunnel type.
      ['tunnelType', 'tunnel type 123 is invalid; valid types: geneve, vxlan, gre, stt'],
    ],
  );
  assert.ok(errors(r).every((p) => p.code === 'ERR_INVALID_TYPE' || p.key === 'tunnelType'));
});

test('a gate set to a non-boolean is an error naming the gate', () => {
  const r = agent('featureGates:\n  Egress: yes\n  Traceflow: "true"\n');
  assert.deepEqual(
    errors(r).map((p) => [p.code, p.key, p.gate]),
    [
      ['ERR_INVALID_GATE_VALUE', 'featureGates.Egress', 'Egress'],
      ['ERR_INVALID_GATE_VALUE', 'featureGates.Traceflow', 'Traceflow'],
    ],
  );
  assert.equal(formatConfigProblem(errors(r)[0]!), 'error: antrea-agent.conf:2: featureGates.Egress: feature gate Egress must be true or false, not "yes"');
});

test('unknown, not-implemented and meta gates', () => {
  const r = agent('featureGates:\n  Egres: true\n  ServiceExternalIP: true\n  AllAlpha: false\n');
  assert.deepEqual(
    errors(r).map((p) => [p.code, p.gate]),
    [
      ['ERR_UNKNOWN_GATE', 'Egres'],
      ['ERR_GATE_NOT_IMPLEMENTED', 'ServiceExternalIP'],
    ],
  );
  assert.match(errors(r)[0]?.message ?? '', /did you mean Egress/);
});

test('keys antrea-ts does not use are accepted and reported as warnings', () => {
  const r = agent('tlsMinVersion: VersionTLS12\nkubeAPIServerOverride: https://10.0.0.1:6443\nclusterPort: 10351\nwireGuard:\n  port: 51821\nclientConnection:\n  kubeconfig: /x\n');
  assert.deepEqual(errors(r), []);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.key]),
    [
      ['WARN_KEY_NOT_USED', 'tlsMinVersion'],
      ['WARN_KEY_NOT_USED', 'kubeAPIServerOverride'],
      ['WARN_KEY_NOT_USED', 'clusterPort'],
      ['WARN_KEY_NOT_USED', 'wireGuard.port'],
      ['WARN_KEY_NOT_USED', 'clientConnection'],
    ],
  );
  const used = agent('ovsBridge: br-x\ntransportInterface: eth1\nantreaProxy:\n  proxyAll: true\n');
  assert.deepEqual(used.problems, []);
});

test('a conf that is not a mapping, or not YAML, is one clear error', () => {
  const list = agent('- a\n- b\n');
  assert.deepEqual(list.problems.map((p) => p.code), ['ERR_CONF_NOT_MAPPING']);
  assert.equal(formatConfigProblem(list.problems[0]!), 'error: antrea-agent.conf:1: antrea-agent.conf must be a YAML mapping of keys to values, not a list');
  const scalar = controller('just text');
  assert.deepEqual(scalar.problems.map((p) => p.code), ['ERR_CONF_NOT_MAPPING']);
  const bad = agent('a: 1\nb: [1, 2\n');
  assert.equal(bad.problems[0]?.code, 'ERR_MALFORMED_YAML');
  assert.match(bad.problems[0]?.message ?? '', /^malformed YAML at line \d+, column \d+ of antrea-agent.conf: /);
  assert.ok(!(bad.problems[0]?.message ?? '').includes('\n'));
  const dup = agent('ovsBridge: a\novsBridge: b\n');
  assert.match(dup.problems[0]?.message ?? '', /line 2, column 1 of antrea-agent.conf: Map keys must be unique/);
});
