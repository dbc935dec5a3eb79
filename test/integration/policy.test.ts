/**
 * The policy conformance table: each case applies K8s NetworkPolicies and/or Antrea policies to a 2-Node local
 * cluster and checks real simulated traffic (TCP connections through the Nodes' simulated OVS pipelines), then
 * removes them and checks everything is allowed again.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace, Node, Pod } from '../../src/apis/core.js';
import type { KubeObject } from '../../src/apis/meta.js';
import { gvr } from '../../src/apiserver/registry.js';
import { policyGvr } from '../../src/apis/crd/policy.js';
import { controlplaneGvr } from '../../src/apis/controlplane.js';
import { isApiError } from '../../src/apiserver/types.js';
import { LocalCluster } from '../../src/local/cluster.js';
import { createLogger } from '../../src/util/log.js';
import { waitFor } from '../helpers/cluster.js';

let cluster: LocalCluster;
const ips = new Map<string, string>();
let node2PodCIDR = '';

const pods: { ns: string; name: string; labels: Record<string, string>; node: string }[] = [
  { ns: 'prod', name: 'web', labels: { app: 'web' }, node: 'node-1' },
  { ns: 'prod', name: 'db', labels: { app: 'db' }, node: 'node-2' },
  { ns: 'prod', name: 'client', labels: { app: 'client' }, node: 'node-1' },
  { ns: 'dev', name: 'client', labels: { app: 'client' }, node: 'node-2' },
];

before(async () => {
  const level = process.env.ANTREA_TEST_LOG === '1' ? 'debug' : 'error';
  cluster = await LocalCluster.start({ nodes: 2, http: false, logger: createLogger({ level, format: 'text' }), gates: { AntreaPolicy: true } });
  const c = cluster.client();
  for (const [name, env] of [['prod', 'prod'], ['dev', 'dev']] as const) await c.resource<Namespace>(gvr.namespaces).create({ metadata: { name, labels: { env } } });
  for (const p of pods) {
    await c.resource<Pod>(gvr.pods).inNamespace(p.ns).create({
      metadata: { name: p.name, namespace: p.ns, labels: p.labels },
      spec: { nodeName: p.node, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }, { name: 'pg', containerPort: 5432 }] }] },
    });
  }
  await waitFor('Pods running with addresses', async () => {
    for (const p of pods) {
      const got = await c.resource<Pod>(gvr.pods).inNamespace(p.ns).get(p.name);
      if (!got.status?.podIP) return false;
      ips.set(`${p.ns}/${p.name}`, got.status.podIP);
    }
    return true;
  });
  node2PodCIDR = (await c.resource<Node>(gvr.nodes).get('node-2')).spec?.podCIDR ?? '';
});

after(async () => {
  await cluster?.stop();
});

type Outcome = 'ok' | 'drop' | 'reject';

async function outcome(from: string, to: string, port: number): Promise<Outcome> {
  const r = await cluster.sim.connect({ from: { pod: from }, to: { ip: ips.get(to) as string, port }, protocol: 'TCP', trace: false });
  if (r.established) return 'ok';
  return r.packets.some((p) => p.rejected) ? 'reject' : 'drop';
}

type Expect = [from: string, to: string, port: number, want: Outcome];

async function expectAll(what: string, cases: Expect[]): Promise<void> {
  let last = '';
  await waitFor(
    what,
    async () => {
      const got = await Promise.all(cases.map(([f, t, p]) => outcome(f, t, p)));
      last = cases.map(([f, t, p, w], i) => `${f}->${t}:${p} want ${w} got ${got[i]}`).join('; ');
      return got.every((g, i) => g === cases[i]![3]);
    },
    8000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${last}`);
  });
}

const k8s = (name: string, spec: Record<string, unknown>, ns = 'prod') => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
const acnp = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'ClusterNetworkPolicy', metadata: { name }, spec });
const sel = (labels: Record<string, string>) => ({ matchLabels: labels });

async function applying(objs: KubeObject[], check: () => Promise<void>): Promise<void> {
  const c = cluster.client();
  const res = (o: KubeObject) => {
    if (o.kind === 'ClusterNetworkPolicy') return c.resource(policyGvr.clusternetworkpolicies);
    if (o.apiVersion?.startsWith('crd.antrea.io') && o.kind === 'NetworkPolicy') return c.resource(policyGvr.antreanetworkpolicies).inNamespace(o.metadata.namespace ?? '');
    return c.resource(policyGvr.k8snetworkpolicies).inNamespace(o.metadata.namespace ?? '');
  };
  for (const o of objs) await res(o).create(o);
  try {
    await check();
  } finally {
    for (const o of objs) await res(o).delete(o.metadata.name ?? '').catch((e: unknown) => (isApiError(e, 'NotFound') ? undefined : Promise.reject(e)));
    await expectAll('everything allowed again once the policies are gone', [
      ['prod/client', 'prod/web', 80, 'ok'],
      ['dev/client', 'prod/web', 80, 'ok'],
      ['prod/client', 'prod/db', 5432, 'ok'],
    ]);
  }
}

test('no policy: everything is allowed, across Nodes too', async () => {
  await expectAll('open cluster', [
    ['prod/client', 'prod/web', 80, 'ok'],
    ['dev/client', 'prod/web', 80, 'ok'],
    ['prod/client', 'prod/db', 5432, 'ok'],
  ]);
});

test('K8s default deny isolates the selected Pods only (ingress)', () =>
  applying([k8s('deny', { podSelector: sel({ app: 'web' }), policyTypes: ['Ingress'] })], () =>
    expectAll('web isolated', [
      ['prod/client', 'prod/web', 80, 'drop'],
      ['dev/client', 'prod/web', 80, 'drop'],
      ['prod/client', 'prod/db', 5432, 'ok'],
    ]),
  ));

test('K8s allow by podSelector (same Namespace only) and numeric port', () =>
  applying([k8s('allow', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'client' }) }], ports: [{ port: 80 }] }] })], () =>
    expectAll('prod/client to web:80 only', [
      ['prod/client', 'prod/web', 80, 'ok'],
      ['prod/client', 'prod/web', 81, 'drop'],
      ['dev/client', 'prod/web', 80, 'drop'],
    ]),
  ));

test('K8s allow by namespaceSelector, with a named port', () =>
  applying([k8s('allow-dev', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'dev' }) }], ports: [{ port: 'http' }] }] })], () =>
    expectAll('dev may reach web on its http port', [
      ['dev/client', 'prod/web', 80, 'ok'],
      ['dev/client', 'prod/web', 5432, 'drop'],
      ['prod/client', 'prod/web', 80, 'drop'],
    ]),
  ));

test('K8s port range (port..endPort)', () =>
  applying([k8s('range', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }] })], () =>
    expectAll('only 8000-8100', [
      ['prod/client', 'prod/web', 8000, 'ok'],
      ['prod/client', 'prod/web', 8057, 'ok'],
      ['prod/client', 'prod/web', 8100, 'ok'],
      ['prod/client', 'prod/web', 8101, 'drop'],
      ['prod/client', 'prod/web', 80, 'drop'],
    ]),
  ));

test('K8s egress: the client may reach db:5432 only', () =>
  applying([k8s('egress', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: sel({ app: 'db' }) }], ports: [{ port: 5432 }] }] })], () =>
    expectAll('egress isolation', [
      ['prod/client', 'prod/db', 5432, 'ok'],
      ['prod/client', 'prod/web', 80, 'drop'],
      ['dev/client', 'prod/web', 80, 'ok'],
    ]),
  ));

test('K8s ipBlock with except', () =>
  applying([k8s('cidr', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: [node2PodCIDR] } }] }] })], () =>
    expectAll('node-2 Pods excepted', [
      ['prod/client', 'prod/web', 80, 'ok'],
      ['dev/client', 'prod/web', 80, 'drop'],
    ]),
  ));

test('an Antrea Drop in securityops wins over a K8s allow; Antrea Allow in emergency wins over that Drop', async () => {
  await applying(
    [
      k8s('allow-all', { podSelector: sel({ app: 'web' }), ingress: [{}] }),
      acnp('drop-dev', { tier: 'securityops', priority: 5, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Drop', from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] }),
    ],
    () =>
      expectAll('dev dropped before the K8s allow', [
        ['dev/client', 'prod/web', 80, 'drop'],
        ['prod/client', 'prod/web', 80, 'ok'],
      ]),
  );
  await applying(
    [
      acnp('drop-dev', { tier: 'securityops', priority: 5, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Drop', from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] }),
      acnp('allow-dev', { tier: 'emergency', priority: 5, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Allow', from: [{ namespaceSelector: sel({ env: 'dev' }) }], ports: [{ port: 80 }] }] }),
    ],
    () =>
      expectAll('emergency allow first, securityops drop for the rest', [
        ['dev/client', 'prod/web', 80, 'ok'],
        ['dev/client', 'prod/web', 81, 'drop'],
      ]),
  );
});

test('inside a Tier the lower policy priority wins, then rule order', () =>
  applying(
    [
      acnp('p10-allow', { priority: 10, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Allow', from: [{ podSelector: sel({ app: 'client' }) }] }] }),
      acnp('p5-rules', {
        priority: 5,
        appliedTo: [{ podSelector: sel({ app: 'web' }) }],
        ingress: [
          { action: 'Allow', from: [{ namespaceSelector: sel({ env: 'prod' }) }], ports: [{ port: 80 }] },
          { action: 'Drop', from: [{ podSelector: sel({ app: 'client' }) }] },
        ],
      }),
    ],
    () =>
      expectAll('priority 5 before 10; its first rule before its second', [
        ['prod/client', 'prod/web', 80, 'ok'],
        ['prod/client', 'prod/web', 81, 'drop'],
        ['dev/client', 'prod/web', 80, 'drop'],
      ]),
  ));

test('Reject answers instead of dropping', () =>
  applying([acnp('reject', { priority: 1, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Reject', from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] })], () =>
    expectAll('dev rejected', [
      ['dev/client', 'prod/web', 80, 'reject'],
      ['prod/client', 'prod/web', 80, 'ok'],
    ]),
  ));

test('Pass skips the rest of the Antrea tiers and hands over to K8s policies', () =>
  applying(
    [
      acnp('pass-dev', { tier: 'securityops', priority: 1, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Pass', from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] }),
      acnp('drop-all', { tier: 'application', priority: 1, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Drop' }] }),
      k8s('allow-80', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 80 }] }] }),
    ],
    () =>
      expectAll('dev passes to K8s (80 allowed, 81 isolated); prod hits the application drop', [
        ['dev/client', 'prod/web', 80, 'ok'],
        ['dev/client', 'prod/web', 81, 'drop'],
        ['prod/client', 'prod/web', 80, 'drop'],
      ]),
  ));

test('Baseline comes after K8s policies: a K8s allow wins, K8s isolation drops before Baseline', async () => {
  await applying([acnp('baseline-drop', { tier: 'baseline', priority: 1, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Drop', from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] })], () =>
    expectAll('baseline drop applies when nothing else decides', [
      ['dev/client', 'prod/web', 80, 'drop'],
      ['prod/client', 'prod/web', 80, 'ok'],
    ]),
  );
  await applying(
    [
      acnp('baseline-drop', { tier: 'baseline', priority: 1, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Drop' }] }),
      k8s('allow-dev', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] }),
    ],
    () =>
      expectAll('the K8s allow beats Baseline', [
        ['dev/client', 'prod/web', 80, 'ok'],
        ['prod/client', 'prod/web', 80, 'drop'],
      ]),
  );
});

test('Antrea egress Drop', () =>
  applying([acnp('egress-drop', { priority: 1, appliedTo: [{ podSelector: sel({ app: 'client' }) }], egress: [{ action: 'Drop', to: [{ podSelector: sel({ app: 'db' }) }] }] })], () =>
    expectAll('clients cannot reach db', [
      ['prod/client', 'prod/db', 5432, 'drop'],
      ['dev/client', 'prod/db', 5432, 'drop'],
      ['prod/client', 'prod/web', 80, 'ok'],
    ]),
  ));

test('a Pod label change moves it into a policy (incremental, end to end)', async () => {
  const c = cluster.client();
  await applying([k8s('allow-clients', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'client' }) }] }] })], async () => {
    await expectAll('client allowed, db not', [
      ['prod/client', 'prod/web', 80, 'ok'],
      ['prod/db', 'prod/web', 80, 'drop'],
    ]);
    await c.resource<Pod>(gvr.pods).inNamespace('prod').mergePatch('db', { metadata: { labels: { app: 'client' } } });
    try {
      await expectAll('db now allowed as a client', [['prod/db', 'prod/web', 80, 'ok']]);
    } finally {
      await c.resource<Pod>(gvr.pods).inNamespace('prod').mergePatch('db', { metadata: { labels: { app: 'db' } } });
    }
  });
});

test('the controller publishes internal objects with spans; a policy naming an unknown Tier is refused', async () => {
  const c = cluster.client();
  await assert.rejects(
    c.resource(policyGvr.clusternetworkpolicies).create(acnp('nowhere', { tier: 'missing', priority: 1, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Drop' }] })),
    (err: unknown) => isApiError(err, 'Invalid') && err.statusCode === 422 && /tier missing does not exist/.test(err.message),
  );
  assert.equal(await c.resource(policyGvr.clusternetworkpolicies).tryGet('nowhere'), undefined, 'nothing stored');
  await applying([k8s('deny', { podSelector: sel({ app: 'web' }) })], async () => {
    const np = await waitFor('the internal policy of prod/deny', async () =>
      (await c.resource<KubeObject & { sourceRef: { name: string }; span: string[] }>(controlplaneGvr.networkpolicies).list()).items.find((p) => p.sourceRef.name === 'deny'),
    );
    assert.deepEqual(np.span, ['node-1'], 'web runs on node-1 only');
  });
});

test('an established connection survives a policy change that still allows it', () =>
  applying([k8s('allow-clients', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'client' }) }] }] })], async () => {
    await expectAll('prod/client allowed', [['prod/client', 'prod/web', 80, 'ok'], ['dev/client', 'prod/web', 80, 'drop']]);
    const conn = await cluster.sim.connect({ from: { pod: 'prod/client' }, to: { ip: ips.get('prod/web') as string, port: 80 }, protocol: 'TCP', trace: false });
    assert.ok(conn.established);
    await applying([k8s('allow-dev', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] })], async () => {
      await expectAll('dev allowed too', [['dev/client', 'prod/web', 80, 'ok']]);
      const more = await cluster.sim.send({ from: { pod: 'prod/client' }, to: { ip: ips.get('prod/web') as string, port: 80 }, protocol: 'TCP', tcpFlags: 'PA', srcPort: conn.srcPort, trace: false });
      assert.ok(more.delivered, 'a packet of the old connection still gets through');
    });
  }));

test('deleting a Tier that policies use, or a system Tier, is refused (as by Antrea\'s webhook)', async () => {
  const c = cluster.client();
  const tiers = c.resource(policyGvr.tiers);
  const forbidden = (why: RegExp) => (err: unknown) => isApiError(err, 'Forbidden') && err.statusCode === 403 && why.test(err.message);
  await tiers.create({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Tier', metadata: { name: 'custom' }, spec: { priority: 10 } } as KubeObject);
  await assert.rejects(tiers.create({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Tier', metadata: { name: 'dup' }, spec: { priority: 10 } } as KubeObject), /overlaps with existing Tier/);
  await applying([acnp('in-custom', { tier: 'custom', priority: 1, appliedTo: [{ podSelector: sel({ app: 'web' }) }], ingress: [{ action: 'Drop', from: [{ namespaceSelector: sel({ env: 'dev' }) }] }] })], async () => {
    await expectAll('custom tier enforced', [['dev/client', 'prod/web', 80, 'drop']]);
    await assert.rejects(tiers.delete('custom'), forbidden(/tier custom is referenced by 1 Antrea ClusterNetworkPolicies/));
    await assert.rejects(tiers.delete('emergency'), forbidden(/cannot delete reserved tier emergency/));
    assert.ok(await tiers.tryGet('custom'));
    assert.ok(await tiers.tryGet('emergency'));
    await expectAll('still enforced', [['dev/client', 'prod/web', 80, 'drop']]);
  });
  await tiers.delete('custom');
  assert.equal(await tiers.tryGet('custom'), undefined, 'an unused custom Tier may go');
});

test('a policy deleted while the agent was down is removed from the datapath when the agent starts again', async () => {
  const c = cluster.client();
  const policies = c.resource(policyGvr.k8snetworkpolicies).inNamespace('prod');
  await policies.create(k8s('deny-while-down', { podSelector: sel({ app: 'web' }), policyTypes: ['Ingress'] }));
  await expectAll('web isolated', [['prod/client', 'prod/web', 80, 'drop']]);
  const held = () => cluster.sim.node('node-1').compiler.policyRuleIDs();
  assert.ok(held().length > 0, 'node-1 holds the isolation rule');
  await cluster.stopAgent('node-1');
  await policies.delete('deny-while-down');
  // The datapath outlives the agent: the rule stays enforced while nobody is there to remove it.
  assert.equal(await outcome('prod/client', 'prod/web', 80), 'drop');
  await cluster.startAgent('node-1');
  await waitFor('node-1 holds no policy rule', async () => held().length === 0 || undefined, 8000);
  await expectAll('web open again', [['prod/client', 'prod/web', 80, 'ok'], ['dev/client', 'prod/web', 80, 'ok']]);
});
