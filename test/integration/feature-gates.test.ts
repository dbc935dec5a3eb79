/**
 * Every gated module of both processes, with its gate on and off: constructed and Running when on, not
 * constructed and reported Disabled when off, on the process's /modules and /featuregates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentModules } from '../../src/agent/index.js';
import { controllerModules } from '../../src/controller/index.js';
import { featuresAt } from '../../src/features/index.js';
import type { ModuleReport } from '../../src/features/modules.js';
import { startLocalCluster } from '../helpers/cluster.js';

const implemented = featuresAt().filter((f) => f.implemented);

async function modulesOf(url: string): Promise<ModuleReport[]> {
  return (await (await fetch(`${url}/modules`)).json()) as ModuleReport[];
}

async function gatesOf(url: string): Promise<Array<{ component: string; name: string; status: string }>> {
  return (await (await fetch(`${url}/featuregates`)).json()) as Array<{ component: string; name: string; status: string }>;
}

for (const on of [true, false]) {
  test(`every implemented gate ${on ? 'on' : 'off'}: gated modules are ${on ? 'Running' : 'Disabled'}`, async (t) => {
    const gates = Object.fromEntries(implemented.map((f) => [f.name, on]));
    const cluster = await startLocalCluster(t, { nodes: 1, gates });
    const agentReports = await modulesOf(cluster.agent('node-1').url);
    const controllerReports = await modulesOf(cluster.controller.url);
    for (const [reports, modules, where] of [
      [agentReports, agentModules, 'agent'],
      [controllerReports, controllerModules, 'controller'],
    ] as const) {
      assert.equal(reports.length, modules.length, `${where}: one report per module`);
      for (const m of modules) {
        const report = reports.find((r) => r.name === m.name);
        assert.ok(report, `${where}: ${m.name} is reported`);
        const wanted = [m.gate, ...(m.alsoRequires ?? [])].filter((g): g is string => Boolean(g));
        const expected = wanted.length === 0 || wanted.every((g) => gates[g] ?? false) ? 'Running' : 'Disabled';
        assert.equal(report.state, expected, `${where}: ${m.name} (gates ${wanted.join(', ') || 'none'})`);
      }
    }
    assert.ok(agentModules.some((m) => m.gate) && controllerModules.some((m) => m.gate), 'both processes have gated modules');
    for (const [url, component] of [[cluster.agent('node-1').url, 'agent'], [cluster.controller.url, 'controller']] as const) {
      for (const g of (await gatesOf(url)).filter((x) => x.component === component)) {
        const f = implemented.find((x) => x.name === g.name);
        assert.equal(g.status, f && on ? 'Enabled' : 'Disabled', `${component} ${g.name}`);
      }
    }
  });
}

test('the stats API is served only while NetworkPolicyStats is on', async (t) => {
  for (const on of [true, false]) {
    const cluster = await startLocalCluster(t, { nodes: 1, http: { port: 0 }, gates: { NetworkPolicyStats: on } });
    for (const resource of ['networkpolicystats', 'antreanetworkpolicystats', 'antreaclusternetworkpolicystats']) {
      const res = await fetch(`${cluster.url}/apis/stats.antrea.io/v1alpha1/${resource}`);
      assert.equal(res.status, on ? 200 : 404, `${resource} with NetworkPolicyStats ${on ? 'on' : 'off'}`);
    }
    await cluster.stop();
  }
});
