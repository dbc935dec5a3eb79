import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../util/log.js';
import { buildFrame } from './frame.js';
import { OFPP_CONTROLLER, OXM, OXM_CLASS_PKT_REGS, decodeMatch, encodeMatch, encodeOxm, type PacketIn, type PacketOut } from './openflow.js';
import { Rejecter } from './rejecter.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
/** xreg0 as OVS 3.1 sends it: reg0 in the high word. */
const xreg0 = (reg0: number) => encodeOxm([OXM_CLASS_PKT_REGS, 0, 8], Buffer.concat([u32(reg0), u32(0)]));

const GW_MAC = '0a:00:00:00:01:01';
const POD_MAC = '02:00:0a:0a:00:02';

function packetIn(opts: { table: number; inPort: number; reg0: number; tunnel?: boolean; protocol?: 'TCP' | 'UDP'; routed?: boolean }): PacketIn {
  const oxms = [encodeOxm(OXM.IN_PORT, u32(opts.inPort)), xreg0(opts.reg0)];
  if (opts.tunnel) {
    const vni = Buffer.alloc(8);
    vni.writeBigUInt64BE(0n);
    oxms.push(encodeOxm(OXM.TUNNEL_ID, vni), encodeOxm(OXM.TUN_IPV4_SRC, Buffer.from([192, 168, 77, 101])), encodeOxm(OXM.TUN_IPV4_DST, Buffer.from([192, 168, 77, 102])));
  }
  const data = Buffer.from(buildFrame({
    // A routed packet already carries L3Forwarding's MACs (gateway → destination Pod).
    srcMac: opts.routed ? GW_MAC : POD_MAC, dstMac: '02:00:0a:0a:01:03', srcIp: '10.10.0.2', dstIp: '10.10.1.3', protocol: opts.protocol ?? 'TCP',
    srcPort: 40001, dstPort: 80, ttl: 63, tcpFlags: 'S', payloadLength: 0,
  }), 'hex');
  return { xid: 0, bufferId: 0xffffffff, totalLen: data.length, reason: 0, tableId: opts.table, cookie: 0n, match: decodeMatch(encodeMatch(oxms), 0).fields, data };
}

function rejecter() {
  const sent: Array<Omit<PacketOut, 'xid'>> = [];
  const node = { gatewayMAC: () => GW_MAC, podMAC: (port: number) => (port === 7 ? POD_MAC : undefined) };
  return { r: new Rejecter((p) => sent.push(p), node, silentLogger, () => 1000), sent };
}

test('a reject packet-in from the tunnel goes back into the tunnel towards its tun_src, with its VNI', () => {
  const { r, sent } = rejecter();
  const rec = r.handle(packetIn({ table: 90, inPort: 1, reg0: 2 << 24, tunnel: true }))!;
  assert.equal(sent.length, 1);
  const po = sent[0]!;
  assert.equal(po.inPort, OFPP_CONTROLLER);
  assert.deepEqual(po.actions.map((a) => (a.type === 'output' ? `output:${a.port}` : `set:${a.field[1]}=${a.value.toString('hex')}`)), [
    'set:32=c0a84d65', 'set:38=0000000000000000', 'output:1',
  ]);
  assert.deepEqual(rec, {
    at: 1000, table: 90, kind: 'policy', reply: 'tcp-rst', protocol: 6, src: '10.10.0.2', dst: '10.10.1.3', srcPort: 40001, dstPort: 80,
    via: { port: 1, tunDst: '192.168.77.101' }, sent: true,
  });
  const mac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
  assert.equal(mac(po.data.subarray(0, 6)), 'aa:bb:cc:dd:ee:ff', 'tunnelled to the global virtual MAC');
  assert.equal(mac(po.data.subarray(6, 12)), GW_MAC);
  assert.deepEqual(r.recent(1000), [rec]);
  assert.deepEqual(r.recent(1001), []);
});

test('from a Pod port the answer goes straight back out of it; ServiceLB means a Service without Endpoints', () => {
  const { r, sent } = rejecter();
  const rec = r.handle(packetIn({ table: 41, inPort: 7, reg0: (2 << 24) | 0x2, protocol: 'UDP' }))!;
  assert.deepEqual(sent[0]!.actions, [{ type: 'output', port: 7 }]);
  assert.equal(rec.kind, 'no-endpoints');
  assert.equal(rec.reply, 'icmp-unreachable');
  assert.equal(sent[0]!.data.readUInt8(14 + 20 + 1), 3, 'ICMP port unreachable');
});

test('packet-ins without the reject reason, and a switch that is gone, are handled without throwing', () => {
  const { r, sent } = rejecter();
  assert.equal(r.handle(packetIn({ table: 45, inPort: 7, reg0: 1 << 24 })), undefined, 'logging only');
  assert.equal(sent.length, 0);
  const gone = new Rejecter(() => { throw new Error('not connected'); }, { gatewayMAC: () => GW_MAC, podMAC: () => undefined }, silentLogger);
  assert.equal(gone.handle(packetIn({ table: 45, inPort: 7, reg0: 2 << 24 }))?.sent, false);
});

test('a routed packet is answered to the sender Pod\'s MAC from the gateway\'s, a switched one with the MACs swapped', () => {
  const mac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
  const { r, sent } = rejecter();
  r.handle(packetIn({ table: 90, inPort: 7, reg0: 2 << 24, routed: true }));
  assert.equal(mac(sent[0]!.data.subarray(0, 6)), POD_MAC);
  assert.equal(mac(sent[0]!.data.subarray(6, 12)), GW_MAC);
  r.handle(packetIn({ table: 90, inPort: 7, reg0: 2 << 24 }));
  assert.equal(mac(sent[1]!.data.subarray(0, 6)), POD_MAC);
  assert.equal(mac(sent[1]!.data.subarray(6, 12)), '02:00:0a:0a:01:03', 'from the destination Pod');
  r.handle(packetIn({ table: 90, inPort: 2, reg0: 2 << 24, routed: true }));
  assert.equal(mac(sent[2]!.data.subarray(0, 6)), GW_MAC, 'to the host through antrea-gw0');
});
