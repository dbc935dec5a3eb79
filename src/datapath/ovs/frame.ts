/**
 * Builds one Ethernet/IPv4/TCP|UDP|ICMP frame as hex for `ovs-ofctl packet-out`, with correct IP and L4 checksums.
 * Used only where a socket cannot produce the packet (spoofed source IP or MAC, odd TCP flags, a chosen TTL).
 */
import { parseIpv4, parseMac } from '../net/addr.js';

export interface FrameSpec {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  protocol: 'TCP' | 'UDP' | 'ICMP';
  srcPort: number;
  dstPort: number;
  ttl: number;
  tcpFlags: string;
  payloadLength: number;
}

function csum(buf: Buffer, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < buf.length; i += 2) s += buf.readUInt16BE(i);
  if (buf.length % 2) s += (buf[buf.length - 1] as number) << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function mac6(text: string): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(parseMac(text), 0, 6);
  return b;
}

export function buildFrame(f: FrameSpec): string {
  const payload = Buffer.alloc(f.payloadLength, 0x61);
  let l4: Buffer;
  let proto: number;
  if (f.protocol === 'TCP') {
    proto = 6;
    l4 = Buffer.alloc(20);
    l4.writeUInt16BE(f.srcPort, 0);
    l4.writeUInt16BE(f.dstPort, 2);
    l4.writeUInt32BE(1, 4);
    let flags = 0;
    for (const c of f.tcpFlags.toUpperCase()) flags |= ({ F: 1, S: 2, R: 4, P: 8, A: 16 } as Record<string, number>)[c] ?? 0;
    l4.writeUInt8(5 << 4, 12);
    l4.writeUInt8(flags, 13);
    l4.writeUInt16BE(64240, 14);
    l4 = Buffer.concat([l4, payload]);
  } else if (f.protocol === 'UDP') {
    proto = 17;
    l4 = Buffer.alloc(8);
    l4.writeUInt16BE(f.srcPort, 0);
    l4.writeUInt16BE(f.dstPort, 2);
    l4.writeUInt16BE(8 + payload.length, 4);
    l4 = Buffer.concat([l4, payload]);
  } else {
    proto = 1;
    l4 = Buffer.concat([Buffer.from([8, 0, 0, 0, f.srcPort >> 8, f.srcPort & 0xff, 0, 1]), payload]);
    l4.writeUInt16BE(csum(l4), 2);
  }
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(0x4000, 6);
  ip.writeUInt8(f.ttl, 8);
  ip.writeUInt8(proto, 9);
  ip.writeUInt32BE(parseIpv4(f.srcIp), 12);
  ip.writeUInt32BE(parseIpv4(f.dstIp), 16);
  ip.writeUInt16BE(csum(ip), 10);
  if (proto !== 1) {
    const pseudo = Buffer.alloc(12);
    ip.copy(pseudo, 0, 12, 20);
    pseudo.writeUInt8(proto, 9);
    pseudo.writeUInt16BE(l4.length, 10);
    const c = csum(Buffer.concat([pseudo, l4]));
    l4.writeUInt16BE(c === 0 && proto === 17 ? 0xffff : c, proto === 6 ? 16 : 6);
  }
  const eth = Buffer.concat([mac6(f.dstMac), mac6(f.srcMac), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([eth, ip, l4]).toString('hex');
}
