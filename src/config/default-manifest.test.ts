import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featuresAt } from '../features/index.js';
import { effectiveGates } from './effective.js';
import { loadManifest } from './load.js';
import { AGENT_SCHEMA, CONTROLLER_SCHEMA, keyPaths, type KeySpec, type Schema } from './schema.js';
import { defaultManifest } from './testing.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

const loaded = () => loadManifest(defaultManifest(), { path: 'build/yamls/antrea.yml' });

test('the default manifest checks clean, on Linux and on Windows', () => {
  assert.deepEqual(loaded().problems, []);
  assert.deepEqual(loadManifest(defaultManifest(), { os: 'windows', kernel: '5.15' }).problems, []);
  const m = loaded();
  assert.equal(m.configMap?.name, 'antrea-config');
  assert.equal(m.configMap?.namespace, 'kube-system');
});

test('the default manifest leaves every gate at its default', () => {
  const gates = effectiveGates(loaded());
  for (const c of ['agent', 'controller'] as const) {
    for (const g of gates[c]) {
      assert.equal(g.explicit, false, `${c} ${g.name}`);
      assert.equal(g.enabled, g.default, `${c} ${g.name}`);
    }
  }
});

function leafKeys(schema: Schema): string[] {
  return keyPaths(schema).filter((k) => {
    const parts = k.split('.');
    let spec: KeySpec | undefined = schema[parts[0] as string];
    for (const p of parts.slice(1)) spec = spec?.children?.[p];
    return spec?.type !== 'object';
  });
}

test('every key of both confs is in the default manifest, with a comment saying what it does', () => {
  const m = loaded();
  const hidden = new Set(['cniSocket', 'clientConnection', 'antreaClientConnection', 'ovsRunDir', 'enableIPSecTunnel', 'hostProcPathPrefix']);
  for (const [component, schema] of [['agent', AGENT_SCHEMA], ['controller', CONTROLLER_SCHEMA]] as const) {
    const conf = m.configMap?.confs[component]?.value ?? '';
    const lines = conf.split('\n');
    for (const key of leafKeys(schema)) {
      const top = key.split('.')[0] as string;
      if (hidden.has(top) || key.startsWith('clientConnection.') || key.startsWith('antreaClientConnection.')) continue;
      const last = key.split('.').at(-1) as string;
      const at = lines.findIndex((l) => new RegExp(`^\\s*#?\\s*${last}:`).test(l));
      assert.ok(at > 0, `${component}: ${key} is in the conf`);
      assert.match(lines[at - 1] ?? '', /#/, `${component}: ${key} has a comment above it`);
    }
  }
});

test("each component's gates are listed, commented out, each under its description", () => {
  const m = loaded();
  for (const component of ['agent', 'controller'] as const) {
    const lines = (m.configMap?.confs[component]?.value ?? '').split('\n');
    for (const f of featuresAt().filter((x) => x.components.includes(component))) {
      const at = lines.indexOf(`#  ${f.name}: ${f.default}`);
      assert.ok(at > 0, `${component}: ${f.name}`);
      assert.match(lines[at - 1] ?? '', /^# \S/, `${component}: ${f.name} has a description`);
    }
  }
  const agent = m.configMap?.confs.agent?.value ?? '';
  assert.match(agent, /AntreaProxy[^\n]*\n# Keep it enabled on Windows Nodes/);
});
