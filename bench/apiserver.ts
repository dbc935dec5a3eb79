/**
 * The API machinery at cluster scale: 100 Nodes, their Pods, and 100 watchers (one per Node, each watching
 * `fieldSelector=spec.nodeName=<its node>` as an agent does).
 *
 * Figures: time for the watchers to converge on 10 000 Pods (in-process store and over HTTP), peak memory, and the
 * cost of one Pod update delivered to the watcher that cares, at 1 000 and at 10 000 Pods; their ratio must stay
 * about flat, because a write visits only the watcher buckets its Pod falls in.
 *
 * Run: npm run bench -- apiserver
 */
import { createStore, type Store } from '../src/apiserver/store.js';
import { startApiServer } from '../src/apiserver/http.js';
import { gvr } from '../src/apiserver/registry.js';
import type { WatchHandle } from '../src/apiserver/types.js';
import type { KubeObject } from '../src/apis/meta.js';
import type { Pod } from '../src/apis/core.js';
import { silentLogger } from '../src/util/log.js';

const NODES = 100;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

let peakRss = 0;
let peakHeap = 0;
function sampleMemory(): void {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}

const node = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } }, spec: { podCIDR: `10.${Math.floor(i / 256)}.${i % 256}.0/24` } } as KubeObject);

const pod = (i: number): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `pod-${i}`, namespace: 'default', labels: { app: `app-${i % 50}` } },
  spec: { nodeName: `node-${i % NODES}`, containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] },
  status: { phase: 'Running', podIP: `10.${Math.floor((i % NODES) / 256)}.${i % NODES}.${2 + Math.floor(i / NODES) % 250}` },
});

interface Cluster {
  store: Store;
  handles: WatchHandle[];
  seen: number[];
  delivered: () => number;
}

async function buildCluster(pods: number): Promise<{ cluster: Cluster; convergeMs: number }> {
  const store = createStore({ logger: silentLogger });
  for (let i = 0; i < NODES; i++) await store.create(gvr.nodes, undefined, node(i));
  const seen = new Array<number>(NODES).fill(0);
  let total = 0;
  let target = 0;
  let resolve: () => void = () => undefined;
  const handles = [];
  for (let i = 0; i < NODES; i++) {
    handles.push(
      store.watch(gvr.pods, { fieldSelector: `spec.nodeName=node-${i}` }, () => {
        seen[i]!++;
        total++;
        if (total === target) resolve();
      }),
    );
  }
  const start = performance.now();
  target = pods;
  const converged = new Promise<void>((r) => (resolve = r));
  for (let i = 0; i < pods; i++) {
    await store.create(gvr.pods, 'default', pod(i));
    if (i % 1000 === 0) sampleMemory();
  }
  await converged;
  const convergeMs = performance.now() - start;
  sampleMemory();
  return { cluster: { store, handles, seen, delivered: () => total }, convergeMs };
}

/** Mean milliseconds for one Pod update (merge patch of a label) including delivery to its watcher. */
async function updateCost(c: Cluster, pods: number, updates: number): Promise<number> {
  const before = c.delivered();
  const start = performance.now();
  for (let k = 0; k < updates; k++) {
    const i = (k * 7919) % pods;
    await c.store.patch(gvr.pods, 'default', `pod-${i}`, 'merge', { metadata: { labels: { rev: String(k) } } });
  }
  const ms = (performance.now() - start) / updates;
  if (c.delivered() - before !== updates) throw new Error(`expected ${updates} deliveries, got ${c.delivered() - before}`);
  return ms;
}

async function teardown(c: Cluster): Promise<void> {
  for (const h of c.handles) h.stop();
  await c.store.close();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Converge 100 HTTP watch streams on `pods` Pods created in-process. */
async function httpConverge(pods: number): Promise<number> {
  const store = createStore({ logger: silentLogger });
  const server = await startApiServer({ backend: store, logger: silentLogger });
  try {
    for (let i = 0; i < NODES; i++) await store.create(gvr.nodes, undefined, node(i));
    let total = 0;
    let resolve: () => void = () => undefined;
    const converged = new Promise<void>((r) => (resolve = r));
    const aborts: AbortController[] = [];
    const readers: Promise<void>[] = [];
    for (let i = 0; i < NODES; i++) {
      const ac = new AbortController();
      aborts.push(ac);
      const res = await fetch(`${server.url}/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-${i}`, { signal: ac.signal });
      readers.push(
        (async () => {
          const reader = res.body!.getReader();
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              for (const b of value) if (b === 10 && ++total === pods) resolve();
            }
          } catch {
            // aborted
          }
        })(),
      );
    }
    const start = performance.now();
    for (let i = 0; i < pods; i++) {
      await store.create(gvr.pods, 'default', pod(i));
      if (i % 1000 === 0) sampleMemory();
    }
    await converged;
    const ms = performance.now() - start;
    for (const a of aborts) a.abort();
    await Promise.all(readers);
    return ms;
  } finally {
    await server.close();
    await store.close();
  }
}

async function main(): Promise<void> {
  // Warm up the code paths.
  {
    const { cluster } = await buildCluster(1000);
    await updateCost(cluster, 1000, 2000);
    await teardown(cluster);
  }
  gc();
  const runs = 3;
  const converge10k: number[] = [];
  const update1k: number[] = [];
  const update10k: number[] = [];
  for (let r = 0; r < runs; r++) {
    const small = await buildCluster(1000);
    update1k.push(await updateCost(small.cluster, 1000, 5000));
    await teardown(small.cluster);
    gc();
    const big = await buildCluster(10_000);
    converge10k.push(big.convergeMs);
    update10k.push(await updateCost(big.cluster, 10_000, 5000));
    if (r === 0) {
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) await big.cluster.store.list(gvr.pods, { fieldSelector: `spec.nodeName=node-${i}` });
      listNodeMs = (performance.now() - t0) / 100;
    }
    await teardown(big.cluster);
    gc();
    console.log(`run ${r + 1}: converge 10k ${big.convergeMs.toFixed(0)} ms, update 1k ${(update1k[r]! * 1000).toFixed(1)} us, update 10k ${(update10k[r]! * 1000).toFixed(1)} us`);
  }
  const httpMs = await httpConverge(10_000);
  console.log(`http: 100 watch streams converge on 10k Pods in ${httpMs.toFixed(0)} ms`);
  const u1 = median(update1k);
  const u10 = median(update10k);
  const c10 = median(converge10k);
  const figures = {
    converge_10k_pods_100_watchers: { value: round(c10), unit: 'ms' },
    create_rate_10k_pods: { value: round(10_000 / (c10 / 1000)), unit: 'ops/s' },
    converge_10k_pods_100_http_watchers: { value: round(httpMs), unit: 'ms' },
    pod_update_delivered_at_1k: { value: round(u1, 4), unit: 'ms' },
    pod_update_delivered_at_10k: { value: round(u10, 4), unit: 'ms' },
    pod_update_cost_ratio_10k_vs_1k: { value: round(u10 / u1, 2), unit: 'ratio' },
    pod_updates_per_s_at_10k: { value: round(1000 / u10), unit: 'ops/s' },
    list_node_pods_at_10k: { value: round(listNodeMs, 3), unit: 'ms' },
    peak_heap: { value: round(peakHeap / 1048576, 1), unit: 'MB' },
    peak_rss: { value: round(peakRss / 1048576, 1), unit: 'MB' },
  };
  console.log(JSON.stringify({ bench: 'apiserver', figures }));
}

let listNodeMs = 0;
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

await main();
