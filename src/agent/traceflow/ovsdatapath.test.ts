import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SampleOptions, SampledPacket } from '../../datapath/ovs/sampler.js';
import type { SampledHeaders } from '../../datapath/ovs/sampling.js';
import type { NodeResult } from '../../datapath/sim/traceflow.js';
import type { CapturedPacket, TraceflowPacketIn } from '../nodedatapath.js';
import { capturedFromHeaders, ovsTraceflowDatapath, type OvsTracer } from './ovsdatapath.js';

const tcp = (srcPort: number, flags = 2): SampledHeaders => ({
  dlSrc: '02:00:0a:0a:00:02', dlDst: '0a:00:00:00:01:01', srcIP: '10.10.0.2', dstIP: '10.10.1.3', length: 60, ttl: 64, dscp: 0, protocol: 6, srcPort, dstPort: 80, tcpFlags: flags,
});

test('capturedPacket from a sampled frame: the real headers, per protocol', () => {
  assert.deepEqual(capturedFromHeaders(tcp(40001)), {
    srcIP: '10.10.0.2', dstIP: '10.10.1.3', length: 60, ipHeader: { protocol: 6, ttl: 64 }, transportHeader: { tcp: { srcPort: 40001, dstPort: 80, flags: 2 } },
  });
  const udp: SampledHeaders = { ...tcp(5353), protocol: 17, length: 36, tcpFlags: undefined };
  delete udp.tcpFlags;
  assert.deepEqual(capturedFromHeaders(udp).transportHeader, { udp: { srcPort: 5353, dstPort: 80 } });
  const icmp: SampledHeaders = { dlSrc: 'x', dlDst: 'y', srcIP: '10.10.0.2', dstIP: '10.10.1.3', length: 84, ttl: 63, dscp: 0, protocol: 1, icmp: { type: 8, code: 0, id: 7, seq: 3 } };
  assert.deepEqual(capturedFromHeaders(icmp), { srcIP: '10.10.0.2', dstIP: '10.10.1.3', length: 84, ipHeader: { protocol: 1, ttl: 63 }, transportHeader: { icmp: { id: 7, sequence: 3 } } });
});

/** An OVS executor stand-in: one sampler per call, traces decided by the sampled packet's source port. */
function fakeOvs(traces: Record<number, NodeResult[]>) {
  const state = { samplers: [] as Array<{ node: string; opts: SampleOptions; onPacket: (p: SampledPacket) => void }>, removed: 0, traced: [] as number[] };
  const ovs: OvsTracer = {
    name: 'ovs',
    traceflow: async () => [],
    sampleLive: async (node, _filter, _tag, opts, onPacket) => {
      state.samplers.push({ node, opts, onPacket });
      return async () => {
        state.removed++;
      };
    },
    traceSampled: async (_node, s) => {
      state.traced.push(s.headers.srcPort ?? 0);
      return traces[s.headers.srcPort ?? 0] ?? [];
    },
  };
  return { ovs, state };
}

const sample = (srcPort: number): SampledPacket => ({ tag: 7, inPort: 1, headers: tcp(srcPort), frame: Buffer.alloc(0) });
const settle = () => new Promise((r) => setTimeout(r, 20));

test('droppedOnly on OVS: delivered connections are traced once and ignored, the dropped one is captured and reported by its Node', async () => {
  const delivered: NodeResult[] = [{ node: 'n1', observations: [{ component: 'SpoofGuard', action: 'Forwarded' }] }, { node: 'n2', observations: [{ component: 'Forwarding', componentInfo: 'Output', action: 'Delivered' }] }];
  const dropped: NodeResult[] = [{ node: 'n1', observations: [{ component: 'SpoofGuard', action: 'Forwarded' }] }, { node: 'n2', observations: [{ component: 'NetworkPolicy', componentInfo: 'IngressDefaultRule', action: 'Dropped' }] }];
  const { ovs, state } = fakeOvs({ 1000: delivered, 2000: dropped });
  const dp1 = ovsTraceflowDatapath(ovs, 'n1');
  const dp2 = ovsTraceflowDatapath(ovs, 'n2');
  const packetIns: TraceflowPacketIn[] = [];
  dp1.onPacketIn((p) => packetIns.push(p));
  dp2.onPacketIn((p) => packetIns.push(p));
  const captured: CapturedPacket[] = [];
  assert.ok(dp1.watch);
  const stop = await dp1.watch({ dstIP: '10.10.1.3', droppedOnly: true, timeoutSeconds: 20 }, 7, async (c) => {
    captured.push(c);
  });
  assert.deepEqual(state.samplers.map((s) => ({ node: s.node, opts: s.opts })), [{ node: 'n1', opts: { once: false, hardTimeout: 30 } }]);
  const onPacket = state.samplers[0]?.onPacket;
  assert.ok(onPacket);
  onPacket(sample(1000));
  onPacket(sample(1000));
  await settle();
  assert.deepEqual(state.traced, [1000], 'one connection is judged once');
  assert.deepEqual({ captured, packetIns, removed: state.removed }, { captured: [], packetIns: [], removed: 0 });
  onPacket(sample(2000));
  onPacket(sample(3000));
  await settle();
  assert.equal(captured.length, 1);
  assert.equal(captured[0]?.transportHeader?.tcp?.srcPort, 2000);
  assert.deepEqual(packetIns, [{ tag: 7, node: 'n2', observations: dropped[1]?.observations }], 'only the dropping Node reports');
  assert.equal(state.removed, 1, 'the flow is removed once a packet is captured');
  assert.deepEqual(state.traced, [1000, 2000], 'nothing is traced after the capture');
  stop();
  await settle();
  assert.equal(state.removed, 1, 'the removal runs once');
});

test('live traffic on OVS: the first sampled packet is captured before its packet-ins; stop before a packet removes the flow', async () => {
  const path: NodeResult[] = [{ node: 'n1', observations: [{ component: 'SpoofGuard', action: 'Forwarded' }] }, { node: 'n2', observations: [{ component: 'Forwarding', action: 'Received' }] }];
  const { ovs, state } = fakeOvs({ 1000: path });
  const dp = ovsTraceflowDatapath(ovs, 'n1');
  const order: string[] = [];
  dp.onPacketIn((p) => order.push(`packet-in ${p.node}`));
  ovsTraceflowDatapath(ovs, 'n2').onPacketIn((p) => order.push(`packet-in ${p.node}`));
  assert.ok(dp.watch);
  await dp.watch({ node: 'n1', fromPod: 'ns/a', proto: 6 }, 11, async () => {
    await settle();
    order.push('captured');
  });
  assert.deepEqual(state.samplers[0]?.opts, { once: true });
  state.samplers[0]?.onPacket(sample(1000));
  await settle();
  await settle();
  assert.deepEqual(order, ['captured', 'packet-in n1', 'packet-in n2']);
  const stop = await dp.watch({ proto: 17 }, 15, async () => undefined);
  stop();
  await settle();
  assert.equal(state.removed, 2);
  // A filter for another Node's Pod cannot be sampled here.
  await assert.rejects(Promise.resolve(dp.watch({ node: 'n2', fromPod: 'ns/b' }, 19, async () => undefined)), /for Node n2, not n1/);
});
