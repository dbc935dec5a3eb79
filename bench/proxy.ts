// AntreaProxy: the cost of programming Services through the proxier into a simulated Node's datapath.
//   npm run bench -- proxy
// Figures: time and heap to program 10,000 Services x 10 endpoints, and one Service with 10,000 endpoints (100
// EndpointSlices), from informer events to flows in the Node's bridge; the time of one sync after one endpoint change
// at 1,000 and at 10,000 Services (the ratio should stay near 1: work follows what changed, not the cluster size);
// the same for one endpoint change in a 10,000-endpoint and in a 1,000-endpoint Service (100 endpoints per slice in
// both; the ratio should stay near 1 too: the datapath compiles a Service at endpoint granularity).
import type { Service } from '../src/apis/core.js';
import type { EndpointSlice } from '../src/apis/discovery.js';
import { Proxier } from '../src/agent/proxy/proxier.js';
import { SimNode } from '../src/datapath/sim/node.js';
import { ManualClock } from '../src/datapath/sim/clock.js';
import { nodeConfig } from '../src/datapath/pipeline/testing.js';

type Figure = { value: number; unit: 'ops/s' | 'ms' | 'MB' | 'ratio' };
const figures: Record<string, Figure> = {};
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const heapMB = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const ip = (base: number, k: number) => `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}`.replace(/^.*$/, () => {
  const n = (base + k) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
});
const SVC_BASE = (10 << 24) | (96 << 16) | 2; // 10.96.0.2
const EP_BASE = (10 << 24) | (128 << 16) | 2; // 10.128.0.2: endpoints on another Node (no hairpin flows)

function service(i: number): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'bench' },
    spec: { type: 'ClusterIP', clusterIP: ip(SVC_BASE, i), ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], sessionAffinity: 'None' },
  };
}

function slice(svc: string, name: string, firstEndpoint: number, count: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, namespace: 'bench', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: count }, (_, k) => ({ addresses: [ip(EP_BASE, firstEndpoint + k)], conditions: { ready: true }, nodeName: 'node2' })),
  };
}

/** A datapath that accepts everything and does nothing: isolates the proxier's own cost. */
const noopDatapath = {
  async apply() {
    return { added: [], modified: [], removed: [], addedGroups: [], modifiedGroups: [], removedGroups: [] };
  },
};

type Target = 'sim' | 'proxier-only';

async function freshProxier(target: Target) {
  const node = new SimNode('node1', new ManualClock());
  await node.setNodeConfig(nodeConfig(1));
  const proxier = new Proxier({ nodeName: 'node1', datapath: target === 'sim' ? node : noopDatapath, useEndpointSlices: true });
  proxier.onServicesSynced();
  proxier.onEndpointsSynced();
  return { node, proxier };
}

/** Programs `services` Services of `perService` endpoints each; returns the proxier, its Node, and time/heap used. */
async function program(target: Target, services: number, perService: number, slicesPerService = 1) {
  const before = heapMB();
  const t0 = performance.now();
  const { node, proxier } = await freshProxier(target);
  const per = perService / slicesPerService;
  for (let i = 0; i < services; i++) {
    proxier.onServiceAdd(service(i));
    for (let s = 0; s < slicesPerService; s++) proxier.onEndpointSliceAdd(slice(`svc-${i}`, `svc-${i}-${s}`, i * perService + s * per, per));
  }
  await proxier.sync();
  const ms = performance.now() - t0;
  const mb = heapMB() - before;
  const groups = target === 'sim' ? (await node.dumpGroups()).length : services;
  if (proxier.stats.installed !== services || proxier.stats.endpoints !== services * perService || groups !== services) {
    throw new Error(`bench setup broken: ${JSON.stringify(proxier.stats)}, ${groups} groups`);
  }
  return { node, proxier, ms, mb };
}

/** One round of `rounds` endpoint changes (add one endpoint to Service `svc`'s slice, then remove it): ms per sync. */
function changer(proxier: Proxier, perService: number, svc = 7): (rounds: number) => Promise<number> {
  const base = slice(`svc-${svc}`, `svc-${svc}-0`, svc * perService, perService);
  const grown = { ...base, endpoints: [...base.endpoints, { addresses: ['10.200.0.9'], conditions: { ready: true } }] };
  return async (rounds) => {
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      proxier.onEndpointSliceUpdate(base, grown);
      await proxier.sync();
      proxier.onEndpointSliceUpdate(grown, base);
      await proxier.sync();
      if (proxier.stats.lastChanges !== 1) throw new Error('bench change broken: expected one frontend per sync');
    }
    return (performance.now() - t0) / (rounds * 2);
  };
}

/**
 * Median per-sync cost of each setup, measured in interleaved rounds after a GC, so machine noise and heap growth
 * hit every size alike.
 */
async function changeCosts(setups: ((rounds: number) => Promise<number>)[], rounds: number, repeats = 7): Promise<number[]> {
  for (const s of setups) await s(rounds);
  const samples: number[][] = setups.map(() => []);
  for (let r = 0; r < repeats; r++) {
    for (const [k, s] of setups.entries()) {
      gc();
      (samples[k] as number[]).push(await s(rounds));
    }
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number);
}

async function main(): Promise<void> {
  // Warm-up: every path once, at a small size.
  for (const target of ['sim', 'proxier-only'] as const) {
    const w = await program(target, 200, 10);
    await changeCosts([changer(w.proxier, 10)], 50, 1);
  }

  for (const target of ['proxier-only', 'sim'] as const) {
    const tag = target === 'sim' ? '' : '_proxier_only';
    const many = await program(target, 10_000, 10);
    figures[`program_10k_services_x10${tag}_ms`] = { value: round(many.ms, 1), unit: 'ms' };
    figures[`program_10k_services_x10${tag}_heap`] = { value: round(many.mb, 1), unit: 'MB' };
    console.error(`[${target}] 10,000 Services x 10 endpoints: ${round(many.ms)} ms, ${round(many.mb, 1)} MB heap`);

    const small = await program(target, 1_000, 10);
    const [costSmall, costLarge] = (await changeCosts([changer(small.proxier, 10), changer(many.proxier, 10)], 100)) as [number, number];
    figures[`endpoint_change_1k_services${tag}_ms`] = { value: round(costSmall, 4), unit: 'ms' };
    figures[`endpoint_change_10k_services${tag}_ms`] = { value: round(costLarge, 4), unit: 'ms' };
    figures[`endpoint_change_10k_vs_1k${tag}_ratio`] = { value: round(costLarge / costSmall), unit: 'ratio' };
    console.error(`[${target}] one endpoint change: ${round(costSmall * 1000, 1)} µs at 1,000 Services, ${round(costLarge * 1000, 1)} µs at 10,000 (ratio ${round(costLarge / costSmall)})`);

    const big = await program(target, 1, 10_000, 100);
    figures[`program_1_service_x10k${tag}_ms`] = { value: round(big.ms, 1), unit: 'ms' };
    figures[`program_1_service_x10k${tag}_heap`] = { value: round(big.mb, 1), unit: 'MB' };
    const mid = await program(target, 1, 1_000, 10);
    const [bigChange, midChange] = (await changeCosts([changer(big.proxier, 100, 0), changer(mid.proxier, 100, 0)], 10, 5)) as [number, number];
    figures[`endpoint_change_in_10k_endpoint_service${tag}_ms`] = { value: round(bigChange, 2), unit: 'ms' };
    figures[`endpoint_change_in_1k_endpoint_service${tag}_ms`] = { value: round(midChange, 2), unit: 'ms' };
    figures[`endpoint_change_in_10k_vs_1k_endpoint_service${tag}_ratio`] = { value: round(bigChange / midChange), unit: 'ratio' };
    console.error(`[${target}] 1 Service x 10,000 endpoints (100 slices): ${round(big.ms)} ms, ${round(big.mb, 1)} MB heap; one endpoint change in it: ${round(bigChange, 2)} ms (in 1,000 endpoints: ${round(midChange, 2)} ms, ratio ${round(bigChange / midChange)})`);
  }

  console.log(JSON.stringify({ bench: 'proxy', figures }));
}

await main();
