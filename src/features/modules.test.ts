import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineModule, startModules } from './modules.js';
import { newFeatureGate } from './index.js';
import { memoryLogger } from '../util/log.js';

interface Ctx {
  log: string[];
}

const mod = (name: string, gate?: string, fail = false) =>
  defineModule<Ctx>({
    name,
    ...(gate ? { gate } : {}),
    start(ctx) {
      if (fail) throw new Error(`${name} cannot start`);
      ctx.log.push(`start ${name}`);
      return { stop: () => void ctx.log.push(`stop ${name}`) };
    },
  });

test('only modules whose gates are on are constructed; the rest are Disabled', async () => {
  const gate = newFeatureGate();
  gate.setFromMap({ FlowExporter: true, Traceflow: false });
  const ctx: Ctx = { log: [] };
  const running = await startModules([mod('core'), mod('traceflow', 'Traceflow'), mod('flows', 'FlowExporter'), mod('egress', 'Egress')], gate, ctx, memoryLogger());
  assert.deepEqual(ctx.log, ['start core', 'start flows']);
  assert.deepEqual(running.reports().map((r) => [r.name, r.state]), [['core', 'Running'], ['traceflow', 'Disabled'], ['flows', 'Running'], ['egress', 'Disabled']]);
  assert.equal(running.isRunning('flows'), true);
  assert.equal(running.isRunning('traceflow'), false);
  await running.stop();
  assert.deepEqual(ctx.log.slice(2), ['stop flows', 'stop core']);
});

test('alsoRequires needs every listed gate', async () => {
  const gate = newFeatureGate();
  gate.setFromMap({ AntreaPolicy: false });
  const ctx: Ctx = { log: [] };
  const stats = defineModule<Ctx>({ name: 'anp-stats', gate: 'NetworkPolicyStats', alsoRequires: ['AntreaPolicy'], start: () => ({ stop() {} }) });
  const running = await startModules([stats], gate, ctx, memoryLogger());
  assert.equal(running.reports()[0]?.state, 'Disabled');
});

test('a module that fails to start stops the ones already started and the error propagates', async () => {
  const ctx: Ctx = { log: [] };
  await assert.rejects(startModules([mod('a'), mod('b', undefined, true), mod('c')], newFeatureGate(), ctx, memoryLogger()), /b cannot start/);
  assert.deepEqual(ctx.log, ['start a', 'stop a']);
});
