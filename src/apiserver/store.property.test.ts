import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KubeObject, WatchEvent } from '../apis/meta.js';
import { createStore } from './store.js';
import { gvr } from './registry.js';
import { isApiError } from './types.js';
import { silentLogger } from '../util/log.js';

type Op =
  | { kind: 'create'; name: string; app: string; node: string }
  | { kind: 'label'; name: string; app: string }
  | { kind: 'move'; name: string; node: string }
  | { kind: 'stale'; name: string }
  | { kind: 'invalid'; name: string }
  | { kind: 'delete'; name: string };

const name = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const app = fc.constantFrom('web', 'db', 'cache');
const nodeName = fc.constantFrom('n1', 'n2');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), name, app, node: nodeName }),
  fc.record({ kind: fc.constant('label' as const), name, app }),
  fc.record({ kind: fc.constant('move' as const), name, node: nodeName }),
  fc.record({ kind: fc.constant('stale' as const), name }),
  fc.record({ kind: fc.constant('invalid' as const), name }),
  fc.record({ kind: fc.constant('delete' as const), name }),
);

/** Replays watch events into a name -> resourceVersion map. */
function replay(events: WatchEvent[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of events) {
    const o = e.object as KubeObject;
    if (e.type === 'DELETED') m.delete(o.metadata.name!);
    else m.set(o.metadata.name!, o.metadata.resourceVersion!);
  }
  return m;
}

test('any sequence of writes: watchers (plain, label-, field-selected) replay to exactly what list returns; RVs increase; failures change nothing', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const s = createStore({ logger: silentLogger });
      const all: WatchEvent[] = [];
      const web: WatchEvent[] = [];
      const n1: WatchEvent[] = [];
      const h = [
        s.watch(gvr.pods, { namespace: 'default' }, (e) => all.push(e)),
        s.watch(gvr.pods, { labelSelector: 'app=web' }, (e) => web.push(e)),
        s.watch(gvr.pods, { fieldSelector: 'spec.nodeName=n1' }, (e) => n1.push(e)),
      ];
      for (const o of ops) {
        const before = s.resourceVersion();
        let expectFailure = false;
        try {
          switch (o.kind) {
            case 'create':
              await s.create(gvr.pods, 'default', { metadata: { name: o.name, labels: { app: o.app } }, spec: { nodeName: o.node, containers: [{ name: 'c' }] } } as KubeObject);
              break;
            case 'label':
              await s.patch(gvr.pods, 'default', o.name, 'merge', { metadata: { labels: { app: o.app } } });
              break;
            case 'move': // nodeName is immutable once set: always Invalid when the Pod exists
              expectFailure = true;
              await s.patch(gvr.pods, 'default', o.name, 'merge', { spec: { nodeName: o.node === 'n1' ? 'n3' : 'n4' } });
              break;
            case 'stale':
              expectFailure = true;
              await s.patch(gvr.pods, 'default', o.name, 'merge', { metadata: { resourceVersion: '1', labels: { x: 'y' } } });
              break;
            case 'invalid':
              expectFailure = true;
              await s.patch(gvr.pods, 'default', o.name, 'merge', { metadata: { labels: { app: '-bad-' } } });
              break;
            case 'delete':
              await s.delete(gvr.pods, 'default', o.name);
              break;
          }
          assert.ok(!expectFailure, `${o.kind} should have failed`);
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          assert.ok(isApiError(err), String(err));
          assert.equal(s.resourceVersion(), before, `a failed ${o.kind} changed the resourceVersion`);
        }
      }
      await new Promise((r) => setImmediate(r));
      const list = async (opts: Parameters<typeof s.list>[1]) => new Map((await s.list(gvr.pods, opts)).items.map((p) => [p.metadata.name!, p.metadata.resourceVersion!]));
      assert.deepEqual(replay(all), await list({ namespace: 'default' }));
      assert.deepEqual(replay(web), await list({ labelSelector: 'app=web' }));
      assert.deepEqual(replay(n1), await list({ fieldSelector: 'spec.nodeName=n1' }));
      for (const evs of [all, web, n1]) {
        const rvs = evs.map((e) => Number((e.object as KubeObject).metadata.resourceVersion));
        for (let i = 1; i < rvs.length; i++) assert.ok(rvs[i]! > rvs[i - 1]!, 'events in resourceVersion order');
      }
      for (const x of h) x.stop();
      await s.close();
    }),
    { numRuns: 200 },
  );
});
