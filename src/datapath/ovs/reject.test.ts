import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildFrame } from './frame.js';
import { buildRejectAnswer, parseFrame } from './reject.js';

const POD_A_MAC = '02:00:0a:0a:00:02';
const POD_B_MAC = '02:00:0a:0a:01:03';

/**
 * An independent check of an Internet checksum: the one's-complement sum of 32-bit words folded at the end, over
 * data that includes its checksum field, must come out as 0xffff (RFC 1071 section 1, verification).
 */
function sumsToOnes(data: Buffer): boolean {
  const b = data.length % 4 === 0 ? data : Buffer.concat([data, Buffer.alloc(4 - (data.length % 4))]);
  let s = 0n;
  for (let i = 0; i < b.length; i += 4) s += BigInt(b.readUInt32BE(i));
  while (s > 0xffffn) s = (s & 0xffffn) + (s >> 16n);
  return s === 0xffffn;
}

function pseudoHeader(ip: Buffer, l4Len: number): Buffer {
  const p = Buffer.alloc(12);
  ip.copy(p, 0, 12, 20);
  p.writeUInt8(ip.readUInt8(9), 9);
  p.writeUInt16BE(l4Len, 10);
  return p;
}

const frame = (spec: Partial<Parameters<typeof buildFrame>[0]> & { protocol: 'TCP' | 'UDP' | 'ICMP' }) => Buffer.from(buildFrame({
  srcMac: POD_A_MAC, dstMac: POD_B_MAC, srcIp: '10.10.0.2', dstIp: '10.10.1.3', srcPort: 40001, dstPort: 5432, ttl: 63, tcpFlags: 'S', payloadLength: 0, ...spec,
}), 'hex');

test('a TCP SYN gets RST+ACK from the destination: seq 0, ack = seq + 1, ports, addresses and MACs swapped, valid checksums', () => {
  const syn = frame({ protocol: 'TCP' });
  const a = buildRejectAnswer(syn, { kind: 'policy' })!;
  assert.equal(a.reply, 'tcp-rst');
  assert.deepEqual(a.request, { protocol: 6, src: '10.10.0.2', dst: '10.10.1.3', srcPort: 40001, dstPort: 5432 });
  const f = a.frame;
  assert.equal(f.subarray(0, 6).toString('hex'), POD_A_MAC.replaceAll(':', ''), 'to the sender MAC');
  assert.equal(f.subarray(6, 12).toString('hex'), POD_B_MAC.replaceAll(':', ''), 'from the destination MAC');
  const ip = f.subarray(14, 34);
  const tcp = f.subarray(34);
  assert.equal(ip.readUInt16BE(2), 40, 'IP total length: 20 + 20');
  assert.equal(ip.readUInt8(8), 64, 'a fresh TTL');
  assert.equal(ip.readUInt8(9), 6);
  assert.equal(ip.subarray(12, 16).join('.'), '10.10.1.3');
  assert.equal(ip.subarray(16, 20).join('.'), '10.10.0.2');
  assert.ok(sumsToOnes(ip), 'IPv4 header checksum');
  assert.equal(tcp.length, 20);
  assert.equal(tcp.readUInt16BE(0), 5432);
  assert.equal(tcp.readUInt16BE(2), 40001);
  assert.equal(tcp.readUInt32BE(4), 0, 'seq 0: the SYN carried no ACK');
  assert.equal(tcp.readUInt32BE(8), 2, 'ack = the SYN\'s seq (1) + 1');
  assert.equal(tcp.readUInt8(13), 0x14, 'RST+ACK');
  assert.ok(sumsToOnes(Buffer.concat([pseudoHeader(ip, tcp.length), tcp])), 'TCP checksum over the pseudo-header');
});

test('a TCP segment with ACK and data: the reset takes its seq from the ACK, and acks the data', () => {
  const seg = frame({ protocol: 'TCP', tcpFlags: 'PA', payloadLength: 100 });
  // buildFrame writes seq 1 and ack 0; give the segment a real ACK number.
  seg.writeUInt32BE(0xfffffff0, 14 + 20 + 8);
  const tcpOff = 14 + 20;
  seg.writeUInt16BE(0, tcpOff + 16);
  const a = buildRejectAnswer(seg, { kind: 'policy' })!;
  const tcp = a.frame.subarray(34);
  assert.equal(tcp.readUInt32BE(4), 0xfffffff0);
  assert.equal(tcp.readUInt32BE(8), 101);
  assert.ok(sumsToOnes(Buffer.concat([pseudoHeader(a.frame.subarray(14, 34), 20), tcp])));
});

for (const [kind, code] of [['policy', 10], ['no-endpoints', 3]] as const) {
  test(`UDP rejected (${kind}) gets ICMP type 3 code ${code} quoting the IP header and 8 bytes`, () => {
    const udp = frame({ protocol: 'UDP', payloadLength: 30 });
    const a = buildRejectAnswer(udp, { kind })!;
    assert.equal(a.reply, 'icmp-unreachable');
    const ip = a.frame.subarray(14, 34);
    const icmp = a.frame.subarray(34);
    assert.equal(ip.readUInt8(9), 1);
    assert.equal(ip.readUInt16BE(2), 20 + 8 + 20 + 8);
    assert.ok(sumsToOnes(ip));
    assert.equal(icmp.readUInt8(0), 3);
    assert.equal(icmp.readUInt8(1), code);
    assert.equal(icmp.readUInt32BE(4), 0, 'unused');
    assert.ok(sumsToOnes(icmp), 'ICMP checksum');
    assert.deepEqual(icmp.subarray(8), udp.subarray(14, 14 + 28), 'the original IP header and first 8 bytes, unchanged');
  });
}

test('a DNATed packet is answered from the address the sender used, and the quote says so too', () => {
  const udp = frame({ protocol: 'UDP', dstIp: '10.10.1.3', dstPort: 8080 });
  const a = buildRejectAnswer(udp, { kind: 'policy', origDst: { ip: (10 << 24) | (96 << 16) | 10, port: 53 } })!;
  const ip = a.frame.subarray(14, 34);
  assert.equal(ip.subarray(12, 16).join('.'), '10.96.0.10');
  const quoted = a.frame.subarray(34 + 8);
  assert.equal(quoted.subarray(16, 20).join('.'), '10.96.0.10');
  assert.ok(sumsToOnes(quoted.subarray(0, 20)), 'the quoted header checksum is fixed');
  assert.equal(quoted.readUInt16BE(22), 53, 'the quoted destination port');
  assert.ok(sumsToOnes(a.frame.subarray(34)));
  const syn = frame({ protocol: 'TCP', dstIp: '10.10.1.3', dstPort: 8080 });
  const r = buildRejectAnswer(syn, { kind: 'policy', origDst: { ip: (10 << 24) | (96 << 16) | 10, port: 80 } })!;
  assert.equal(r.frame.subarray(26, 30).join('.'), '10.96.0.10');
  assert.equal(r.frame.readUInt16BE(34), 80);
  assert.deepEqual(r.request, { protocol: 6, src: '10.10.0.2', dst: '10.96.0.10', srcPort: 40001, dstPort: 80 });
  assert.ok(sumsToOnes(Buffer.concat([pseudoHeader(r.frame.subarray(14, 34), 20), r.frame.subarray(34)])));
});

test('a ping is answered with ICMP unreachable; errors, resets, fragments and non-IPv4 frames are not answered', () => {
  const ping = frame({ protocol: 'ICMP', srcPort: 77, payloadLength: 56 });
  const a = buildRejectAnswer(ping, { kind: 'policy' })!;
  assert.equal(a.reply, 'icmp-unreachable');
  assert.equal(a.request.srcPort, 77, 'the echo id');
  const err = Buffer.from(a.frame);
  assert.equal(buildRejectAnswer(err, { kind: 'policy' }), undefined, 'no ICMP error about an ICMP error');
  assert.equal(buildRejectAnswer(frame({ protocol: 'TCP', tcpFlags: 'RA' }), { kind: 'policy' }), undefined, 'no reset for a reset');
  const frag = frame({ protocol: 'UDP' });
  frag.writeUInt16BE(0x0010, 14 + 6);
  assert.equal(buildRejectAnswer(frag, { kind: 'policy' }), undefined, 'no answer to a non-first fragment');
  const arp = Buffer.from(frame({ protocol: 'UDP' }));
  arp.writeUInt16BE(0x0806, 12);
  assert.equal(buildRejectAnswer(arp, { kind: 'policy' }), undefined);
  assert.equal(buildRejectAnswer(ping.subarray(0, 30), { kind: 'policy' }), undefined, 'truncated');
});

test('property: any bytes are answered or ignored, never a throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (bytes, ipv4) => {
    const b = Buffer.from(bytes);
    if (ipv4 && b.length >= 15) {
      b.writeUInt16BE(0x0800, 12);
      b.writeUInt8(0x45, 14);
    }
    const p = parseFrame(b);
    const a = buildRejectAnswer(b, { kind: 'policy' });
    if (a) assert.ok(p && a.frame.length >= 54);
  }));
});
