import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { antctl } from './antctl.js';
import { capture } from './testing.js';

const defaultManifest = join(process.cwd(), 'build/yamls/antrea.yml');
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'antctl-fg-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (...argv: string[]) => capture(antctl, argv, { cwd: dir });
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};
const configMap = (agentConf: string, controllerConf = 'featureGates: {}\n') =>
  [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: antrea-config',
    '  namespace: kube-system',
    'data:',
    '  antrea-agent.conf: |',
    ...agentConf.trimEnd().split('\n').map((l) => `    ${l}`),
    '  antrea-controller.conf: |',
    ...controllerConf.trimEnd().split('\n').map((l) => `    ${l}`),
    '',
  ].join('\n');

describe('antctl featuregates check', () => {
  test('our default manifest is clean', async () => {
    const r = await capture(antctl, ['featuregates', 'check', defaultManifest]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('bad input gets one clear line each, never a stack trace', async () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['malformed.yml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n  name: antrea-config\n', 2, /malformed\.yml:\d+/],
      ['nocm.yml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n', 1, /antrea-config/],
      ['notmap.yml', configMap('- just\n- a list\n'), 1, /antrea-agent\.conf.*mapping/],
      ['yes.yml', configMap('featureGates:\n  Egress: yes\n'), 1, /featureGates\.Egress: .*true or false/],
    ];
    for (const [name, text, code, pattern] of cases) {
      const r = await run('featuregates', 'check', write(name, text));
      assert.equal(r.code, code, `${name}: ${r.stderr}`);
      assert.match(r.stderr, pattern, name);
      assert.doesNotMatch(r.stderr, /\n\s+at /, name);
      assert.ok(r.stderr.trim().split('\n').every((l) => /^(error|warning): /.test(l)), `${name}: ${r.stderr}`);
    }
    const missing = await run('featuregates', 'check', 'nope.yml');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: cannot read .*nope\.yml: no such file/);
  });

  test('-o json lists errors and warnings with component, gate and key', async () => {
    const name = write('mixed.yml', configMap('featureGates:\n  Egress: true\n  EndpointSlice: true\n  AntreaProxy: false\n  Bogus: true\n', 'featureGates:\n  Egress: false\n'));
    const r = await run('featuregates', 'check', name, '-o', 'json');
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { errors: Array<Record<string, string>>; warnings: Array<Record<string, string>> };
    const bogus = out.errors.find((e) => e.gate === 'Bogus');
    assert.equal(bogus?.component, 'agent');
    assert.equal(bogus?.key, 'featureGates.Bogus');
    assert.match(bogus?.message ?? '', /unrecognized feature gate: Bogus/);
  });

  test('an agent/controller mismatch on a both-component gate is an error', async () => {
    const name = write('mismatch.yml', configMap('featureGates:\n  Traceflow: false\n', 'featureGates:\n  Traceflow: true\n'));
    const r = await run('featuregates', 'check', name, '-o', 'json');
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { errors: Array<Record<string, string>> };
    assert.ok(out.errors.some((e) => e.gate === 'Traceflow' && e.code === 'ERR_GATE_INCONSISTENT'), r.stdout);
  });

  test('--release: a gate locked in a later release is refused there', async () => {
    const name = write('eps.yml', configMap('featureGates:\n  EndpointSlice: false\n'));
    assert.equal((await run('featuregates', 'check', name)).code, 0);
    const r = await run('featuregates', 'check', name, '--release', 'v2.5.0');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot set feature gate EndpointSlice to false, feature is locked to true/);
  });

  test('--os windows refuses Linux-only features and a disabled AntreaProxy', async () => {
    const name = write('win.yml', configMap('featureGates:\n  AntreaProxy: false\n  FlowExporter: true\n'));
    const r = await run('featuregates', 'check', name, '--os', 'windows', '-o', 'json');
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { errors: Array<Record<string, string>> };
    assert.ok(out.errors.some((e) => e.gate === 'FlowExporter'), r.stdout);
    assert.ok(out.errors.some((e) => e.gate === 'AntreaProxy'), r.stdout);
  });
});

describe('antctl featuregates set', () => {
  test('set then check round-trips on the default manifest, and the diff shows only the changed values', async () => {
    copyFileSync(defaultManifest, join(dir, 'default.yml'));
    const before = readFileSync(join(dir, 'default.yml'), 'utf8').split('\n');
    const r = await run('featuregates', 'set', 'default.yml', 'FlowExporter=true,Traceflow=false');
    assert.equal(r.code, 0, r.stderr);
    const after = readFileSync(join(dir, 'default.yml'), 'utf8').split('\n');
    assert.equal(after.length, before.length);
    const changed = after.map((l, i) => [before[i], l] as const).filter(([a, b]) => a !== b);
    // Traceflow belongs to both components (two lines), FlowExporter to the agent.
    assert.equal(changed.length, 3, JSON.stringify(changed));
    for (const [, line] of changed) assert.match(line, /^\s+(FlowExporter: true|Traceflow: false)$/);
    const g = await run('get', 'featuregates', '--manifest', 'default.yml', '-o', 'json');
    const rows = JSON.parse(g.stdout) as Array<{ component: string; name: string; status: string }>;
    assert.deepEqual(rows.filter((x) => x.name === 'FlowExporter').map((x) => [x.component, x.status]), [['agent', 'Enabled']]);
    assert.deepEqual(rows.filter((x) => x.name === 'Traceflow').map((x) => x.status), ['Disabled', 'Disabled']);
    assert.equal((await run('featuregates', 'check', 'default.yml')).code, 0);
  });

  test('comments inside the conf strings survive', async () => {
    const text = configMap('# why we run this\nfeatureGates:\n  # keep traceflow for debugging\n  Traceflow: true  # inline note\n# trailing comment\n', '# controller\nfeatureGates:\n  Traceflow: true\n');
    const name = write('comments.yml', text);
    assert.equal((await run('featuregates', 'set', name, 'Traceflow=false')).code, 0);
    const out = readFileSync(join(dir, name), 'utf8');
    for (const c of ['# why we run this', '# keep traceflow for debugging', '# inline note', '# trailing comment', '# controller']) assert.ok(out.includes(c), c);
    assert.equal((out.match(/Traceflow: false/g) ?? []).length, 2);
    assert.equal((await run('featuregates', 'check', name)).code, 0);
  });

  test('--component narrows a both-component gate, with a warning about the inconsistency', async () => {
    copyFileSync(defaultManifest, join(dir, 'narrow.yml'));
    const r = await run('featuregates', 'set', 'narrow.yml', 'AntreaPolicy=false', '--component', 'agent');
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^warning: .*AntreaPolicy/m);
  });

  test('unknown and locked gates are refused and nothing is written', async () => {
    copyFileSync(defaultManifest, join(dir, 'refuse.yml'));
    const original = readFileSync(join(dir, 'refuse.yml'), 'utf8');
    for (const [spec, extra, pattern] of [
      ['Bogus=true', [], /unrecognized feature gate: Bogus/],
      ['EndpointSlice=false', ['--release', 'v2.5.0'], /locked to true/],
      ['ServiceExternalIP=true', [], /does not implement/],
      ['Multicast=true', [], /Multicast is not implemented by antrea-ts yet/],
    ] as const) {
      const r = await run('featuregates', 'set', 'refuse.yml', spec, ...extra);
      assert.equal(r.code, 1, `${spec}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(readFileSync(join(dir, 'refuse.yml'), 'utf8'), original);
    }
    const bad = await run('featuregates', 'set', 'refuse.yml', 'Egress=yes');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid value of Egress=yes/);
  });
});

test("get featuregates --manifest prints Antrea's format", async () => {
  const r = await capture(antctl, ['get', 'featuregates', '--manifest', defaultManifest]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'Antrea Agent Feature Gates');
  assert.match(lines[1] ?? '', /^FEATUREGATE\s+STATUS\s+VERSION$/);
  assert.ok(r.stdout.includes('\nAntrea Controller Feature Gates\n'));
  assert.match(r.stdout, /\nAntreaProxy\s+Enabled\s+BETA\n/);
  assert.match(r.stdout, /\nNodeIPAM\s+Disabled\s+ALPHA\n/);
});
