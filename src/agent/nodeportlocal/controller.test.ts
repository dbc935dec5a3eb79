import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../apis/core.js';
import type { DesiredStateChange, FlowDiff, NodePortLocalMapping } from '../../datapath/types.js';
import { memoryLogger } from '../../util/log.js';
import { NPL_ANNOTATION_KEY, decodeAnnotation } from './annotation.js';
import { NodePortLocalController } from './controller.js';

const emptyDiff: FlowDiff = { added: [], modified: [], removed: [], addedGroups: [], modifiedGroups: [], removedGroups: [] };

/** The controller's world: Pods and Services by key, a datapath holding mappings, annotation writes applied. */
function world(range = { start: 61000, end: 61004 }) {
  const pods = new Map<string, Pod>();
  const services: Service[] = [];
  const mappings = new Map<string, NodePortLocalMapping>();
  const queued: string[] = [];
  const patches: Array<[string, string | null]> = [];
  let failApply = false;
  const logger = memoryLogger('debug');
  const ctl = new NodePortLocalController({
    nodeIP: '192.168.77.11',
    range,
    getPod: (k) => pods.get(k),
    listPods: () => [...pods.values()],
    servicesIn: (ns) => services.filter((s) => s.metadata.namespace === ns),
    datapath: {
      async apply(changes: readonly DesiredStateChange[]) {
        if (failApply) throw new Error('datapath down');
        for (const c of changes) {
          if (c.kind !== 'nodePortLocal') continue;
          if (c.op === 'upsert') mappings.set(`${c.mapping.protocol}/${c.mapping.nodePort}`, c.mapping);
          else mappings.delete(c.key);
        }
        return emptyDiff;
      },
    },
    async patchAnnotation(ns, name, value) {
      const key = `${ns}/${name}`;
      const p = pods.get(key);
      if (!p) return;
      const annotations = { ...(p.metadata.annotations ?? {}) };
      if (value === null) delete annotations[NPL_ANNOTATION_KEY];
      else annotations[NPL_ANNOTATION_KEY] = value;
      pods.set(key, { ...p, metadata: { ...p.metadata, annotations } });
      patches.push([key, value]);
    },
    enqueue: (k) => queued.push(k),
    logger,
  });
  const addPod = (name: string, ip: string, extra: Partial<Pod['metadata']> = {}) => {
    pods.set(`ns/${name}`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'ns', labels: { app: 'web' }, ...extra },
      spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { phase: 'Running', podIP: ip, hostIP: '192.168.77.11' },
    });
  };
  const addService = (name: string, ports: Service['spec']['ports'] = [{ port: 80, targetPort: 'http' }]) => {
    services.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns', annotations: { 'nodeportlocal.antrea.io/enabled': 'true' } }, spec: { selector: { app: 'web' }, ports } });
  };
  const annotation = (name: string) => {
    const text = pods.get(`ns/${name}`)?.metadata.annotations?.[NPL_ANNOTATION_KEY];
    return text === undefined ? undefined : decodeAnnotation(text).entries;
  };
  return { ctl, pods, services, mappings, queued, patches, logger, addPod, addService, annotation, setFailApply: (v: boolean) => void (failApply = v) };
}

test('nothing is synced before restore; restore clears every mapping of the range no annotation vouches for', async () => {
  const w = world();
  w.addService('web');
  w.addPod('a', '10.10.0.2');
  w.mappings.set('TCP/61003', { protocol: 'TCP', nodePort: 61003, podIP: '10.10.0.99', podPort: 1 });
  await w.ctl.sync('ns/a');
  assert.equal(w.patches.length, 0, 'not ready: no allocation');
  await w.ctl.restore();
  assert.deepEqual([...w.mappings.keys()], [], 'the stale mapping is gone');
  assert.deepEqual(w.queued, ['ns/a'], 'every Pod is synced once restored');
});

test('a selected Pod gets a Node port, the DNAT mapping and the annotation; losing the Service undoes all three', async () => {
  const w = world();
  w.addService('web', [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8080, protocol: 'UDP' }]);
  w.addPod('a', '10.10.0.2');
  await w.ctl.restore();
  await w.ctl.sync('ns/a');
  assert.deepEqual(
    [...w.mappings.values()].sort((x, y) => x.protocol.localeCompare(y.protocol)),
    [
      { protocol: 'TCP', nodePort: 61000, podIP: '10.10.0.2', podPort: 8080 },
      { protocol: 'UDP', nodePort: 61000, podIP: '10.10.0.2', podPort: 8080 },
    ],
  );
  assert.deepEqual(w.annotation('a'), [{ podPort: 8080, nodeIP: '192.168.77.11', nodePort: 61000, protocols: ['tcp', 'udp'] }]);
  await w.ctl.sync('ns/a');
  assert.equal(w.patches.length, 1, 'an unchanged annotation is not written again');
  w.services.splice(0);
  await w.ctl.sync('ns/a');
  assert.equal(w.mappings.size, 0);
  assert.equal(w.annotation('a'), undefined);
  assert.deepEqual(w.patches.at(-1), ['ns/a', null]);
});

test('a deleted Pod frees its ports; a terminated one also loses its annotation', async () => {
  const w = world();
  w.addService('web');
  w.addPod('a', '10.10.0.2');
  w.addPod('b', '10.10.0.3');
  await w.ctl.restore();
  await w.ctl.sync('ns/a');
  await w.ctl.sync('ns/b');
  assert.equal(w.ctl.table.size, 2);
  w.pods.delete('ns/a');
  await w.ctl.sync('ns/a');
  assert.deepEqual([...w.mappings.keys()], ['TCP/61001']);
  const b = w.pods.get('ns/b') as Pod;
  w.pods.set('ns/b', { ...b, status: { ...b.status, phase: 'Succeeded' } });
  await w.ctl.sync('ns/b');
  assert.equal(w.mappings.size, 0);
  assert.equal(w.annotation('b'), undefined);
});

test('restore keeps the annotated Node ports: the same Pods get the same ports, new Pods others', async () => {
  const first = world();
  first.addService('web');
  for (const [n, ip] of [['a', '10.10.0.2'], ['b', '10.10.0.3'], ['c', '10.10.0.4']] as const) first.addPod(n, ip);
  await first.ctl.restore();
  for (const n of ['a', 'b', 'c']) await first.ctl.sync(`ns/${n}`);
  first.pods.delete('ns/b');
  await first.ctl.sync('ns/b');

  const second = world();
  second.addService('web');
  for (const [k, p] of first.pods) second.pods.set(k, p);
  second.addPod('d', '10.10.0.5');
  second.mappings.set('TCP/61000', { protocol: 'TCP', nodePort: 61000, podIP: '10.10.0.2', podPort: 8080 });
  await second.ctl.restore();
  assert.deepEqual([...second.mappings.keys()].sort(), ['TCP/61000', 'TCP/61002']);
  for (const n of ['a', 'c', 'd']) await second.ctl.sync(`ns/${n}`);
  assert.equal(second.annotation('a')?.[0]?.nodePort, 61000);
  assert.equal(second.annotation('c')?.[0]?.nodePort, 61002);
  assert.equal(second.annotation('d')?.[0]?.nodePort, 61001, 'the port b freed, never one still published');
});

test('range exhaustion: the Pod waits with a clear error, keeps what it has, and is synced again when a port frees', async () => {
  const w = world({ start: 61000, end: 61001 });
  w.addService('web', [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 8081 }]);
  w.addPod('a', '10.10.0.2');
  w.addPod('b', '10.10.0.3');
  await w.ctl.restore();
  w.queued.splice(0);
  await w.ctl.sync('ns/a');
  await w.ctl.sync('ns/b');
  assert.equal(w.annotation('b'), undefined);
  const state = w.ctl.state();
  assert.deepEqual(state.waiting.map((x) => [x.pod, x.ports]), [['ns/b', ['8080/TCP', '8081/TCP']]]);
  assert.match(state.waiting[0]?.error ?? '', /no free port found/);
  assert.ok(w.logger.lines.some((l) => l.includes('"level":"error"') && l.includes('port range exhausted')));
  w.services[0] = { ...(w.services[0] as Service), spec: { ...(w.services[0] as Service).spec, selector: { app: 'web', only: 'b' } } };
  const b = w.pods.get('ns/b') as Pod;
  w.pods.set('ns/b', { ...b, metadata: { ...b.metadata, labels: { app: 'web', only: 'b' } } });
  await w.ctl.sync('ns/a');
  assert.deepEqual(w.queued, ['ns/b'], 'the waiting Pod is synced again');
  await w.ctl.sync('ns/b');
  assert.deepEqual(w.annotation('b')?.map((e) => e.nodePort), [61000, 61001]);
  assert.deepEqual(w.ctl.state().waiting, []);
});

test('a datapath failure is retried: the next sync sends the removals and upserts again', async () => {
  const w = world();
  w.addService('web');
  w.addPod('a', '10.10.0.2');
  await w.ctl.restore();
  await w.ctl.sync('ns/a');
  w.services.splice(0);
  w.setFailApply(true);
  await assert.rejects(w.ctl.sync('ns/a'), /datapath down/);
  w.setFailApply(false);
  w.addPod('b', '10.10.0.3');
  await w.ctl.sync('ns/b');
  assert.equal(w.mappings.size, 0, 'the failed removal went out with the next batch');
});

test('IPv6 Pods are skipped; hostPort targets are published without a mapping', async () => {
  const w = world();
  w.addService('web');
  w.addPod('v6', 'fd00::2');
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hp', namespace: 'ns', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080, hostPort: 30080 }] }] },
    status: { phase: 'Running', podIP: '10.10.0.7' },
  };
  w.pods.set('ns/hp', p);
  await w.ctl.restore();
  await w.ctl.sync('ns/v6');
  await w.ctl.sync('ns/hp');
  assert.equal(w.mappings.size, 0);
  assert.equal(w.annotation('v6'), undefined);
  assert.deepEqual(w.annotation('hp'), [{ podPort: 8080, nodeIP: '192.168.77.11', nodePort: 30080, protocols: ['tcp'] }], 'no hostIP yet: the Node IP');
});
