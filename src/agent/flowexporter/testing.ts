/** Conntrack entries for the flow exporter's tests and bench, shaped like `Conntrack.list()` rows. */
import type { ConntrackEntry } from '../../datapath/traffic.js';

export const POD_ZONE = 65520;

export interface EntrySpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  protocol?: 'tcp' | 'udp' | 'icmp';
  state?: ConntrackEntry['state'];
  packets?: number;
  bytes?: number;
  revPackets?: number;
  revBytes?: number;
  /** DNAT: the Endpoint that answers instead of `dst:dport`. */
  dnat?: { ip: string; port: number };
  zone?: number;
  labels?: string;
  mark?: number;
  start?: number;
  lastSeen?: number;
}

export function ctEntry(s: EntrySpec, id = 1): ConntrackEntry {
  const protocol = s.protocol ?? 'tcp';
  const replySrc = s.dnat?.ip ?? s.dst;
  const replyPort = s.dnat?.port ?? s.dport;
  return {
    id,
    zone: s.zone ?? POD_ZONE,
    protocol,
    ...(protocol === 'tcp' ? { state: s.state ?? 'ESTABLISHED' } : {}),
    orig: { src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, packets: s.packets ?? 1, bytes: s.bytes ?? 60 },
    reply: { src: replySrc, dst: s.src, sport: replyPort, dport: s.sport, packets: s.revPackets ?? 0, bytes: s.revBytes ?? 0 },
    mark: s.mark ?? (s.dnat ? 0x4 : 0),
    labels: s.labels ?? '0x0',
    assured: true,
    startTime: s.start ?? 1_700_000_000_000,
    lastSeen: s.lastSeen ?? s.start ?? 1_700_000_000_000,
    timeoutSeconds: 120,
  };
}

/** `n` distinct TCP connections between Pod IPs of 10.10.0.0/16, from index `from`. */
export function manyEntries(n: number, from = 0, packets = 10): ConntrackEntry[] {
  const out: ConntrackEntry[] = new Array<ConntrackEntry>(n);
  for (let k = 0; k < n; k++) {
    const i = from + k;
    out[k] = ctEntry(
      {
        src: `10.10.${(i >> 8) & 255}.${(i & 255) + 1 > 254 ? 254 : (i & 255) + 1}`,
        dst: `10.10.${((i >> 16) & 255) + 100}.2`,
        sport: 1024 + (i % 60000),
        dport: 80 + ((i / 60000) | 0),
        packets,
        bytes: packets * 100,
        revPackets: packets,
        revBytes: packets * 1000,
      },
      i + 1,
    );
  }
  return out;
}
