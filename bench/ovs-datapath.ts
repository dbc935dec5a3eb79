// Programming Services into a real Open vSwitch (userspace datapath, one Node in a network namespace).
//   npm run bench -- ovs-datapath        (root, openvswitch-switch installed)
// Figures: time to program 1,000 Services x 10 Endpoints in one apply, and one Service with 10,000 Endpoints
// (one group of 10,000 buckets, inserted in chunks within one bundle); the time of a one-Endpoint update with 10
// and with 1,000 Services (their ratio should stay near 1: an update touches only its own flows and buckets), and in
// a 10,000-Endpoint and a 1,000-Endpoint Service on one Node, measured in alternation (their ratio should stay near 1
// too: one Endpoint is one EndpointDNAT flow and one remove_bucket/insert_bucket, whatever the group's size). Each
// update figure is the median of several runs after a warm-up.
import { OvsCluster } from '../src/datapath/ovs/cluster.js';
import { ovsAvailable } from '../src/datapath/ovs/exec.js';
import { nodeConfig } from '../src/datapath/pipeline/testing.js';
import type { DesiredStateChange, ServiceFrontend } from '../src/datapath/types.js';
import type { OvsNode } from '../src/datapath/ovs/node.js';

type Figure = { value: number; unit: 'ops/s' | 'ms' | 'MB' | 'ratio' };
const figures: Record<string, Figure> = {};
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function service(i: number, endpoints: number): ServiceFrontend {
  return {
    namespace: 'bench', name: `svc-${i}`, portName: 'http', protocol: 'TCP',
    clusterIP: `10.96.${i >> 8}.${i & 0xff}`, port: 80,
    endpoints: Array.from({ length: endpoints }, (_, e) => {
      const n = i * endpoints + e;
      return { ip: `10.${20 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`, port: 8080, isLocal: false };
    }),
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** One run of moving one Endpoint of `svc` (`r` alternates the new address): ms. */
function moveOne(node: OvsNode, svc: ServiceFrontend, r: number): Promise<number> {
  const moved = { ...svc, endpoints: svc.endpoints.map((e, i) => (i === 3 ? { ...e, ip: r % 2 === 0 ? `10.250.${svc.endpoints.length >> 8}.1` : `10.250.${svc.endpoints.length >> 8}.2` } : e)) };
  return timed(() => node.upsertService(moved));
}

/** Median time of moving one Endpoint of `svc` back and forth. */
async function oneEndpointUpdate(node: OvsNode, svc: ServiceFrontend, runs = 7): Promise<number> {
  return (await alternating(node, [svc], runs))[0] as number;
}

/** Median one-Endpoint update time of each Service, runs taken in alternation so machine noise hits them alike. */
async function alternating(node: OvsNode, svcs: ServiceFrontend[], runs: number): Promise<number[]> {
  const times: number[][] = svcs.map(() => []);
  for (let r = 0; r < runs + 1; r++) {
    for (const [k, svc] of svcs.entries()) {
      const t = await moveOne(node, svc, r);
      if (r > 0) (times[k] as number[]).push(t); // the first run warms up
    }
  }
  for (const svc of svcs) await node.upsertService(svc);
  return times.map(median);
}

async function withNode<T>(n: number, fn: (node: OvsNode) => Promise<T>): Promise<T> {
  const c = await OvsCluster.create();
  try {
    return await fn(await c.addNode(nodeConfig(n)));
  } finally {
    await c.close();
  }
}

async function main(): Promise<void> {
  const avail = await ovsAvailable();
  if (!avail.ok) {
    console.error(`ovs-datapath bench skipped: ${avail.reason}`);
    console.log(JSON.stringify({ bench: 'ovs-datapath', figures, skipped: avail.reason }));
    return;
  }
  // 10 Services x 10: the baseline for the one-Endpoint update.
  const small = await withNode(1, async (node) => {
    await node.apply(Array.from({ length: 10 }, (_, i): DesiredStateChange => ({ kind: 'service', op: 'upsert', service: service(i, 10) })));
    return oneEndpointUpdate(node, service(5, 10));
  });
  // 1,000 Services x 10 Endpoints in one apply (one group bundle, one flow bundle).
  const { program1k, update1k, flows1k } = await withNode(1, async (node) => {
    const changes = Array.from({ length: 1000 }, (_, i): DesiredStateChange => ({ kind: 'service', op: 'upsert', service: service(i, 10) }));
    const program = await timed(() => node.apply(changes));
    const flows = (await node.dumpOvsFlows()).length;
    return { program1k: program, update1k: await oneEndpointUpdate(node, service(500, 10)), flows1k: flows };
  });
  // One Service with 10,000 Endpoints, then one with 1,000 beside it.
  const { program10k, update10k, update1kEp } = await withNode(1, async (node) => {
    const svc = service(0, 10_000);
    const program = await timed(() => node.upsertService(svc));
    const small = { ...service(1, 1_000), endpoints: service(11, 1_000).endpoints };
    await node.upsertService(small);
    const [u10k, u1k] = (await alternating(node, [svc, small], 9)) as [number, number];
    return { program10k: program, update10k: u10k, update1kEp: u1k };
  });
  figures.program_1000_services_x10_ms = { value: round(program1k), unit: 'ms' };
  figures.program_1_service_x10000_ms = { value: round(program10k), unit: 'ms' };
  figures.update_one_endpoint_10_services_ms = { value: round(small), unit: 'ms' };
  figures.update_one_endpoint_1000_services_ms = { value: round(update1k), unit: 'ms' };
  figures.update_1000_vs_10_services_ratio = { value: round(update1k / small, 2), unit: 'ratio' };
  figures.update_one_endpoint_10000_endpoints_ms = { value: round(update10k), unit: 'ms' };
  figures.update_one_endpoint_1000_endpoints_ms = { value: round(update1kEp), unit: 'ms' };
  figures.update_10000_vs_1000_endpoints_ratio = { value: round(update10k / update1kEp, 2), unit: 'ratio' };
  console.error(`1,000 Services x 10: ${flows1k} flows in OVS, programmed in ${round(program1k)} ms; one-Endpoint update ${round(update1k)} ms (10 Services: ${round(small)} ms)`);
  console.error(`1 Service x 10,000: programmed in ${round(program10k)} ms; one-Endpoint update ${round(update10k)} ms (in 1,000 Endpoints: ${round(update1kEp)} ms, ratio ${round(update10k / update1kEp, 2)})`);
  console.log(JSON.stringify({ bench: 'ovs-datapath', figures }));
}

await main();
