import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { antctl } from './antctl.js';
import { capture } from './testing.js';
import { renderGatesReport } from './featuregates.js';
import { featureGateStatuses, newFeatureGate } from '../features/index.js';

describe('antctl featuregates list', () => {
  test('the JSON form has the documented fields for every feature', async () => {
    const r = await capture(antctl, ['featuregates', 'list', '-o', 'json']);
    assert.equal(r.code, 0);
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.equal(list.length, 12);
    const egress = list.find((f) => f.name === 'Egress');
    assert.deepEqual(
      { ...egress, requirements: undefined, description: undefined, note: undefined, extraRequirements: undefined },
      { name: 'Egress', implemented: true, components: ['agent', 'controller'], default: false, stage: 'Alpha', lockToDefault: false, alpha: 'v1.0', beta: null, ga: null, requirements: undefined, description: undefined, note: undefined, extraRequirements: undefined },
    );
  });

  test('the markdown form reproduces the reference table', async () => {
    const r = await capture(antctl, ['featuregates', 'list', '-o', 'markdown']);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], '| Feature | Component | Default | Stage | Alpha | Beta | GA | Extra requirements | Note |');
    assert.equal(lines[2], '| AntreaProxy | Agent | true | Beta | v0.8 | v0.11 | N/A | Yes | Must be enabled for Windows |');
    assert.ok(lines.includes('| AntreaPolicy | Agent + Controller | true | Beta | v0.8 | v1.0 | N/A | No | Agent side config required from v0.9.0+ |'));
    assert.equal(lines.length, 14);
  });

  test('--release answers with the stages of that release', async () => {
    const r = await capture(antctl, ['featuregates', 'list', '--release', 'v1.6.0', '-o', 'json']);
    const egress = (JSON.parse(r.stdout) as Array<{ name: string; stage: string; default: boolean }>).find((f) => f.name === 'Egress');
    assert.deepEqual([egress?.stage, egress?.default], ['Beta', true]);
  });

  test('the table has upper-case headers', async () => {
    const r = await capture(antctl, ['featuregates', 'list']);
    assert.match(r.stdout, /^FEATURE\s+COMPONENT\s+DEFAULT\s+STAGE/);
    assert.match(r.stdout, /\nNodeIPAM\s+controller\s+false\s+Alpha/);
  });

  test('usage errors exit 2 with one line and no stack', async () => {
    for (const argv of [['featuregates', 'list', '-o', 'xml'], ['featuregates', 'list', '--release', 'latest'], ['featuregates', 'list', '--bogus'], ['nope']]) {
      const r = await capture(antctl, argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /^error: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});

test("renderGatesReport prints Antrea's two sections", () => {
  const gate = newFeatureGate();
  gate.setFromMap({ AntreaPolicy: false });
  const text = renderGatesReport([...featureGateStatuses('agent', gate), ...featureGateStatuses('controller', gate)]);
  const lines = text.split('\n');
  assert.equal(lines[0], 'Antrea Agent Feature Gates');
  // The widest agent gate, NetworkPolicyStats, is 18 characters: the name column is 23 wide.
  assert.equal(lines[1], 'FEATUREGATE            STATUS       VERSION');
  assert.equal(lines[2], 'AntreaIPAM             Disabled     ALPHA');
  assert.equal(lines[3], 'AntreaPolicy           Disabled     BETA');
  assert.ok(text.includes('\n\nAntrea Controller Feature Gates\nFEATUREGATE            STATUS       VERSION\n'));
  assert.ok(text.includes('NodeIPAM               Disabled     ALPHA\n'));
});
