// Simulated datapath throughput and incremental-apply cost.
//   npm run bench -- sim-datapath
// Figures: packets/s for one UDP packet Pod → Pod across two Nodes (encap) and for one pass through one bridge, with
// every OVS table holding ≥ 1,000 flows; the time to apply one Pod change on a Node with 1,000 and 10,000 Pods
// (and their ratio, which should stay near 1); heap used by a 10,000-Pod Node.
import { SimCluster } from '../src/datapath/sim/cluster.js';
import { nodeConfig, peerOf, podOn } from '../src/datapath/pipeline/testing.js';
import { flow, match, type Flow } from '../src/datapath/pipeline/flow.js';
import { TABLES } from '../src/datapath/pipeline/tables.js';
import { emptyDiff } from '../src/datapath/pipeline/compiler.js';
import { SimNode } from '../src/datapath/sim/node.js';
import { ManualClock } from '../src/datapath/sim/clock.js';
import { ETH_TYPE_IP, IPPROTO_UDP } from '../src/datapath/pipeline/flow.js';
import { parseIpv4, parseMac } from '../src/datapath/net/addr.js';
import type { DesiredStateChange } from '../src/datapath/types.js';

type Figure = { value: number; unit: 'ops/s' | 'ms' | 'MB' | 'ratio' };
const figures: Record<string, Figure> = {};
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Filler flows that never match the measured traffic (src 172.16/12), so each table reaches `n` flows. */
function fillTo(node: SimNode, n: number): void {
  const counts = new Map<number, number>();
  for (const f of node.compiler.flows()) counts.set(f.table, (counts.get(f.table) ?? 0) + 1);
  const extra: Flow[] = [];
  for (const t of TABLES) {
    const have = counts.get(t.id) ?? 0;
    for (let i = have; i < n; i++) {
      const src = (parseIpv4('172.16.0.0') + i) >>> 0;
      extra.push(flow(t.id, 100 + (i % 50), 0xfn, match().ip().field('nw_src', src), []));
    }
  }
  node.bridge.applyDiff({ ...emptyDiff(), added: extra });
}

async function twoNodeCluster() {
  const c = new SimCluster({ clock: new ManualClock() });
  const cfg1 = nodeConfig(1);
  const cfg2 = nodeConfig(2);
  const n1 = await c.addNode(cfg1);
  const n2 = await c.addNode(cfg2);
  await n1.upsertPeerNode(peerOf(cfg2));
  await n2.upsertPeerNode(peerOf(cfg1));
  return { c, n1, n2, cfg1, cfg2 };
}

async function throughput(): Promise<void> {
  const { c, n1, n2, cfg1, cfg2 } = await twoNodeCluster();
  // 250 Pods per Node (a /24 holds 253) give 250-500 flows in 0/10/70/80; filler brings every table to 1,000.
  for (const [n, cfg] of [[n1, cfg1], [n2, cfg2]] as const) {
    await n.apply(Array.from({ length: 250 }, (_, i) => ({ kind: 'pod' as const, op: 'upsert' as const, pod: podOn(cfg, i) })));
    fillTo(n, 1000);
  }
  const minFlows = Math.min(...TABLES.map((t) => n1.bridge.flowStats().filter((s) => s.flow.table === t.id).length));
  const a = podOn(cfg1, 7);
  const b = podOn(cfg2, 123);
  const req = { from: { pod: `${a.namespace}/${a.name}` }, to: { ip: b.ips[0] as string, port: 53 }, protocol: 'UDP' as const, srcPort: 40000, trace: false, payloadLength: 64 };
  const first = c.sendSync(req);
  if (!first.delivered) throw new Error(`bench path broken: ${first.dropped?.reason}`);
  const measure = (fn: () => void, ms: number): number => {
    const end = performance.now() + ms;
    let n = 0;
    const start = performance.now();
    while (performance.now() < end) {
      for (let i = 0; i < 200; i++) fn();
      n += 200;
    }
    return n / ((performance.now() - start) / 1000);
  };
  measure(() => c.sendSync(req), 300); // warm-up
  const runs = [1, 2, 3].map(() => measure(() => c.sendSync(req), 700));
  figures.pod_to_pod_two_nodes_pps = { value: Math.round(Math.max(...runs)), unit: 'ops/s' };
  // One pass through one bridge (Node1, Pod → tunnel).
  const pkt = {
    ethSrc: parseMac(a.mac), ethDst: parseMac(cfg1.gatewayMAC), ethType: ETH_TYPE_IP, payloadLength: 64,
    ip: { src: parseIpv4(a.ips[0] as string), dst: parseIpv4(b.ips[0] as string), proto: IPPROTO_UDP, ttl: 64, dscp: 0 },
    l4: { kind: 'udp' as const, srcPort: 40000, dstPort: 53 },
  };
  if (n1.bridge.process(pkt, a.ofPort).outputs.length !== 1) throw new Error('bench bridge pass broken');
  measure(() => n1.bridge.process(pkt, a.ofPort), 300);
  const passes = [1, 2, 3].map(() => measure(() => n1.bridge.process(pkt, a.ofPort), 700));
  figures.bridge_pass_pps = { value: Math.round(Math.max(...passes)), unit: 'ops/s' };
  figures.min_flows_per_table = { value: minFlows, unit: 'ratio' };
  console.error(`throughput: ${figures.pod_to_pod_two_nodes_pps.value} packets/s Pod→Pod across 2 Nodes; ${figures.bridge_pass_pps.value} bridge passes/s; ≥${minFlows} flows in every table`);
}

/** A Node whose Pod CIDR is a /16 so it can hold `pods` Pods. */
async function bigNode(pods: number): Promise<{ node: SimNode; cfg: ReturnType<typeof nodeConfig> }> {
  const cfg = { ...nodeConfig(1), podCIDR: '10.10.0.0/16', gatewayIP: '10.10.0.1' };
  const node = new SimNode('node1', new ManualClock());
  await node.setNodeConfig(cfg);
  const batch: DesiredStateChange[] = [];
  for (let i = 0; i < pods; i++) batch.push({ kind: 'pod', op: 'upsert', pod: podOn(cfg, i) });
  for (let i = 0; i < batch.length; i += 1000) await node.apply(batch.slice(i, i + 1000));
  return { node, cfg };
}

/** Median time of one Pod change (add, remove, change MAC, change back: 4 applies per round). */
async function applyCosts(sizes: number[]): Promise<number[]> {
  const setups = [];
  for (const n of sizes) {
    const { node, cfg } = await bigNode(n);
    const extra = podOn(cfg, n + 10);
    const moved = podOn(cfg, 5);
    const once = async () => {
      await node.upsertPod(extra);
      await node.removePod(extra.namespace, extra.name);
      await node.upsertPod({ ...moved, mac: '02:00:00:00:aa:05' });
      await node.upsertPod(moved);
    };
    setups.push(once);
  }
  const iter = 300;
  for (const once of setups) for (let i = 0; i < 300; i++) await once();
  const samples: number[][] = sizes.map(() => []);
  for (let r = 0; r < 7; r++) {
    for (let k = 0; k < setups.length; k++) {
      const once = setups[k] as () => Promise<void>;
      gc();
      const t0 = performance.now();
      for (let i = 0; i < iter; i++) await once();
      (samples[k] as number[]).push((performance.now() - t0) / (iter * 4));
    }
  }
  return samples.map((s) => s.sort((x, y) => x - y)[3] as number);
}

async function main(): Promise<void> {
  // The 10k-Pod Node is measured first, on a heap with nothing else on it: measured after the other phases, their
  // clusters (collected late) made the difference meaningless, even negative.
  gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let keep: Awaited<ReturnType<typeof bigNode>> | undefined = await bigNode(10000);
  const buildMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage().heapUsed;
  figures.build_10k_pod_node_ms = { value: Math.round(buildMs), unit: 'ms' };
  figures.heap_10k_pod_node_MB = { value: round((after - before) / 1e6, 1), unit: 'MB' };
  console.error(`10k-Pod Node: ${keep.node.bridge.flowCount} flows, built in ${Math.round(buildMs)} ms, ${figures.heap_10k_pod_node_MB.value} MB heap`);
  keep = undefined;
  await throughput();
  const [small, large] = (await applyCosts([1000, 10000])) as [number, number];
  figures.apply_pod_change_1k_pods_ms = { value: round(small, 4), unit: 'ms' };
  figures.apply_pod_change_10k_pods_ms = { value: round(large, 4), unit: 'ms' };
  figures.apply_10k_vs_1k_ratio = { value: round(large / small), unit: 'ratio' };
  console.error(`apply one Pod change: ${round(small * 1000, 1)} µs at 1k Pods, ${round(large * 1000, 1)} µs at 10k Pods (ratio ${figures.apply_10k_vs_1k_ratio.value})`);
  console.log(JSON.stringify({ bench: 'sim-datapath', figures }));
}

await main();
