import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitDocuments } from './documents.js';
import { effectiveGates } from './effective.js';
import { loadAgentConfig, loadManifest, loadManifestFile } from './load.js';
import { formatConfigProblem } from './problems.js';
import { FIXTURES, fixture } from './testing.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

const lines = (problems: { severity: string }[]) => problems.map((p) => formatConfigProblem(p as Parameters<typeof formatConfigProblem>[0]));

test('documents are split at --- lines only', () => {
  const chunks = splitDocuments('a: 1\n---\nb: |\n  ---x\n  y\n--- # c\nc: 3\n---\n');
  assert.deepEqual(
    chunks.map((c) => [c.startLine, c.text]),
    [
      [1, 'a: 1\n'],
      [2, '---\nb: |\n  ---x\n  y\n'],
      [6, '--- # c\nc: 3\n'],
      [8, '---\n'],
    ],
  );
});

test("Antrea 1.5's manifest: ConfigMap antrea-config-<hash> with an antrea-cni.conflist", () => {
  const m = loadManifest(fixture('antrea-1.5-configmap.yml'), { path: 'antrea.yml' });
  assert.deepEqual(m.problems, []);
  assert.equal(m.configMap?.name, 'antrea-config-2k82d6f6t4');
  assert.equal(m.configMap?.namespace, 'kube-system');
  assert.equal(m.agent?.config.ovsBridge, 'br-int');
  assert.equal(m.controller?.config.apiPort, 10349);
  const gates = effectiveGates(m);
  assert.deepEqual(
    gates.agent.filter((g) => g.enabled).map((g) => g.name),
    ['AntreaProxy', 'AntreaPolicy', 'Traceflow', 'NetworkPolicyStats', 'NodePortLocal'],
  );
  assert.deepEqual(
    gates.controller.map((g) => g.name),
    ['AntreaPolicy', 'Traceflow', 'NetworkPolicyStats', 'Egress', 'NodeIPAM', 'AntreaIPAM'],
  );
});

test('kind: List holding the ConfigMap', () => {
  const m = loadManifest(fixture('list-kind.yml'));
  assert.deepEqual(m.problems, []);
  assert.equal(m.configMap?.name, 'antrea-config-abc123');
  assert.equal(m.agent?.gates.enabled('Egress'), true);
  assert.equal(m.controller?.gates.enabled('Egress'), true);
});

test('problems point at manifest lines inside the conf strings', () => {
  const text = fixture('commented-featuregates.yml').replace('ovsBridge: br-int   # do not change', 'ovsBrige: br-int');
  const m = loadManifest(text, { path: 'm.yml' });
  assert.deepEqual(lines(m.problems), ['error: m.yml:23: antrea-agent.conf: ovsBrige: unknown key "ovsBrige" (did you mean ovsBridge?)']);
  assert.equal(text.split('\n')[22], '    ovsBrige: br-int');
});

test('loading errors are one clear line each', () => {
  const cases: [string, string, RegExp][] = [
    ['malformed YAML (with its line)', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata: [1, 2\n', /^error: m\.yml:7: malformed YAML at line 7, column 1: /],
    ['no ConfigMap', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n', /no Antrea ConfigMap found: looked for a ConfigMap in namespace kube-system named antrea-config or antrea-config-<hash>/],
    ['ConfigMap in another namespace', 'kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: default\ndata: {}\n', /found default\/antrea-config outside kube-system/],
    ['malformed YAML elsewhere, no ConfigMap', 'a: 1\n---\nb: [\n', /^error: m\.yml:\d+: malformed YAML at line \d+/],
    ['missing conf', 'kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: ""\n', /^error: m\.yml:1: antrea-controller\.conf: ConfigMap antrea-config has no antrea-controller\.conf in its data$/],
    ['conf not a string', 'kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: {a: 1}\n  antrea-controller.conf: ""\n', /antrea-agent\.conf in ConfigMap antrea-config must be a string/],
    ['conf not a mapping', 'kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: |\n    - a\n  antrea-controller.conf: ""\n', /^error: m\.yml:7: antrea-agent\.conf: antrea-agent\.conf must be a YAML mapping of keys to values, not a list$/],
    ['gate set to "yes"', 'kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: |\n    featureGates:\n      Egress: yes\n  antrea-controller.conf: ""\n', /^error: m\.yml:8: antrea-agent\.conf: featureGates\.Egress: feature gate Egress must be true or false, not "yes"$/],
    ['malformed conf YAML', 'kind: ConfigMap\nmetadata:\n  name: antrea-config\n  namespace: kube-system\ndata:\n  antrea-agent.conf: |\n    a: 1\n    b: [\n  antrea-controller.conf: ""\n', /^error: m\.yml:\d+: antrea-agent\.conf: malformed YAML at line \d+, column \d+ of antrea-agent\.conf: /],
  ];
  for (const [name, text, re] of cases) {
    const m = loadManifest(text, { path: 'm.yml' });
    const errs = m.problems.filter((p) => p.severity === 'error');
    assert.ok(errs.length >= 1, name);
    const line = formatConfigProblem(errs[0]!);
    assert.match(errs.map(formatConfigProblem).join('\n'), re, name);
    assert.ok(!line.includes('\n'), `${name}: one line`);
    assert.ok(!/\bat .*\.ts:\d+/.test(line), `${name}: no stack`);
  }
});

test('unreadable files', () => {
  const m = loadManifestFile('/nonexistent/antrea.yml');
  assert.deepEqual(lines(m.problems), ['error: /nonexistent/antrea.yml: cannot read /nonexistent/antrea.yml: no such file']);
  assert.equal(m.problems[0]?.code, 'ERR_FILE_UNREADABLE');
  assert.match(lines(loadManifestFile(FIXTURES).problems)[0] ?? '', /it is a directory/);
});

test('a conf file read directly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'antrea-conf-'));
  try {
    const path = join(dir, 'antrea-agent.conf');
    writeFileSync(path, 'featureGates:\n  Egress: true\ntunnelType: ipip\n');
    const r = loadAgentConfig(path);
    assert.deepEqual(lines(r.problems), [`error: ${path}:3: tunnelType: tunnel type ipip is invalid; valid types: geneve, vxlan, gre, stt`]);
    assert.equal(r.resolved?.gates.enabled('Egress'), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing namespace is a warning; two Antrea ConfigMaps are an error', () => {
  const one = 'kind: ConfigMap\nmetadata:\n  name: antrea-config\ndata:\n  antrea-agent.conf: ""\n  antrea-controller.conf: ""\n';
  assert.deepEqual(loadManifest(one).problems.map((p) => p.code), ['WARN_CONFIGMAP_NAMESPACE']);
  const two = `${one.replace('name: antrea-config', 'name: antrea-config\n  namespace: kube-system')}---\n${one.replace('name: antrea-config', 'name: antrea-config-x\n  namespace: kube-system')}`;
  assert.deepEqual(loadManifest(two).problems.map((p) => p.code), ['ERR_MULTIPLE_CONFIGMAPS']);
});
