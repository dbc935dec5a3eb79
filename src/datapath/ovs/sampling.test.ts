import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AntreaError } from '../../util/errors.js';
import { silentLogger } from '../../util/log.js';
import { CookieCategory, makeCookie } from '../pipeline/fields.js';
import type { RunResult } from './exec.js';
import { buildFrame } from './frame.js';
import { OXM, decodeMatch, encodeMatch, encodeOxm, type PacketIn } from './openflow.js';
import { Samplers, type SampledPacket } from './sampler.js';
import { SAMPLING_COOKIE_BASE, SAMPLING_COOKIE_MASK, parseSampledFrame, renderSamplingFlows, samplingCookie, samplingTagOf } from './sampling.js';

const ACTIONS = 'actions=controller(max_len=65535),load:0x1->NXM_NX_REG15[0],resubmit(,31)';

test('a sampling flow matches the filter on new connections in ConntrackState, with its own cookie', () => {
  assert.deepEqual(renderSamplingFlows({ inPort: 5, dstIP: '10.10.1.3', proto: 6, dstPort: 80 }, 11, 30), [
    `table=31,priority=65000,cookie=0xfe000000000b,hard_timeout=30,ct_state=+new+trk,reg15=0/0x1,in_port=5,tcp,nw_dst=10.10.1.3,tp_dst=80 ${ACTIONS}`,
  ]);
  assert.deepEqual(renderSamplingFlows({ srcIP: '10.10.0.2', dstIP: '10.10.1.3', proto: 17, srcPort: 5353, dstPort: 53 }, 7), [
    `table=31,priority=65000,cookie=0xfe0000000007,ct_state=+new+trk,reg15=0/0x1,udp,nw_src=10.10.0.2,nw_dst=10.10.1.3,tp_src=5353,tp_dst=53 ${ACTIONS}`,
  ]);
  assert.deepEqual(renderSamplingFlows({}, 59), [`table=31,priority=65000,cookie=0xfe000000003b,ct_state=+new+trk,reg15=0/0x1,ip ${ACTIONS}`]);
  assert.deepEqual(renderSamplingFlows({ proto: 1 }, 7), [`table=31,priority=65000,cookie=0xfe0000000007,ct_state=+new+trk,reg15=0/0x1,icmp ${ACTIONS}`]);
  assert.deepEqual(renderSamplingFlows({ proto: 47 }, 7), [`table=31,priority=65000,cookie=0xfe0000000007,ct_state=+new+trk,reg15=0/0x1,ip,nw_proto=47 ${ACTIONS}`]);
  // OVS needs a protocol to match a port: without one, TCP and UDP are both sampled.
  assert.deepEqual(renderSamplingFlows({ dstPort: 80 }, 7).map((l) => /reg15=0\/0x1,(\w+),/.exec(l)?.[1]), ['tcp', 'udp']);
});

test('nothing from a Traceflow spec can add a field or an action to a sampling flow', () => {
  const bad: Array<[Parameters<typeof renderSamplingFlows>[0], number, number?]> = [
    [{ srcIP: '10.0.0.1,actions=drop' }, 7],
    [{ dstIP: '10.0.0.1 actions=output:1' }, 7],
    [{ dstIP: '10.0.0.256' }, 7],
    [{ dstIP: '::1' }, 7],
    [{ proto: 6, dstPort: 0 }, 7],
    [{ proto: 6, dstPort: 65536 }, 7],
    [{ proto: 6, srcPort: 1.5 }, 7],
    [{ proto: 6, dstPort: Number.NaN }, 7],
    [{ proto: 256 }, 7],
    [{ proto: -1 }, 7],
    [{ proto: 1, dstPort: 80 }, 7],
    [{ inPort: 0 }, 7],
    [{ inPort: 0xfffffffd }, 7],
    [{}, 0],
    [{}, 64],
    [{}, 7.5],
    [{}, 7, 0],
    [{}, 7, 70000],
  ];
  for (const [spec, tag, timeout] of bad) {
    assert.throws(() => renderSamplingFlows(spec, tag, timeout), (err: unknown) => err instanceof AntreaError && /^ERR_(TRACEFLOW_LIVE_FILTER|OVS_INVALID_VALUE)$/.test(err.code), JSON.stringify({ spec, tag, timeout }));
  }
});

test('ovs-ofctl parses the sampling flows as written', { skip: spawnSync('ovs-ofctl', ['--version']).status === 0 ? false : 'ovs-ofctl is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampling-'));
  try {
    const lines = [...renderSamplingFlows({ inPort: 5, srcIP: '10.10.0.2', dstIP: '10.10.1.3', proto: 6, srcPort: 1234, dstPort: 80 }, 11, 30), ...renderSamplingFlows({ dstPort: 53 }, 7)];
    writeFileSync(join(dir, 'flows.txt'), `${lines.join('\n')}\n`);
    const out = spawnSync('ovs-ofctl', ['-O', 'OpenFlow15', 'parse-flows', join(dir, 'flows.txt')], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const mods = out.stdout.split('\n').filter((l) => l.includes('OFPT_FLOW_MOD'));
    assert.equal(mods.length, 3);
    assert.match(mods[0] ?? '', /ADD table:31 priority=65000,ct_state=\+new\+trk,tcp,reg15=0\/0x1,in_port=5,nw_src=10\.10\.0\.2,nw_dst=10\.10\.1\.3,tp_src=1234,tp_dst=80 cookie:0xfe000000000b hard:30 actions=CONTROLLER:65535,set_field:0x1\/0x1->reg15,resubmit\(,31\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sampling cookies are told apart from every compiled flow cookie', () => {
  assert.equal(samplingTagOf(samplingCookie(11)), 11);
  assert.equal(samplingCookie(11) & SAMPLING_COOKIE_MASK, SAMPLING_COOKIE_BASE);
  for (const category of Object.values(CookieCategory)) {
    for (const round of [0, 1, 0xffff]) assert.equal(samplingTagOf(makeCookie(round, category, 0xdeadbeef)), undefined);
  }
  assert.equal(samplingTagOf(makeCookie(1, 0xfe, 11)), undefined, 'a round in the high bits is not a sampling cookie');
});

test('a sampled frame is parsed into the headers Traceflow reports', () => {
  const frame = (protocol: 'TCP' | 'UDP' | 'ICMP', tcpFlags = 'S') => Buffer.from(buildFrame({
    srcMac: '02:00:0a:0a:00:02', dstMac: '0a:00:00:00:01:01', srcIp: '10.10.0.2', dstIp: '10.10.1.3', protocol, srcPort: 40001, dstPort: 80, ttl: 64, tcpFlags, payloadLength: 0,
  }), 'hex');
  assert.deepEqual(parseSampledFrame(frame('TCP', 'SA')), {
    dlDst: '0a:00:00:00:01:01', dlSrc: '02:00:0a:0a:00:02', dscp: 0, length: 40, ttl: 64, protocol: 6, srcIP: '10.10.0.2', dstIP: '10.10.1.3', srcPort: 40001, dstPort: 80, tcpFlags: 0x12,
  });
  assert.deepEqual(parseSampledFrame(frame('UDP')), {
    dlDst: '0a:00:00:00:01:01', dlSrc: '02:00:0a:0a:00:02', dscp: 0, length: 28, ttl: 64, protocol: 17, srcIP: '10.10.0.2', dstIP: '10.10.1.3', srcPort: 40001, dstPort: 80,
  });
  // frame.ts puts the ICMP echo id where the source port is given, sequence 1.
  assert.deepEqual(parseSampledFrame(frame('ICMP'))?.icmp, { type: 8, code: 0, id: 40001, seq: 1 });
  const arp = Buffer.alloc(42);
  arp.writeUInt16BE(0x0806, 12);
  assert.equal(parseSampledFrame(arp), undefined);
  assert.equal(parseSampledFrame(frame('TCP').subarray(0, 30)), undefined, 'truncated');
});

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function packetIn(cookie: bigint, opts: { inPort?: number; tunnel?: boolean } = {}): PacketIn {
  const oxms = [encodeOxm(OXM.IN_PORT, u32(opts.inPort ?? 5))];
  if (opts.tunnel) {
    const vni = Buffer.alloc(8);
    vni.writeBigUInt64BE(0n);
    oxms.push(encodeOxm(OXM.TUNNEL_ID, vni), encodeOxm(OXM.TUN_IPV4_SRC, Buffer.from([192, 168, 77, 100])), encodeOxm(OXM.TUN_IPV4_DST, Buffer.from([192, 168, 77, 101])));
  }
  const data = Buffer.from(buildFrame({
    srcMac: '02:00:0a:0a:00:02', dstMac: '0a:00:00:00:01:01', srcIp: '10.10.0.2', dstIp: '10.10.1.3', protocol: 'TCP', srcPort: 40001, dstPort: 80, ttl: 64, tcpFlags: 'S', payloadLength: 0,
  }), 'hex');
  return { xid: 1, bufferId: 0xffffffff, totalLen: data.length, reason: 1, tableId: 31, cookie, match: decodeMatch(encodeMatch(oxms), 0).fields, data };
}

function fakeOvs(): { calls: string[]; ovs: ConstructorParameters<typeof Samplers>[0] } {
  const calls: string[] = [];
  const ok = async (): Promise<RunResult> => ({ stdout: '', stderr: '', code: 0 });
  return {
    calls,
    ovs: {
      ofctl: async (cmd, _bridge, _args, opts) => {
        calls.push(`${cmd} ${opts?.input ?? ''}`.trim());
        return ok();
      },
      ofctlPlain: async (cmd, _bridge, args) => {
        calls.push(`${cmd} ${(args ?? []).join(' ')}`);
        return ok();
      },
    },
  };
}

test('a sampler takes only its own packet-ins, removes its flow on the first, and reads the packet-in', async () => {
  const { calls, ovs } = fakeOvs();
  const samplers = new Samplers(ovs, 'br-int', silentLogger);
  const got: SampledPacket[] = [];
  const stop = await samplers.start({ dstIP: '10.10.1.3', proto: 6, dstPort: 80 }, 11, { once: true, hardTimeout: 30 }, (p) => got.push(p));
  assert.match(calls[0] ?? '', /^add-flows add table=31,priority=65000,cookie=0xfe000000000b,hard_timeout=30,/);
  assert.equal(samplers.handle(packetIn(makeCookie(1, CookieCategory.Policy, 3))), false, 'a Reject packet-in is someone else\'s');
  assert.equal(samplers.handle(packetIn(samplingCookie(11), { tunnel: true, inPort: 1 })), true);
  assert.equal(samplers.handle(packetIn(samplingCookie(11))), true, 'a packet-in already in flight is taken and ignored');
  assert.equal(got.length, 1);
  assert.deepEqual({ tag: got[0]?.tag, inPort: got[0]?.inPort, tunnel: got[0]?.tunnel, src: got[0]?.headers.srcIP, flags: got[0]?.headers.tcpFlags }, {
    tag: 11, inPort: 1, tunnel: { src: '192.168.77.100', dst: '192.168.77.101', id: 0n }, src: '10.10.0.2', flags: 2,
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls.slice(1), ['del-flows cookie=0xfe000000000b/-1']);
  // The tag is free again: a later Traceflow holding it samples, and the first one's stop leaves its flow alone.
  const next = await samplers.start({ proto: 17 }, 11, { once: true }, () => undefined);
  await stop();
  assert.equal(calls.filter((c) => c.startsWith('del-flows')).length, 1, 'the old sampler deletes nothing more');
  await next();
  assert.equal(calls.at(-1), 'del-flows cookie=0xfe000000000b/-1');
  assert.deepEqual(samplers.tags(), []);
  await samplers.removeAll();
  assert.equal(calls.at(-1), 'del-flows cookie=0xfe0000000000/0xffffff0000000000');
  // A tag samples once per Node at a time.
  await samplers.start({}, 7, { once: false }, () => undefined);
  await assert.rejects(samplers.start({}, 7, { once: false }, () => undefined), (err: unknown) => err instanceof AntreaError && err.code === 'ERR_TRACEFLOW_TAG_BUSY');
});

test('a droppedOnly sampler keeps its flow and hands every packet-in on', async () => {
  const { calls, ovs } = fakeOvs();
  const samplers = new Samplers(ovs, 'br-int', silentLogger);
  let n = 0;
  const stop = await samplers.start({ proto: 6 }, 15, { once: false }, () => n++);
  samplers.handle(packetIn(samplingCookie(15)));
  samplers.handle(packetIn(samplingCookie(15)));
  assert.equal(n, 2);
  assert.equal(calls.filter((c) => c.startsWith('del-flows')).length, 0);
  await stop();
  samplers.handle(packetIn(samplingCookie(15)));
  assert.equal(n, 2, 'nothing after stop');
  assert.deepEqual(calls.at(-1), 'del-flows cookie=0xfe000000000f/-1');
});
