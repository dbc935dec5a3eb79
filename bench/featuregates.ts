/**
 * Feature-gate tooling on a large manifest: load, check and set on a 10,000-line manifest made of our default
 * manifest's documents plus many unrelated ones (Services and Deployments). Only the documents that mention the
 * Antrea ConfigMap are parsed, so the figures should stay far under 100 ms; a 40,000-line manifest is measured too,
 * and the ratio shows how little the size matters.
 */
import { readFileSync } from 'node:fs';
import { checkManifest, gatesByComponent, loadManifest, setFeatureGates } from '../src/config/index.js';

const base = readFileSync(new URL('../build/yamls/antrea.yml', import.meta.url), 'utf8');

function filler(i: number): string {
  return `---
# workload ${i}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: team-${i % 17}
  labels:
    app: app-${i}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-${i}
  template:
    metadata:
      labels:
        app: app-${i}
    spec:
      containers:
        - name: main
          image: registry.example.com/app:${i}
          ports:
            - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: app-${i}
  namespace: team-${i % 17}
spec:
  selector:
    app: app-${i}
  ports:
    - port: 80
      targetPort: 8080
`;
}

function manifestOf(lines: number): string {
  const parts = [base];
  let count = base.split('\n').length;
  for (let i = 0; count < lines; i++) {
    const doc = filler(i);
    parts.push(doc);
    count += doc.split('\n').length - 1;
  }
  return parts.join('').split('\n').slice(0, lines).join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function measure(fn: () => void, runs = 30): number {
  for (let i = 0; i < 10; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

const round = (n: number) => Math.round(n * 100) / 100;

const m10 = manifestOf(10_000);
const m40 = manifestOf(40_000);
const changes = gatesByComponent({ Egress: true, FlowExporter: true, AntreaProxy: true });

// Sanity: the edit works and checks clean on the big manifest.
const sanity = setFeatureGates(m10, changes);
if (sanity.problems.some((p) => p.severity === 'error') || checkManifest(sanity.text).some((p) => p.severity === 'error')) {
  throw new Error('bench manifest does not round-trip');
}

// Warm every path up before timing any of them, so the first figure does not pay for the JIT.
for (let i = 0; i < 20; i++) {
  loadManifest(m10);
  checkManifest(m40);
  setFeatureGates(m10, changes);
}
const load10 = measure(() => loadManifest(m10));
const check10 = measure(() => checkManifest(m10, { os: 'linux', kernel: '5.15' }));
const set10 = measure(() => setFeatureGates(m10, changes));
const setCheck10 = measure(() => checkManifest(setFeatureGates(m10, changes).text));
const check40 = measure(() => checkManifest(m40, { os: 'linux', kernel: '5.15' }), 15);

console.log(`manifest lines: ${m10.split('\n').length - 1} and ${m40.split('\n').length - 1}`);
console.log(`load ${round(load10)} ms, check ${round(check10)} ms, set ${round(set10)} ms, set+check ${round(setCheck10)} ms (10k lines)`);
console.log(`check ${round(check40)} ms (40k lines)`);
console.log(
  JSON.stringify({
    bench: 'featuregates',
    figures: {
      load_10k_lines: { value: round(load10), unit: 'ms' },
      check_10k_lines: { value: round(check10), unit: 'ms' },
      set_10k_lines: { value: round(set10), unit: 'ms' },
      set_then_check_10k_lines: { value: round(setCheck10), unit: 'ms' },
      check_40k_lines: { value: round(check40), unit: 'ms' },
      check_40k_over_10k: { value: round(check40 / check10), unit: 'ratio' },
    },
  }),
);
