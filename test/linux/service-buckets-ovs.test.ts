/**
 * A one-Endpoint change on real Open vSwitch is one remove_bucket and one insert_bucket: the group keeps every other
 * bucket (ids follow the Endpoint), and OVS's own hash selection (scores by bucket id) keeps every connection that
 * did not use the changed Endpoint on the bucket it had.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OvsCluster } from '../../src/datapath/ovs/cluster.js';
import { ovsAvailable } from '../../src/datapath/ovs/exec.js';
import { nodeConfig } from '../../src/datapath/pipeline/testing.js';
import type { ServiceFrontend } from '../../src/datapath/types.js';

const avail = await ovsAvailable();

describe('Service groups on Open vSwitch change bucket by bucket', { skip: avail.ok ? false : avail.reason }, () => {
  it('one Endpoint replaced: one remove_bucket and one insert_bucket; only its connections move', async () => {
    const cluster = await OvsCluster.create();
    try {
      const cfg = nodeConfig(1, 'encap');
      const node = await cluster.addNode(cfg);
      const endpoints = Array.from({ length: 40 }, (_, i) => ({ ip: `10.20.0.${i + 1}`, port: 8080, isLocal: false }));
      const svc: ServiceFrontend = { namespace: 'b', name: 'svc', portName: 'http', protocol: 'TCP', clusterIP: '10.96.5.6', port: 80, endpoints };
      await node.upsertService(svc);
      const gid = node.compiler.serviceGroupId('b/svc:http/TCP') as number;
      const compiledIds = () => (node.compiler.groupList().find((g) => g.id === gid)?.buckets ?? []).map((b) => b.id).sort((a, b) => a - b);
      // ofproto/trace scores every bucket OVS holds (`-> bucket N: score S`) and shows the chosen one's DNAT.
      const trace = async (sport: number) => {
        const out = (await node.ovs.appctl(['ofproto/trace', 'br-int',
          `in_port=2,tcp,dl_src=${cfg.gatewayMAC},dl_dst=aa:bb:cc:dd:ee:ff,nw_src=10.10.0.1,nw_dst=10.96.5.6,tp_src=${sport},tp_dst=80`])).stdout;
        const ids = [...out.matchAll(/-> bucket (\d+): score/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
        return { ids, dnat: /nat\(dst=([0-9.]+):8080\)/.exec(out)?.[1] };
      };
      assert.deepEqual((await trace(1000)).ids, compiledIds(), 'OVS holds the compiled bucket ids');
      const sports = Array.from({ length: 120 }, (_, i) => 1000 + i);
      const before = new Map<number, string | undefined>();
      for (const s of sports) before.set(s, (await trace(s)).dnat);

      const gone = endpoints[17]!.ip;
      const lines = node.pushed.groupLines;
      const d = await node.upsertService({ ...svc, endpoints: endpoints.map((e, i) => (i === 17 ? { ...e, ip: '10.21.0.1' } : e)) });
      assert.equal(node.pushed.groupLines - lines, 2, 'one remove_bucket, one insert_bucket');
      assert.equal(d.groupBuckets?.[0]?.removed.length, 1);
      assert.equal(d.groupBuckets?.[0]?.inserted.length, 1);
      const after = await trace(1000);
      assert.deepEqual(after.ids, compiledIds(), 'OVS holds the compiled bucket ids after the patch');
      assert.ok(after.ids.includes(d.groupBuckets![0]!.inserted[0]!.id));
      assert.ok(!after.ids.includes(d.groupBuckets![0]!.removed[0]!));
      for (const s of sports) {
        const was = before.get(s);
        const now = (await trace(s)).dnat;
        assert.ok(now, `tp_src=${s} selects an Endpoint`);
        if (was === gone) assert.notEqual(now, gone);
        else if (now !== was) assert.equal(now, '10.21.0.1', `tp_src=${s} moved from ${was} to ${now}, not to the new Endpoint`);
      }

      // A restart reads the patched group back (OVS lists its buckets in its own order) and rewrites nothing.
      const restarted = await cluster.restartNode(cfg.nodeName);
      await restarted.setNodeConfig(cfg);
      const patched = await restarted.upsertService({ ...svc, endpoints: endpoints.map((e, i) => (i === 17 ? { ...e, ip: '10.21.0.1' } : e)) });
      assert.ok(patched.addedGroups.some((g) => g.id === gid), 'the restarted compiler adds the group again');
      assert.equal(restarted.pushed.groupLines, 0, 'the group OVS holds is the desired one: nothing re-sent');
      assert.deepEqual((await trace(1000)).ids, compiledIds());
    } finally {
      await cluster.close();
    }
  });
});
