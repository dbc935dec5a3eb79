/**
 * The controller's NetworkPolicy computation on the shapes of Antrea's own perf tests
 * (pkg/controller/networkpolicy/networkpolicy_controller_perf_test.go, reference/antrea.md 5.3), driven directly (no
 * API server, no HTTP), as Antrea's test drives its controller from fake informers:
 *
 * - small-namespaces: 25,000 Namespaces x 4 Pods x 3 K8s NetworkPolicies (default deny + two allows): 100,000 Pods,
 *   75,000 policies. Antrea (Go): ~6.1 s, ~1.6 GB.
 * - one-namespace: 1 Namespace, 10,000 Pods, 10,000 policies each selecting every Pod (appliedTo and ingress peer).
 *   Antrea: ~10.7 s, ~1.2 GB.
 *
 * For each: time and peak heap of the first computation (inputs included, as Antrea's Alloc includes its informer
 * caches), the time to apply one Pod label change (compute + the change events), its ratio against the same shape
 * 10x smaller (should stay near 1), and the datapath rules one Node's agent would install (agent rule builder).
 */
import type { Namespace, Pod } from '../src/apis/core.js';
import type { NetworkPolicy } from '../src/apis/networking.js';
import { PolicyComputer } from '../src/controller/networkpolicy/compute.js';
import { buildNodeRules } from '../src/agent/networkpolicy/rules.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const heapMB = () => process.memoryUsage().heapUsed / 1048576;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

interface Scenario {
  namespaces: Namespace[];
  pods: Pod[];
  policies: NetworkPolicy[];
  /** Two label sets one Pod flips between, changing its group membership. */
  flip: { pod: Pod; a: Record<string, string>; b: Record<string, string> }[];
  node: string;
}

const ns = (name: string): Namespace => ({ metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
let ipSeq = 0;
const pod = (namespace: string, name: string, labels: Record<string, string>, node: string): Pod => {
  const n = ipSeq++;
  return {
    metadata: { namespace, name, labels, uid: `${namespace}-${name}` },
    spec: { nodeName: node, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }] }] },
    status: { phase: 'Running', podIP: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
  };
};
const np = (namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({ metadata: { namespace, name, uid: `${namespace}/${name}` }, spec });

/** 4 Pods per Namespace (web, web, db, client), 100 Pods per Node. */
function smallNamespaces(count: number): Scenario {
  const s: Scenario = { namespaces: [], pods: [], policies: [], flip: [], node: 'node-0' };
  const apps = ['web', 'web', 'db', 'client'];
  for (let i = 0; i < count; i++) {
    const name = `ns-${i}`;
    s.namespaces.push(ns(name));
    for (let j = 0; j < 4; j++) s.pods.push(pod(name, `pod-${j}`, { app: apps[j]! }, `node-${Math.floor((i * 4 + j) / 100)}`));
    s.policies.push(
      np(name, 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] }),
      np(name, 'allow-web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ protocol: 'TCP', port: 80 }] }] }),
      np(name, 'allow-db', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }] }),
    );
  }
  for (let k = 0; k < 50; k++) s.flip.push({ pod: s.pods[(k * 997 * 4) % s.pods.length]!, a: { app: 'web' }, b: { app: 'client' } });
  return s;
}

/** 1 Namespace; every policy selects every Pod, as applied-to and as ingress peer; 100 Pods per Node. */
function oneNamespace(pods: number, policies: number): Scenario {
  const s: Scenario = { namespaces: [ns('scale')], pods: [], policies: [], flip: [], node: 'node-0' };
  for (let j = 0; j < pods; j++) s.pods.push(pod('scale', `pod-${j}`, { app: 'scale' }, `node-${Math.floor(j / 100)}`));
  for (let i = 0; i < policies; i++) {
    s.policies.push(np('scale', `np-${i}`, { podSelector: { matchLabels: { app: 'scale' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'scale' } } }], ports: [{ protocol: 'TCP', port: 1000 + (i % 50000) }] }] }));
  }
  for (let k = 0; k < 50; k++) s.flip.push({ pod: s.pods[(k * 197) % pods]!, a: { app: 'scale' }, b: { app: 'other' } });
  return s;
}

interface Result {
  firstMs: number;
  peakMB: number;
  labelChangeUs: number;
  rulesPerNode: number;
  counts: ReturnType<PolicyComputer['stats']> & { groupEvents: number; policyEvents: number };
}

function run(make: () => Scenario): Result {
  gc();
  const base = heapMB();
  const s = make();
  let peak = heapMB();
  const sample = () => {
    const h = heapMB();
    if (h > peak) peak = h;
  };
  const t0 = performance.now();
  const c = new PolicyComputer();
  let i = 0;
  for (const n of s.namespaces) c.upsertNamespace(n);
  for (const p of s.policies) {
    c.upsertK8sPolicy(p);
    if (++i % 5000 === 0) sample();
  }
  for (const p of s.pods) {
    c.upsertPod(p);
    if (++i % 5000 === 0) sample();
  }
  sample();
  const first = c.flush();
  const firstMs = performance.now() - t0;
  sample();
  const counts = { ...c.stats(), groupEvents: first.groups.length, policyEvents: first.policies.length };
  // One Pod label change: membership changes, events out. Warm up, then take the median over many changes (GC
  // pauses land on a few of them and would otherwise decide the ratio).
  const times: number[] = [];
  const flipAll = (labels: 'a' | 'b') => {
    for (const f of s.flip) {
      const t = performance.now();
      c.upsertPod({ ...f.pod, metadata: { ...f.pod.metadata, labels: f[labels] } });
      c.flush();
      times.push(performance.now() - t);
    }
  };
  for (let w = 0; w < 5; w++) {
    flipAll('b');
    flipAll('a');
  }
  times.length = 0;
  for (let r = 0; r < 40; r++) {
    flipAll('b');
    flipAll('a');
  }
  times.sort((x, y) => x - y);
  const labelChangeUs = times[Math.floor(times.length / 2)]! * 1000;
  const objs = c.objectsForNode(s.node);
  const rules = buildNodeRules(s.node, objs, new Map(s.pods.filter((p) => p.spec.nodeName === s.node).map((p, k) => [`${p.metadata.namespace}/${p.metadata.name}`, 3 + k])));
  return { firstMs, peakMB: peak - base, labelChangeUs, rulesPerNode: rules.length, counts };
}

const fmt = (name: string, r: Result) =>
  `${name}: first computation ${round(r.firstMs)} ms, peak heap ${round(r.peakMB)} MB, one Pod label change ${round(r.labelChangeUs, 2)} us, ` +
  `${r.rulesPerNode} datapath rules on node-0 (${JSON.stringify(r.counts)})`;

// Warm up the JIT on a small instance of each shape.
run(() => smallNamespaces(500));
run(() => oneNamespace(1000, 1000));

const smallSmall = run(() => smallNamespaces(2500));
console.log(fmt('small-namespaces/10 (2,500 ns, 10k Pods, 7.5k NPs)', smallSmall));
const smallBig = run(() => smallNamespaces(25000));
console.log(fmt('small-namespaces (25,000 ns, 100k Pods, 75k NPs)', smallBig));
const oneSmall = run(() => oneNamespace(1000, 1000));
console.log(fmt('one-namespace/10 (1k Pods, 1k NPs)', oneSmall));
const oneBig = run(() => oneNamespace(10000, 10000));
console.log(fmt('one-namespace (10k Pods, 10k NPs)', oneBig));
console.log('Antrea (Go) for comparison: small-namespaces 6,100 ms / 1,626 MB; one-namespace 10,660 ms / 1,157 MB');

console.log(
  JSON.stringify({
    bench: 'policy',
    figures: {
      small_namespaces_first_compute: { value: round(smallBig.firstMs), unit: 'ms' },
      small_namespaces_peak_heap: { value: round(smallBig.peakMB), unit: 'MB' },
      small_namespaces_label_change: { value: round(smallBig.labelChangeUs / 1000, 4), unit: 'ms' },
      small_namespaces_label_change_vs_10x_smaller: { value: round(smallBig.labelChangeUs / smallSmall.labelChangeUs, 2), unit: 'ratio' },
      small_namespaces_rules_per_node: { value: smallBig.rulesPerNode, unit: 'ratio' },
      one_namespace_first_compute: { value: round(oneBig.firstMs), unit: 'ms' },
      one_namespace_peak_heap: { value: round(oneBig.peakMB), unit: 'MB' },
      one_namespace_label_change: { value: round(oneBig.labelChangeUs / 1000, 4), unit: 'ms' },
      one_namespace_label_change_vs_10x_smaller: { value: round(oneBig.labelChangeUs / oneSmall.labelChangeUs, 2), unit: 'ratio' },
      one_namespace_rules_per_node: { value: oneBig.rulesPerNode, unit: 'ratio' },
    },
  }),
);
