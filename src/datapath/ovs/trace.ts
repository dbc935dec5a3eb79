/**
 * Reads `ovs-appctl ofproto/trace` output: the tables a packet went through (with priority and cookie), the final
 * datapath actions, and where it was dropped. Used to explain real drops and by the differential test.
 */
import { tableName } from '../pipeline/tables.js';

export interface TraceHop {
  table: number;
  /** The flow's match as the trace prints it (empty for a table miss with no flow). */
  match: string;
  priority: number;
  cookie: bigint;
  /** Action lines under this flow (indented). */
  actions: string[];
  depth: number;
}

export interface OvsTrace {
  hops: TraceHop[];
  datapathActions: string;
  dropped: boolean;
  /** The packet left through a tunnel port (see parseTrace on the tracer's recirculation quirk). */
  tunnelled: boolean;
  /** The last table visited. */
  lastTable?: number;
  /** OF ports output to (from `output:N` lines). */
  outputs: number[];
  raw: string;
}

const HOP = /^(\s*)(\d+)\. (.*?)(?:,\s*)?priority (\d+)(?:, cookie (0x[0-9a-f]+))?$/;

export function parseTrace(text: string): OvsTrace {
  const hops: TraceHop[] = [];
  const outputs: number[] = [];
  let dp = '';
  let cur: TraceHop | undefined;
  let secondPass = false;
  for (const line of text.split('\n')) {
    if (/^bridge\("/.test(line) && hops.length > 0 && !line.includes('br-int')) secondPass = true;
    const m = HOP.exec(line);
    if (m && !secondPass) {
      cur = { table: Number(m[2]), match: (m[3] ?? '').replace(/,\s*$/, ''), priority: Number(m[4]), cookie: m[5] ? BigInt(m[5]) : 0n, actions: [], depth: Math.floor((m[1] ?? '').length / 4) };
      hops.push(cur);
      continue;
    }
    if (line.startsWith('Datapath actions:')) dp = line.slice('Datapath actions:'.length).trim();
    const out = /^\s+output:(\d+)/.exec(line) ?? /-> output port is (\d+)/.exec(line);
    if (out && !secondPass) outputs.push(Number(out[1]));
    if (cur && /^\s+\S/.test(line) && !secondPass) cur.actions.push(line.trim());
  }
  const last = hops[hops.length - 1];
  // After a recirculation the trace resumes with the tunnel destination already in the flow and OVS's tracer then
  // refuses the tunnel output ("Not tunneling to our own address"); real packets carry no tunnel metadata across the
  // recirculation and are tunnelled. A trace that ends that way is a tunnel output, not a drop.
  const tunnelled = text.includes('Not tunneling to our own address');
  return { hops, datapathActions: dp, dropped: !tunnelled && (dp === 'drop' || dp === ''), tunnelled, ...(last ? { lastTable: last.table } : {}), outputs, raw: text };
}

export function describeDrop(t: OvsTrace): string {
  return t.lastTable === undefined ? 'dropped before any table' : `dropped in table ${t.lastTable} (${tableName(t.lastTable)}): datapath actions "${t.datapathActions || 'drop'}"`;
}
