/**
 * Turns FlowDiffs into OpenFlow 1.5 bundles for ovs-ofctl, and parses what OVS holds back into comparable text.
 *
 * Flows: one `ovs-ofctl --bundle add-flows -` transaction per diff, each line prefixed `add`, `modify_strict` or
 * `delete_strict`, so a diff lands all at once or not at all. A modified flow whose cookie changed is re-added (OVS
 * keeps the old cookie on modify); one whose cookie is the same is modified in place and keeps its counters.
 *
 * Groups: one `--bundle add-groups -` transaction. OpenFlow messages are at most 64 KiB, which Antrea hit at about
 * 800 buckets; here a group is added (or modified) with a first chunk of buckets and the rest follow as
 * `insert_bucket` lines in the same bundle, so there is no cap. A modified group that the compiler changed bucket by
 * bucket (`FlowDiff.groupBuckets`; bucket ids follow the Endpoint) is patched with remove_bucket/insert_bucket of
 * those bucket ids only, rendering nothing else: what we send for a one-endpoint change is the same in a 10-endpoint
 * and a 10,000-endpoint Service. What OVS 3.1 does with it is not: insert_bucket clones the group and checks the
 * whole bucket list for duplicate ids pairwise (ofputil_bucket_check_duplicate_id), measured at ~20 ms in a
 * 1,000-bucket and ~350 ms in a 10,000-bucket group (remove_bucket: ~20 ms in both, mostly the ovs-ofctl process).
 * Without the compiler's detail, a group whose bucket list mostly survives is patched after comparing both renderings.
 */
import type { Bucket, Flow, Group } from '../pipeline/flow.js';
import type { GroupBucketChange } from '../types.js';
import { renderActions, renderFlow, renderMatch } from '../pipeline/render.js';
import { flowLine } from './validate.js';

/** Keeps each OpenFlow group message below 64 KiB: a bucket encodes to 0.5-0.8 bytes per character of its text (measured: 64 bytes for a 111-character EndpointDNAT bucket). Fewer, larger chunks matter: OVS copies the whole group on every insert_bucket. */
export const GROUP_CHUNK_CHARS = 60_000;

export const SELECTION = 'selection_method=hash,fields(ip_src,ip_dst,nw_proto,tp_src,tp_dst)';

const hex = (v: bigint): string => (v === 0n ? '0' : `0x${v.toString(16)}`);

/** `table=..,priority=..,<match>` without cookie: what delete_strict / modify_strict match on. */
export function strictSpec(f: Pick<Flow, 'table' | 'priority' | 'match'>): string {
  const m = renderMatch(f.match);
  return `table=${f.table},priority=${f.priority}${m ? `,${m}` : ''}`;
}

export interface FlowOps {
  add: Flow[];
  /** [old, new] */
  modify: Array<[Flow | undefined, Flow]>;
  remove: Flow[];
}

export function flowBundle(ops: FlowOps): string {
  const lines: string[] = [];
  for (const f of ops.remove) lines.push(`delete_strict ${flowLine(strictSpec(f))}`);
  for (const f of ops.add) lines.push(`add ${flowLine(renderFlow(f))}`);
  for (const [old, f] of ops.modify) {
    if (old && old.cookie === f.cookie) lines.push(`modify_strict ${flowLine(`${strictSpec(f)},cookie=${hex(f.cookie)} actions=${renderActions(f.actions)}`)}`);
    else lines.push(`add ${flowLine(renderFlow(f))}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export function renderBucket(g: Pick<Group, 'type'>, b: Bucket): string {
  const weight = g.type === 'select' ? `,weight:${b.weight}` : '';
  return `bucket=bucket_id:${b.id}${weight},actions=${renderActions(b.actions)}`;
}

function chunks(texts: string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const t of texts) {
    if (cur.length > 0 && size + t.length > GROUP_CHUNK_CHARS) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(t);
    size += t.length + 1;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function headOf(g: Group): string {
  // An explicit 5-tuple hash rather than OVS's default dp_hash: the same connection always picks the same bucket,
  // and `ofproto/trace` can follow it (with dp_hash the trace prints "no live bucket").
  return g.type === 'select' ? `group_id=${g.id},type=select,${SELECTION}` : `group_id=${g.id},type=${g.type}`;
}

/** Lines that (re)write a whole group: `add`/`modify` with a first chunk, then insert_bucket chunks. */
function wholeGroup(cmd: 'add' | 'modify', g: Group): string[] {
  const parts = chunks(g.buckets.map((b) => renderBucket(g, b)));
  const lines = [`${cmd} ${flowLine([headOf(g), ...(parts[0] ?? [])].join(','))}`];
  for (const c of parts.slice(1)) lines.push(`insert_bucket ${flowLine([`group_id=${g.id},command_bucket_id=last`, ...c].join(','))}`);
  return lines;
}

/** Bucket-level patch of a group, or undefined when a whole rewrite is as cheap. */
function patchGroup(old: Group, g: Group): string[] | undefined {
  if (old.type !== g.type) return undefined;
  const before = new Map(old.buckets.map((b) => [b.id, renderBucket(old, b)]));
  const after = new Map(g.buckets.map((b) => [b.id, renderBucket(g, b)]));
  const removed: number[] = [];
  const inserted: string[] = [];
  for (const [id, text] of before) if (after.get(id) !== text) removed.push(id);
  for (const [id, text] of after) if (before.get(id) !== text) inserted.push(text);
  if (removed.length + inserted.length > g.buckets.length / 2 + 4) return undefined;
  return bucketLines(g.id, removed, inserted);
}

/** remove_bucket per removed id, then the inserted buckets in chunks (a changed bucket id is removed first). */
function bucketLines(groupId: number, removed: readonly number[], inserted: readonly string[]): string[] {
  const lines = removed.map((id) => `remove_bucket group_id=${groupId},command_bucket_id=${id}`);
  for (const c of chunks([...inserted])) lines.push(`insert_bucket ${flowLine([`group_id=${groupId},command_bucket_id=last`, ...c].join(','))}`);
  return lines;
}

export interface GroupOps {
  add: Group[];
  modify: Array<[Group | undefined, Group]>;
  remove: Group[];
}

/**
 * Adds and modifications (to run before the flows that use them). `buckets` is the diff's bucket-level detail; it
 * applies to a modification whose old group OVS holds (`old` given), since it is relative to that group.
 */
export function groupBundle(ops: Pick<GroupOps, 'add' | 'modify'>, buckets: readonly GroupBucketChange[] = []): string {
  const patches = new Map(buckets.map((c) => [c.groupId, c]));
  const lines: string[] = [];
  for (const g of ops.add) lines.push(...wholeGroup('add', g));
  for (const [old, g] of ops.modify) {
    const patch = old && old.type === g.type ? patches.get(g.id) : undefined;
    if (patch) lines.push(...bucketLines(g.id, patch.removed, patch.inserted.map((b) => renderBucket(g, b))));
    else lines.push(...((old && patchGroup(old, g)) ?? wholeGroup('modify', g)));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Removals (to run after the flows that used them are gone). */
export function groupRemoveBundle(groups: readonly Group[]): string {
  return groups.length ? `${groups.map((g) => `delete group_id=${g.id}`).join('\n')}\n` : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back

export interface DumpedFlow {
  table: number;
  priority: number;
  cookie: bigint;
  /** Match as OVS prints it (our renderMatch notation). */
  match: string;
  actions: string;
  packets: number;
  bytes: number;
  /** `table|priority|match`, comparable with pipeline/render.ts's flowIdentity. */
  identity: string;
}

/** Parses `ovs-ofctl -O OpenFlow15 dump-flows` output (with stats). */
export function parseDumpFlows(text: string): DumpedFlow[] {
  const out: DumpedFlow[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('OFPST_') || line.startsWith('NXST_')) continue;
    const at = line.indexOf(' actions=');
    if (at < 0) continue;
    const head = line.slice(0, at);
    const actions = line.slice(at + ' actions='.length);
    let table = 0;
    let priority = 32768;
    let cookie = 0n;
    let packets = 0;
    let bytes = 0;
    const match: string[] = [];
    for (const part of head.split(/,\s*|\s+/)) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const k = eq < 0 ? part : part.slice(0, eq);
      const v = eq < 0 ? '' : part.slice(eq + 1);
      if (k === 'cookie') cookie = BigInt(v);
      else if (k === 'table') table = Number(v);
      else if (k === 'priority') priority = Number(v);
      else if (k === 'n_packets') packets = Number(v);
      else if (k === 'n_bytes') bytes = Number(v);
      else if (['duration', 'idle_age', 'hard_age', 'idle_timeout', 'hard_timeout', 'importance'].includes(k)) continue;
      else if (['send_flow_rem', 'reset_counts', 'no_packet_counts', 'no_byte_counts', 'check_overlap'].includes(k) && eq < 0) continue;
      else match.push(part);
    }
    const m = match.join(',');
    out.push({ table, priority, cookie, match: m, actions, packets, bytes, identity: `${table}|${priority}|${m}` });
  }
  return out;
}

export interface GroupStats {
  id: number;
  packets: number;
  bytes: number;
  buckets: Array<{ packets: number; bytes: number }>;
}

/** Parses `ovs-ofctl -O OpenFlow15 dump-group-stats`. */
export function parseGroupStats(text: string): GroupStats[] {
  const out: GroupStats[] = [];
  for (const line of text.split('\n')) {
    const id = /group_id=(\d+)/.exec(line);
    if (!id) continue;
    const pk = /packet_count=(\d+)/.exec(line);
    const by = /byte_count=(\d+)/.exec(line);
    const buckets = [...line.matchAll(/bucket\d+:packet_count=(\d+),byte_count=(\d+)/g)].map((m) => ({ packets: Number(m[1]), bytes: Number(m[2]) }));
    out.push({ id: Number(id[1]), packets: Number(pk?.[1] ?? 0), bytes: Number(by?.[1] ?? 0), buckets });
  }
  return out;
}

/** Parses `dump-groups` into group id → text of each bucket (as we render it), for restart reconciliation. */
export function parseDumpGroups(text: string): Map<number, { type: string; buckets: Map<number, string> }> {
  const out = new Map<number, { type: string; buckets: Map<number, string> }>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const id = /^group_id=(\d+),type=(\w+)/.exec(line);
    if (!id) continue;
    const buckets = new Map<number, string>();
    const parts = line.split(/,(?=bucket=)/).slice(1);
    for (const p of parts) {
      const bid = /^bucket=bucket_id:(\d+)/.exec(p);
      if (bid) buckets.set(Number(bid[1]), p);
    }
    out.set(Number(id[1]), { type: id[2] as string, buckets });
  }
  return out;
}
