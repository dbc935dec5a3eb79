import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { featuresAt, featureAt, newFeatureGate, notImplementedAt, componentFeatures, IMPLEMENTED_RELEASE, FEATURES } from './index.js';
import { isAntreaError } from '../util/errors.js';

// The feature table of Antrea's feature-gate page at release 1.5 (shared/reference/feature-gates.md).
const table15 = [
  ['AntreaProxy', 'agent', true, 'Beta', 'v0.8', 'v0.11'],
  ['EndpointSlice', 'agent', false, 'Alpha', 'v0.13.0', null],
  ['AntreaPolicy', 'agent+controller', true, 'Beta', 'v0.8', 'v1.0'],
  ['Traceflow', 'agent+controller', true, 'Beta', 'v0.8', 'v0.11'],
  ['FlowExporter', 'agent', false, 'Alpha', 'v0.9', null],
  ['NetworkPolicyStats', 'agent+controller', true, 'Beta', 'v0.10', 'v1.2'],
  ['NodePortLocal', 'agent', true, 'Beta', 'v0.13', 'v1.4'],
  ['Egress', 'agent+controller', false, 'Alpha', 'v1.0', null],
  ['NodeIPAM', 'controller', false, 'Alpha', 'v1.4', null],
  ['AntreaIPAM', 'agent+controller', false, 'Alpha', 'v1.4', null],
  ['Multicast', 'agent', false, 'Alpha', 'v1.5', null],
  ['SecondaryNetwork', 'agent', false, 'Alpha', 'v1.5', null],
] as const;

describe('the catalog at v1.5.0', () => {
  test('matches the feature-gate page row by row', () => {
    const features = featuresAt(IMPLEMENTED_RELEASE);
    assert.deepEqual(
      features.map((f) => [f.name, f.components.join('+'), f.default, f.stage, f.alpha, f.beta]),
      table15.map((row) => [...row]),
    );
    for (const f of features) {
      assert.equal(f.ga, null);
      assert.equal(f.lockToDefault, false);
    }
  });

  test('Alpha is off and Beta on by default, for every feature', () => {
    for (const f of featuresAt()) assert.equal(f.default, f.stage !== 'Alpha', f.name);
  });

  test('the gate has every implemented feature at its default, and the others off', () => {
    const g = newFeatureGate();
    for (const f of featuresAt()) assert.equal(g.enabled(f.name), f.implemented && f.default, f.name);
  });

  test('a feature antrea-ts does not implement yet stays off: turning it on is an error, off is accepted', () => {
    const g = newFeatureGate();
    const problems = g.setFromMap({ Multicast: true, SecondaryNetwork: false });
    assert.deepEqual(problems.map((p) => [p.code, p.gate]), [['ERR_GATE_NOT_IMPLEMENTED', 'Multicast']]);
    assert.match(problems[0]?.message ?? '', /Multicast is not implemented by antrea-ts yet/);
    assert.deepEqual(newFeatureGate().setFromMap({ Multicast: false }), []);
    assert.equal(newFeatureGate().enabled('NodePortLocal'), true, 'Beta and implemented: on by default');
  });

  test('ServiceExternalIP is known to Antrea 1.5 but not implemented: its own error', () => {
    const problems = newFeatureGate().setFromMap({ ServiceExternalIP: true });
    assert.equal(problems[0]?.code, 'ERR_GATE_NOT_IMPLEMENTED');
    assert.match(problems[0]?.message ?? '', /ServiceExternalIP is an Antrea feature gate \(since v1.5\) that antrea-ts does not implement/);
  });

  test('a gate from a later release is unknown at 1.5', () => {
    assert.equal(newFeatureGate().setFromMap({ TrafficControl: true })[0]?.code, 'ERR_UNKNOWN_GATE');
  });

  test('per-component lists', () => {
    assert.deepEqual(componentFeatures('controller').map((f) => f.name), ['AntreaPolicy', 'Traceflow', 'NetworkPolicyStats', 'Egress', 'NodeIPAM', 'AntreaIPAM']);
    assert.equal(componentFeatures('agent').length, 11);
  });
});

describe('other releases', () => {
  test('Egress became Beta and on in v1.6', () => {
    assert.equal(featureAt('Egress', 'v1.5.0')?.stage, 'Alpha');
    const egress = featureAt('Egress', 'v1.6.0');
    assert.equal(egress?.stage, 'Beta');
    assert.equal(egress?.default, true);
    assert.equal(egress?.beta, 'v1.6');
  });

  test('EndpointSlice is GA at v1.14 and locked from v2.5', () => {
    assert.equal(featureAt('EndpointSlice', 'v1.14.0')?.lockToDefault, false);
    const locked = featureAt('EndpointSlice', 'v2.5.0');
    assert.equal(locked?.stage, 'GA');
    assert.equal(locked?.lockToDefault, true);
    assert.equal(locked?.ga, 'v1.14');
    const problems = newFeatureGate({ release: 'v2.5.0' }).setFromMap({ EndpointSlice: false });
    assert.equal(problems[0]?.code, 'ERR_LOCKED_GATE');
    assert.deepEqual(newFeatureGate({ release: 'v1.5.0' }).setFromMap({ EndpointSlice: false }), []);
  });

  test('a feature not yet introduced is unknown at that release', () => {
    assert.equal(featureAt('Multicast', 'v1.4.0'), undefined);
    assert.equal(featureAt('AntreaProxy', 'v0.7.0'), undefined);
    assert.equal(newFeatureGate({ release: 'v1.4.0' }).setFromMap({ Multicast: true })[0]?.code, 'ERR_UNKNOWN_GATE');
    assert.equal(featuresAt('v0.8.0').length, 3);
  });

  test('Multicast belongs to both components from v1.12', () => {
    assert.deepEqual(featureAt('Multicast', 'v1.12.0')?.components, ['agent', 'controller']);
  });

  test('not-implemented gates follow their releases', () => {
    assert.ok('L7FlowExporter' in notImplementedAt('v2.5.0'));
    assert.ok(!('L7FlowExporter' in notImplementedAt('v2.6.0')));
    assert.ok(!('TrafficControl' in notImplementedAt('v1.6.0')));
    assert.ok('TrafficControl' in notImplementedAt('v1.7.0'));
  });

  test('a release that does not parse is a clear error', () => {
    assert.throws(() => featuresAt('latest'), (e: unknown) => isAntreaError(e, 'ERR_INVALID_RELEASE') && /vX.Y/.test(e.message));
  });
});

test('catalog integrity: histories are ordered and start Alpha; requirements name known gates', () => {
  const names = new Set(FEATURES.map((f) => f.name));
  for (const f of FEATURES) {
    assert.equal(f.history[0]?.stage, 'Alpha', f.name);
    for (const r of f.requirements) if (r.kind === 'gate') assert.ok(names.has(r.gate), `${f.name} requires unknown ${r.gate}`);
    const releases = f.history.map((h) => h.release);
    const sorted = [...releases].sort((a, b) => {
      const pa = a.slice(1).split('.').map(Number);
      const pb = b.slice(1).split('.').map(Number);
      return (pa[0]! - pb[0]!) || (pa[1]! - pb[1]!) || ((pa[2] ?? 0) - (pb[2] ?? 0));
    });
    assert.deepEqual(releases, sorted, f.name);
  }
});
