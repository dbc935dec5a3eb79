/**
 * Reads the userspace datapath's connection tracker (`ovs-appctl dpctl/dump-conntrack -s`) into the same
 * ConntrackEntry shape the simulator returns, for the flow exporter and tests.
 * Not knowable from OVS's dump and filled as noted: `id` (a stable hash of the tuple and zone), `startTime` and
 * `lastSeen` (the time of reading: the userspace dump prints no timestamps), `assured` (false: not printed).
 */
import type { ConntrackEntry } from '../traffic.js';

function kv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function parseConntrack(text: string, now = Date.now()): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const proto = /^(\w+),/.exec(line)?.[1];
    const orig = /orig=\(([^)]*)\)/.exec(line)?.[1];
    const reply = /reply=\(([^)]*)\)/.exec(line)?.[1];
    if (!proto || orig === undefined || reply === undefined) continue;
    const o = kv(orig);
    const r = kv(reply);
    const zone = Number(/zone=(\d+)/.exec(line)?.[1] ?? 0);
    const state = /state=([A-Z_0-9]+)/.exec(line)?.[1];
    const timeout = Number(/timeout=(\d+)/.exec(line)?.[1] ?? 0);
    const mark = Number(/mark=(\w+)/.exec(line)?.[1] ?? 0);
    const labels = /labels=(\w+)/.exec(line)?.[1] ?? '0x0';
    const side = (t: Record<string, string>) => ({
      src: t.src ?? '', dst: t.dst ?? '',
      sport: Number(t.sport ?? t.id ?? 0), dport: Number(t.dport ?? t.id ?? 0),
      packets: Number(t.packets ?? 0), bytes: Number(t.bytes ?? 0),
    });
    const e: ConntrackEntry = {
      id: hash(`${zone}|${orig}|${reply}`.replace(/,?(packets|bytes)=\d+/g, '')),
      zone,
      protocol: proto,
      orig: side(o),
      reply: side(r),
      mark,
      labels,
      assured: false,
      startTime: now,
      lastSeen: now,
      timeoutSeconds: timeout,
    };
    // OVS prints TCP states as the kernel names them; SYN_SENT2 etc. fold into the simulator's names.
    if (proto === 'tcp' && state) e.state = (state === 'SYN_SENT2' ? 'SYN_SENT' : state === 'FIN_WAIT_1' || state === 'FIN_WAIT_2' ? 'FIN_WAIT' : state) as NonNullable<ConntrackEntry['state']>;
    out.push(e);
  }
  return out;
}
