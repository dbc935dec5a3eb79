import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { featuresAt } from '../features/index.js';
import { editConfGates } from './edit-conf.js';
import { gatesByComponent, setFeatureGates } from './edit.js';
import { loadManifest } from './load.js';
import { defaultManifest, diffLines, fixture } from './testing.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

const errorsOf = (text: string) => loadManifest(text).problems.filter((p) => p.severity === 'error');

test('set then check on the default manifest: only the gate lines change', () => {
  const before = defaultManifest();
  const r = setFeatureGates(before, gatesByComponent({ Egress: true }), { path: 'antrea.yml' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.changed, true);
  assert.deepEqual(diffLines(before, r.text), ['-    #  Egress: false', '+      Egress: true', '-    #  Egress: false', '+      Egress: true']);
  assert.deepEqual(errorsOf(r.text), []);
  const m = loadManifest(r.text);
  assert.equal(m.agent?.gates.enabled('Egress'), true);
  assert.equal(m.controller?.gates.enabled('Egress'), true);
  // And back: only the values change.
  const back = setFeatureGates(r.text, gatesByComponent({ Egress: false }));
  assert.deepEqual(diffLines(r.text, back.text), ['-      Egress: true', '+      Egress: false', '-      Egress: true', '+      Egress: false']);
  assert.deepEqual(errorsOf(back.text), []);
});

test('set then check on a manifest with comments inside the conf strings and #featureGates: commented out', () => {
  const before = fixture('commented-featuregates.yml');
  const r = setFeatureGates(before, gatesByComponent({ Egress: true, Multicast: false, AntreaPolicy: false }));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(diffLines(before, r.text), [
    // agent: the header and the gate's own line are uncommented, its trailing comment kept
    '-    #featureGates:',
    '+    featureGates:',
    '-    #  Egress: false   # needs encap mode',
    '+      Egress: true   # needs encap mode',
    // agent: gates with no commented line follow the last commented gate
    '+      Multicast: false',
    '+      AntreaPolicy: false',
    // controller: an existing entry's value replaced in place (its comment kept); a new entry after the last
    '-      AntreaPolicy: true   # the default anyway',
    '+      AntreaPolicy: false   # the default anyway',
    '+      Egress: true',
  ]);
  const m = loadManifest(r.text);
  assert.deepEqual(m.agent?.explicitGates, { Egress: true, Multicast: false, AntreaPolicy: false });
  assert.deepEqual(m.controller?.explicitGates, { AntreaPolicy: false, Traceflow: true, Egress: true });
  assert.equal(m.agent?.config.ovsBridge, 'br-int');
  // The remaining commented gate lines stay comments inside the now-real map.
  assert.match(r.text, /\n {4}#  AntreaProxy: true\n/);
  assert.deepEqual(errorsOf(r.text), []);
  // Narrowed to the controller, AntreaPolicy ends up inconsistent: set warns, check errs.
  const narrowed = setFeatureGates(before, gatesByComponent({ AntreaPolicy: false }, { component: 'controller' }));
  assert.deepEqual(narrowed.problems.map((p) => p.code), ['WARN_GATE_INCONSISTENT']);
  assert.deepEqual(
    errorsOf(narrowed.text).map((p) => [p.code, p.gate]),
    [['ERR_GATE_INCONSISTENT', 'AntreaPolicy']],
  );
});

test("set on Antrea 1.5's manifest shape (featureGates: with commented gates)", () => {
  const before = fixture('antrea-1.5-configmap.yml');
  const r = setFeatureGates(before, gatesByComponent({ FlowExporter: true, NodeIPAM: true, AntreaProxy: false }));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(diffLines(before, r.text), [
    '-    #  AntreaProxy: true',
    '+      AntreaProxy: false',
    '-    #  FlowExporter: false',
    '+      FlowExporter: true',
    '-    #  NodeIPAM: false',
    '+      NodeIPAM: true',
  ]);
  const m = loadManifest(r.text);
  assert.equal(m.agent?.config.flowCollectorAddr, 'flow-aggregator.flow-aggregator.svc:4739:tls');
  // The gates are written; a check then says that Antrea's tls collector address cannot work with antrea-ts.
  assert.deepEqual(errorsOf(r.text).map((p) => [p.code, p.key]), [['ERR_UNSUPPORTED_VALUE', 'flowCollectorAddr']]);
});

test('refusals: unknown, locked and not-implemented gates leave the text unchanged', () => {
  const before = defaultManifest();
  const unknown = setFeatureGates(before, { agent: { Egres: true, Egress: true } });
  assert.equal(unknown.text, before);
  assert.equal(unknown.changed, false);
  assert.deepEqual(
    unknown.problems.map((p) => [p.code, p.gate, p.conf]),
    [['ERR_UNKNOWN_GATE', 'Egres', 'antrea-agent.conf']],
  );
  const locked = setFeatureGates(before, { agent: { EndpointSlice: false } }, { release: 'v2.5.0' });
  assert.equal(locked.text, before);
  assert.deepEqual(locked.problems.map((p) => p.code), ['ERR_LOCKED_GATE']);
  const notImpl = setFeatureGates(before, gatesByComponent({ ServiceExternalIP: true }));
  assert.equal(notImpl.text, before);
  assert.deepEqual(notImpl.problems.map((p) => p.code), ['ERR_GATE_NOT_IMPLEMENTED']);
  const notBool = setFeatureGates(before, { agent: { Egress: 'yes' as unknown as boolean } });
  assert.equal(notBool.text, before);
  assert.deepEqual(notBool.problems.map((p) => p.code), ['ERR_INVALID_GATE_VALUE']);
  const noCm = setFeatureGates('kind: Namespace\n', { agent: { Egress: true } });
  assert.equal(noCm.text, 'kind: Namespace\n');
  assert.deepEqual(noCm.problems.map((p) => p.code), ['ERR_NO_ANTREA_CONFIGMAP']);
  const noConf = 'kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: |\n    a: 1\n';
  const r = setFeatureGates(noConf, { controller: { Egress: true } });
  assert.equal(r.text, noConf);
  assert.ok(r.problems.some((p) => p.code === 'ERR_CONF_MISSING'));
});

test('narrowed to one component: the inconsistency and a wrong component are warnings', () => {
  const r = setFeatureGates(defaultManifest(), gatesByComponent({ Egress: true }, { component: 'agent' }));
  assert.deepEqual(
    r.problems.map((p) => [p.severity, p.code, p.gate]),
    [['warning', 'WARN_GATE_INCONSISTENT', 'Egress']],
  );
  const wrong = setFeatureGates(defaultManifest(), { agent: { NodeIPAM: true } });
  assert.deepEqual(wrong.problems.map((p) => p.code), ['WARN_GATE_NO_EFFECT']);
  assert.equal(wrong.changed, true);
});

test('gatesByComponent splits by the catalog', () => {
  assert.deepEqual(gatesByComponent({ Egress: true, AntreaProxy: false, NodeIPAM: true }), {
    agent: { Egress: true, AntreaProxy: false },
    controller: { Egress: true, NodeIPAM: true },
  });
  assert.deepEqual(gatesByComponent({ Egress: true }, { component: 'controller' }), { controller: { Egress: true } });
});

test('conf edits: no featureGates key, a flow map, a null value, an empty conf', () => {
  const appended = editConfGates('ovsBridge: br-int\n', { Egress: true });
  assert.equal(appended.kind, 'splices');
  assert.equal((appended as { text: string }).text, 'ovsBridge: br-int\n\nfeatureGates:\n  Egress: true\n');
  const flow = editConfGates('featureGates: {Traceflow: false}  # flow\napiPort: 1\n', { Egress: true });
  assert.equal(flow.kind !== 'error' && flow.text, 'featureGates: {Traceflow: false, Egress: true}  # flow\napiPort: 1\n');
  const nul = editConfGates('featureGates: null\napiPort: 1\n', { Egress: true });
  assert.equal(nul.kind !== 'error' && nul.text, 'featureGates:\n  Egress: true\napiPort: 1\n');
  const empty = editConfGates('', { Egress: true });
  assert.equal(empty.kind !== 'error' && empty.text, 'featureGates:\n  Egress: true\n');
  const same = editConfGates('featureGates:\n    Egress: true # on\n', { Egress: true, Traceflow: false });
  assert.equal(same.kind !== 'error' && same.text, 'featureGates:\n    Egress: true # on\n    Traceflow: false\n');
  const valueless = editConfGates('featureGates:\n  Egress:\n', { Egress: true });
  assert.equal(valueless.kind !== 'error' && valueless.text, 'featureGates:\n  Egress: true\n');
  assert.equal(editConfGates('- a\n', { Egress: true }).kind, 'error');
  assert.equal(editConfGates('featureGates: [a]\n', { Egress: true }).kind, 'error');
  assert.equal(editConfGates('a: [\n', { Egress: true }).kind, 'error');
});

test('a conf that is not a literal block is rewritten as one, touching only its own lines', () => {
  const before = 'kind: ConfigMap # cm\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: "ovsBridge: br-int\\n"\n  antrea-controller.conf: ""\n# end\n';
  const r = setFeatureGates(before, { agent: { Traceflow: true } });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(diffLines(before, r.text), [
    '-  antrea-agent.conf: "ovsBridge: br-int\\n"',
    '+  antrea-agent.conf: |',
    '+    ovsBridge: br-int',
    '+',
    '+    featureGates:',
    '+      Traceflow: true',
  ]);
  assert.deepEqual(loadManifest(r.text).agent?.explicitGates, { Traceflow: true });
});

test('a conf inside a flow mapping stays a double-quoted string', () => {
  const before = 'kind: ConfigMap\nmetadata: {name: antrea-config, namespace: kube-system}\ndata: {antrea-agent.conf: "ovsBridge: br-int\\n", antrea-controller.conf: ""}\n';
  const r = setFeatureGates(before, { agent: { Traceflow: true } });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(diffLines(before, r.text), [
    '-data: {antrea-agent.conf: "ovsBridge: br-int\\n", antrea-controller.conf: ""}',
    '+data: {antrea-agent.conf: "ovsBridge: br-int\\n\\nfeatureGates:\\n  Traceflow: true\\n", antrea-controller.conf: ""}',
  ]);
});

test('CRLF manifests keep their line endings', () => {
  const before = defaultManifest().replace(/\n/g, '\r\n');
  const r = setFeatureGates(before, gatesByComponent({ Egress: true }));
  assert.deepEqual(r.problems, []);
  assert.ok(!/[^\r]\n/.test(r.text));
  assert.deepEqual(diffLines(before, r.text), ['-    #  Egress: false\r', '+      Egress: true\r', '-    #  Egress: false\r', '+      Egress: true\r']);
});

test('kind: List manifests are edited in place', () => {
  const before = fixture('list-kind.yml');
  const r = setFeatureGates(before, gatesByComponent({ Egress: false, Traceflow: false }));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(diffLines(before, r.text), [
    '-          Egress: true',
    '+          Egress: false',
    '+          Traceflow: false',
    '-          Egress: true',
    '+          Egress: false',
    '+          Traceflow: false',
  ]);
});

test('property: any set of gates reads back as set, and each change is one line replaced', () => {
  const features = featuresAt();
  const base = defaultManifest();
  fc.assert(
    fc.property(fc.subarray(features.map((f) => f.name), { minLength: 1 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (names, values) => {
      const wanted = Object.fromEntries(names.map((n, i) => [n, values[i] as boolean]));
      const changes = gatesByComponent(wanted);
      const r = setFeatureGates(base, changes);
      if (r.problems.some((p) => p.severity === 'error')) return false;
      const m = loadManifest(r.text);
      for (const c of ['agent', 'controller'] as const) {
        for (const [n, v] of Object.entries(changes[c] ?? {})) if (m[c]?.explicitGates[n] !== v) return false;
      }
      const pairs = Object.keys(changes.agent ?? {}).length + Object.keys(changes.controller ?? {}).length;
      const diff = diffLines(base, r.text);
      return diff.length === 2 * pairs && diff.filter((l) => l.startsWith('-')).every((l) => l.startsWith('-    #  '));
    }),
    { numRuns: 60 },
  );
});

test('property: successive sets compose', () => {
  const names = featuresAt().map((f) => f.name);
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...names), fc.boolean()), fc.dictionary(fc.constantFrom(...names), fc.boolean()), (a, b) => {
      const once = setFeatureGates(defaultManifest(), gatesByComponent({ ...a, ...b }));
      const twice = setFeatureGates(setFeatureGates(defaultManifest(), gatesByComponent(a)).text, gatesByComponent(b));
      const ga = loadManifest(once.text);
      const gb = loadManifest(twice.text);
      return (
        JSON.stringify(ga.agent?.explicitGates) !== undefined &&
        names.every((n) => ga.agent?.gates.enabled(n) === gb.agent?.gates.enabled(n) && ga.controller?.gates.enabled(n) === gb.controller?.gates.enabled(n))
      );
    }),
    { numRuns: 30 },
  );
});

test('property: conf edits succeed as line splices on varied layouts, keeping every comment', () => {
  const names = featuresAt().map((f) => f.name);
  const layout = fc.record({
    header: fc.constantFrom('block', 'null', 'commented', 'absent', 'flow'),
    existing: fc.subarray(names, { maxLength: 4 }),
    commented: fc.subarray(names, { maxLength: 6 }),
    indent: fc.constantFrom('  ', '    '),
    trailingComments: fc.boolean(),
    before: fc.boolean(),
    after: fc.boolean(),
  });
  fc.assert(
    fc.property(layout, fc.dictionary(fc.constantFrom(...names), fc.boolean(), { minKeys: 1 }), (l, gates) => {
      const lines: string[] = [];
      if (l.before) lines.push('# top comment', 'ovsBridge: br-int  # bridge', '');
      const existing = l.header === 'block' ? l.existing : [];
      const commented = l.commented.filter((n) => !existing.includes(n));
      if (l.header === 'block' && existing.length === 0) existing.push('Traceflow');
      if (l.header === 'flow') lines.push(`featureGates: {${l.existing.map((n) => `${n}: true`).join(', ')}}`);
      if (l.header === 'block' || l.header === 'null') lines.push('featureGates:');
      if (l.header === 'commented') lines.push('#featureGates:');
      if (l.header !== 'flow') {
        for (const n of commented) lines.push(`# ${n} does things`, `#${l.indent}${n}: false${l.trailingComments ? '  # note' : ''}`, '');
        for (const n of existing) lines.push(`${l.indent}${n}: true${l.trailingComments ? '  # set' : ''}`);
      }
      if (l.after) lines.push('', '# the port', '#apiPort: 10350', 'antreaProxy:', '  # all', '  proxyAll: false');
      const conf = lines.join('\n') + '\n';
      const edit = editConfGates(conf, gates);
      if (edit.kind !== 'splices') return false;
      const doc = loadManifest(
        `kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: |\n${edit.text
          .split('\n')
          .map((x) => (x === '' ? '' : `    ${x}`))
          .join('\n')}\n  antrea-controller.conf: ""\n`,
      );
      const every = Object.entries(gates).every(([n, v]) => doc.agent?.explicitGates[n] === v);
      // Every comment line of the original is still there, except the commented gate lines that were uncommented.
      const kept = conf.split('\n').filter((x) => x.trimStart().startsWith('#') && !Object.keys(gates).some((n) => new RegExp(`^#\\s*${n}:`).test(x)) && x !== '#featureGates:');
      return every && kept.every((c) => edit.text.includes(c));
    }),
    { numRuns: 200 },
  );
});
