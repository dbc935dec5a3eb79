/**
 * Wraps IPFIX messages as UDP datagrams in a classic pcap file (Ethernet / IPv4 / UDP), so Wireshark or tshark can
 * check what we put on the wire without any packet capture privileges. Checksums: IPv4 header checksum is
 * computed; the UDP checksum is 0 (allowed for IPv4).
 */
export interface PcapOptions {
  srcIp?: string;
  dstIp?: string;
  srcPort?: number;
  /** Default 4739, the IANA IPFIX port. */
  dstPort?: number;
  /** Capture time of the first packet, in milliseconds; default 0. */
  startMs?: number;
}

export function ipfixPcap(messages: readonly Uint8Array[], opts: PcapOptions = {}): Buffer {
  const src = ipBytes(opts.srcIp ?? '127.0.0.1');
  const dst = ipBytes(opts.dstIp ?? '127.0.0.1');
  const sport = opts.srcPort ?? 40000;
  const dport = opts.dstPort ?? 4739;
  const parts: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(0xffff, 16); // snaplen
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  parts.push(global);
  let t = opts.startMs ?? 0;
  for (const msg of messages) {
    const frameLen = 14 + 20 + 8 + msg.length;
    const rec = Buffer.alloc(16 + frameLen);
    rec.writeUInt32LE(Math.floor(t / 1000), 0);
    rec.writeUInt32LE((t % 1000) * 1000, 4);
    rec.writeUInt32LE(frameLen, 8);
    rec.writeUInt32LE(frameLen, 12);
    let p = 16;
    Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]).copy(rec, p);
    p += 14;
    const ip = p;
    rec[p] = 0x45;
    rec.writeUInt16BE(20 + 8 + msg.length, p + 2);
    rec[p + 8] = 64; // TTL
    rec[p + 9] = 17; // UDP
    src.copy(rec, p + 12);
    dst.copy(rec, p + 16);
    rec.writeUInt16BE(ipChecksum(rec.subarray(ip, ip + 20)), ip + 10);
    p += 20;
    rec.writeUInt16BE(sport, p);
    rec.writeUInt16BE(dport, p + 2);
    rec.writeUInt16BE(8 + msg.length, p + 4);
    p += 8;
    rec.set(msg, p);
    parts.push(rec);
    t += 1;
  }
  return Buffer.concat(parts);
}

function ipBytes(s: string): Buffer {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new RangeError(`not an IPv4 address: ${s}`);
  }
  return Buffer.from(parts);
}

function ipChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += (h[i]! << 8) | h[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
