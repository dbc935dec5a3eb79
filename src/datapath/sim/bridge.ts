/**
 * The software OVS bridge: runs compiled flows exactly as OVS would (see classifier.ts for lookup order), with
 * goto_table, resubmit, set_field and move, ct() with recirculation, select groups, output / IN_PORT / NORMAL,
 * conjunctions, controller and dec_ttl, and per-flow, per-group and per-bucket counters.
 *
 * A packet is loaded into a flow key once; actions rewrite the key; outputs turn the key back into a packet.
 * ct() in one zone is looked up once per pass through the bridge; later ct() calls in the same zone reuse that
 * result (as OVS does for a packet already tracked in the zone), commit it and apply NAT.
 */
import { StableMap } from '../stable-map.js';
import type { Bucket, CtAction, Flow, Group, LearnAction } from '../pipeline/flow.js';
import { act, match } from '../pipeline/flow.js';
import { compileActions, type ExecAction } from './actions.js';
import { ETH_TYPE_ARP, ETH_TYPE_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../pipeline/flow.js';
import { renderActions, renderFlow, renderCtState, flowIdentity } from '../pipeline/render.js';
import { CtState, fullMask, type RegField } from '../pipeline/fields.js';
import { tableName } from '../pipeline/tables.js';
import type { FlowDiff } from '../types.js';
import { FlowTable, compileFlow, type SimFlow } from './classifier.js';
import { S, KEY_SLOTS, slotParts, toSlots } from './key.js';
import { loadKey, storeKey, frameLength, ipLength, TCP_ACK, TCP_RST, TCP_SYN, type Packet } from './packet.js';
import { Conntrack, type Connection, type Tuple } from './conntrack.js';
import type { Clock } from './clock.js';
import type { DropInfo, TraceStep } from './trace.js';
import { macFrom, BROADCAST_MAC, formatIpv4 } from '../net/addr.js';

export interface PortInfo {
  name: string;
  kind: 'pod' | 'gateway' | 'tunnel';
}

export interface BridgeOutput {
  port: number;
  packet: Packet;
}

export interface BridgeResult {
  outputs: BridgeOutput[];
  drop?: DropInfo;
  packetIns: { reason: number; table: number }[];
  /** Conntrack lookups made on this pass (zone → original tuple before NAT, connection). */
  ct: { zone: number; tuple: Tuple; conn?: Connection; state: number }[];
  /** reg5/reg6 (policy conj IDs) and reg1 at the end, for Traceflow. */
  regs: { reg1: number; reg5: number; reg6: number; reg3: number; reg0: number };
}

interface SimBucket {
  id: number;
  weight: number;
  /** mix32 of the bucket id, precomputed for selection. */
  salt: number;
  actions: readonly ExecAction[];
  packets: number;
  bytes: number;
}

interface SimGroup {
  group: Group;
  packets: number;
  bytes: number;
  /** By bucket id, in the order OVS keeps them (insert_bucket appends). */
  buckets: Map<number, SimBucket>;
}

function simBucket(b: Bucket, old?: SimBucket): SimBucket {
  return { id: b.id, weight: b.weight, salt: mix32(b.id ^ 0x5bd1e995), actions: compileActions(b.actions), packets: old?.packets ?? 0, bytes: old?.bytes ?? 0 };
}

interface CtPass {
  zone: number;
  tuple: Tuple;
  conn?: Connection;
  dir: 0 | 1;
  state: number;
  natApplied: boolean;
}

const MAX_DEPTH = 64;
const CT_TRK = CtState.trk;

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of the 5-tuple: the same connection always picks the same bucket. */
export function fiveTupleHash(key: Uint32Array): number {
  let h = mix32((key[S.NW_SRC] as number) ^ 0x9e3779b9);
  h = mix32(h ^ (key[S.NW_DST] as number));
  h = mix32(h ^ (key[S.NW_PROTO] as number));
  h = mix32(h ^ (((key[S.TP_SRC] as number) << 16) | (key[S.TP_DST] as number)));
  return h;
}

export class SimBridge {
  readonly conntrack: Conntrack;
  private readonly tables = new Map<number, FlowTable>();
  private readonly flows = new StableMap<string, SimFlow>();
  private readonly groups = new Map<number, SimGroup>();
  private readonly ports = new Map<number, PortInfo>();
  private readonly macTable = new Map<number, number>();
  private readonly key = new Uint32Array(KEY_SLOTS);

  // per-pass state (one packet at a time)
  private outputs: BridgeOutput[] = [];
  private drop?: DropInfo;
  private trace?: TraceStep[];
  private orig!: Packet;
  private inPort = 0;
  private frameLen = 0;
  private ipLen = 0;
  private halted = false;
  private ctPasses: CtPass[] = [];
  private packetIns: { reason: number; table: number }[] = [];
  private currentTable = 0;

  /** Learned flows by the cookie of their learn() action (for delete_learned). */
  private readonly learned = new Map<bigint, Set<string>>();

  constructor(
    readonly nodeName: string,
    private readonly clock: Clock,
  ) {
    this.conntrack = new Conntrack(clock);
  }

  // ---- configuration ----

  attachPort(ofPort: number, info: PortInfo): void {
    this.ports.set(ofPort, info);
  }

  detachPort(ofPort: number): void {
    this.ports.delete(ofPort);
    for (const [mac, port] of this.macTable) if (port === ofPort) this.macTable.delete(mac);
  }

  port(ofPort: number): PortInfo | undefined {
    return this.ports.get(ofPort);
  }

  applyDiff(diff: FlowDiff): void {
    for (const f of diff.removed) this.removeFlow(f);
    for (const f of diff.modified) {
      this.removeFlow(f);
      this.addFlow(f);
    }
    for (const f of diff.added) this.addFlow(f);
    for (const g of diff.removedGroups) this.groups.delete(g.id);
    const patches = new Map((diff.groupBuckets ?? []).map((c) => [c.groupId, c]));
    for (const g of [...diff.modifiedGroups, ...diff.addedGroups]) {
      const prev = this.groups.get(g.id);
      const patch = patches.get(g.id);
      if (prev && patch) {
        // Bucket by bucket, as OVS's remove_bucket/insert_bucket: the other buckets (and counters) stay as they are.
        for (const id of patch.removed) prev.buckets.delete(id);
        for (const b of patch.inserted) prev.buckets.set(b.id, simBucket(b));
        prev.group = g;
        continue;
      }
      this.groups.set(g.id, {
        group: g,
        packets: prev?.packets ?? 0,
        bytes: prev?.bytes ?? 0,
        buckets: new Map(g.buckets.map((b) => [b.id, simBucket(b, prev?.buckets.get(b.id))])),
      });
    }
  }

  private addFlow(f: Flow): void {
    const id = flowIdentity(f);
    const old = this.flows.get(id);
    const sf = compileFlow(f);
    if (old) {
      // A modify keeps the counters, as OVS's modify-strict does.
      sf.packets = old.packets;
      sf.bytes = old.bytes;
      this.tables.get(f.table)?.remove(old);
    }
    let t = this.tables.get(f.table);
    if (!t) {
      t = new FlowTable(f.table);
      this.tables.set(f.table, t);
    }
    t.insert(sf);
    this.flows.set(id, sf);
  }

  private removeFlow(f: Flow): void {
    const id = flowIdentity(f);
    const old = this.flows.get(id);
    if (!old) return;
    this.tables.get(f.table)?.remove(old);
    this.flows.delete(id);
    // delete_learned: flows this flow's learn() installed go with it.
    for (const a of f.actions) {
      if (a.type !== 'learn' || !a.deleteLearned) continue;
      const ids = this.learned.get(a.cookie);
      if (!ids) continue;
      this.learned.delete(a.cookie);
      for (const lid of ids) {
        const lf = this.flows.get(lid);
        if (lf) this.removeFlow(lf.flow);
      }
    }
  }

  /** Runs learn(): builds a flow from the packet's current fields and installs (or refreshes) it. */
  private learn(a: LearnAction): void {
    const key = this.key;
    const m = match();
    for (const c of a.matchConst) m.field(c.field, c.value);
    for (const c of a.matchCopy) {
      const [part] = slotParts(c.field);
      m.field(c.field, key[(part as { slot: number }).slot] as number);
    }
    const regValue = (r: RegField) => {
      const v = key[S.REG0 + Number(r.reg.slice(3))] as number;
      const width = r.hi - r.lo + 1;
      return width >= 32 ? v : (v >>> r.lo) & ((1 << width) - 1);
    };
    const actions = a.loads.map((l) => act.loadRegField(l.dst, l.src ? regValue(l.src) : (l.value ?? 0)));
    const f: Flow = { table: a.table, priority: a.priority, cookie: a.cookie, match: m.build(), actions, hardTimeout: a.hardTimeout };
    const id = flowIdentity(f);
    const prev = this.flows.get(id);
    if (prev) this.removeFlow(prev.flow);
    this.addFlow(f);
    const sf = this.flows.get(id) as SimFlow;
    sf.expiresAt = this.clock.now() + a.hardTimeout * 1000;
    let ids = this.learned.get(a.cookie);
    if (!ids) this.learned.set(a.cookie, (ids = new Set()));
    ids.add(id);
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /** Flows with their counters, like `ovs-ofctl dump-flows`. */
  flowStats(): { flow: Flow; packets: number; bytes: number }[] {
    return [...this.flows.values()]
      .map((f) => ({ flow: f.flow, packets: f.packets, bytes: f.bytes }))
      .sort((a, b) => a.flow.table - b.flow.table || b.flow.priority - a.flow.priority);
  }

  /** `ovs-ofctl dump-flows` lines with n_packets and n_bytes. */
  dumpFlows(): string[] {
    return this.flowStats().map(({ flow, packets, bytes }) =>
      renderFlow(flow).replace(/^(table=\d+,)/, `$1n_packets=${packets},n_bytes=${bytes},`),
    );
  }

  groupStats(): { id: number; packets: number; bytes: number; buckets: { id: number; packets: number; bytes: number }[] }[] {
    return [...this.groups.values()].map((g) => ({
      id: g.group.id,
      packets: g.packets,
      bytes: g.bytes,
      buckets: [...g.buckets.values()].map((b) => ({ id: b.id, packets: b.packets, bytes: b.bytes })),
    }));
  }

  // ---- packet processing ----

  /** Runs one packet from `inPort` through the pipeline, starting at table 0. */
  process(packet: Packet, inPort: number, trace?: TraceStep[]): BridgeResult {
    const key = this.key;
    loadKey(key, packet, inPort);
    this.outputs = [];
    this.drop = undefined;
    this.trace = trace;
    this.orig = packet;
    this.inPort = inPort;
    this.frameLen = frameLength(packet);
    this.ipLen = ipLength(packet);
    this.halted = false;
    this.ctPasses = [];
    this.packetIns = [];
    this.runTable(0, 0);
    const result: BridgeResult = {
      outputs: this.outputs,
      packetIns: this.packetIns,
      ct: this.ctPasses.map((c) => ({ zone: c.zone, tuple: c.tuple, state: c.state, ...(c.conn ? { conn: c.conn } : {}) })),
      regs: {
        reg0: key[S.REG0] as number,
        reg1: key[S.REG0 + 1] as number,
        reg3: key[S.REG0 + 3] as number,
        reg5: key[S.REG0 + 5] as number,
        reg6: key[S.REG0 + 6] as number,
      },
    };
    if (this.outputs.length === 0) {
      result.drop = this.drop ?? {
        node: this.nodeName,
        table: this.currentTable,
        tableName: tableName(this.currentTable),
        reason: 'the pipeline ended without an output action',
      };
    }
    this.trace = undefined;
    return result;
  }

  private setDrop(table: number | undefined, flow: SimFlow | undefined, reason: string): void {
    this.drop = {
      node: this.nodeName,
      ...(table === undefined ? {} : { table, tableName: tableName(table) }),
      ...(flow ? { flow: renderFlow(flow.flow) } : {}),
      reason,
    };
    this.trace?.push({ kind: 'drop', node: this.nodeName, ...(table === undefined ? {} : { table, tableName: tableName(table) }), reason });
  }

  private runTable(tableId: number, depth: number): void {
    if (this.halted) return;
    if (depth > MAX_DEPTH) {
      this.setDrop(tableId, undefined, `resubmit depth exceeded ${MAX_DEPTH}`);
      this.halted = true;
      return;
    }
    this.currentTable = tableId;
    const table = this.tables.get(tableId);
    let f = table?.lookup(this.key);
    while (f?.expiresAt !== undefined && f.expiresAt <= this.clock.now()) {
      // hard_timeout passed: OVS would have removed it already.
      this.removeFlow(f.flow);
      f = table?.lookup(this.key);
    }
    if (!f) {
      this.trace?.push({ kind: 'miss', node: this.nodeName, table: tableId, tableName: tableName(tableId), depth });
      this.setDrop(tableId, undefined, `no flow matched in table ${tableId} (${tableName(tableId)}): table-miss drop`);
      return;
    }
    f.packets++;
    f.bytes += this.frameLen;
    if (this.trace) {
      this.trace.push({
        kind: 'flow',
        node: this.nodeName,
        table: tableId,
        tableName: tableName(tableId),
        priority: f.flow.priority,
        cookie: `0x${f.flow.cookie.toString(16)}`,
        match: f.matchText,
        actions: renderActions(f.flow.actions),
        depth,
      });
    }
    if (f.isDrop) {
      this.setDrop(tableId, f, `dropped by flow in table ${tableId} (${tableName(tableId)})`);
      return;
    }
    this.execute(f.exec, depth, tableId);
  }

  private execute(actions: readonly ExecAction[], depth: number, tableId: number): void {
    const key = this.key;
    let next = -1;
    for (let i = 0; i < actions.length && !this.halted; i++) {
      const a = actions[i] as ExecAction;
      switch (a.t) {
        case 'goto':
          next = a.table;
          break;
        case 'resubmit':
          this.runTable(a.table, depth + 1);
          this.currentTable = tableId;
          break;
        case 'set': {
          const { slots, values, masks } = a;
          for (let j = 0; j < slots.length; j++) {
            const slot = slots[j] as number;
            key[slot] = (((key[slot] as number) & ~(masks[j] as number)) | (values[j] as number)) >>> 0;
          }
          break;
        }
        case 'move':
          for (let j = 0; j < a.dst.length; j++) key[a.dst[j] as number] = key[a.src[j] as number] as number;
          break;
        case 'ct':
          this.ct(a.a);
          if (a.a.table !== undefined) next = a.a.table;
          break;
        case 'group':
          this.group(a.id, depth, tableId);
          break;
        case 'output':
          this.output(a.port, false, tableId);
          break;
        case 'output_reg': {
          const v = key[a.slot] as number;
          this.output(a.width >= 32 ? v : (v >>> a.shift) & ((1 << a.width) - 1), false, tableId);
          break;
        }
        case 'in_port':
          this.output(this.inPort, true, tableId);
          break;
        case 'normal':
          this.normal(tableId);
          break;
        case 'nop':
          break;
        case 'controller':
          this.packetIns.push({ reason: a.reason, table: tableId });
          break;
        case 'learn':
          this.learn(a.a);
          break;
        case 'dec_ttl': {
          const ttl = key[S.NW_TTL] as number;
          if (key[S.ETH_TYPE] !== ETH_TYPE_IP) break;
          if (ttl <= 1) {
            this.setDrop(tableId, undefined, `dec_ttl: TTL ${ttl} expired in table ${tableId} (${tableName(tableId)})`);
            this.halted = true;
            return;
          }
          key[S.NW_TTL] = ttl - 1;
          break;
        }
      }
    }
    if (next >= 0 && !this.halted) this.runTable(next, depth);
  }

  private output(port: number, viaInPort: boolean, tableId: number): void {
    if (port === this.inPort && !viaInPort) {
      this.setDrop(tableId, undefined, `output to the input port ${port} is skipped (OVS needs IN_PORT for that)`);
      return;
    }
    const info = this.ports.get(port);
    if (!info) {
      this.setDrop(tableId, undefined, `output to port ${port}, which does not exist on the bridge`);
      return;
    }
    this.trace?.push({ kind: 'output', node: this.nodeName, port, portName: info.name });
    const p = storeKey(this.key, this.orig);
    if (info.kind === 'tunnel') {
      p.tunnel = { src: 0, dst: this.key[S.TUN_DST] as number, vni: this.key[S.TUN_ID_LO] as number };
    }
    this.outputs.push({ port, packet: p });
  }

  /** NORMAL: an L2 learning switch over Pod and gateway ports. */
  private normal(tableId: number): void {
    const key = this.key;
    const src = macFrom(key[S.ETH_SRC_HI] as number, key[S.ETH_SRC_LO] as number);
    const dst = macFrom(key[S.ETH_DST_HI] as number, key[S.ETH_DST_LO] as number);
    this.macTable.set(src, this.inPort);
    const known = dst === BROADCAST_MAC ? undefined : this.macTable.get(dst);
    if (known !== undefined) {
      if (known !== this.inPort) this.output(known, false, tableId);
      return;
    }
    for (const [port, info] of this.ports) {
      if (port === this.inPort || info.kind === 'tunnel') continue;
      this.output(port, false, tableId);
    }
  }

  private group(id: number, depth: number, tableId: number): void {
    const g = this.groups.get(id);
    if (!g || g.buckets.size === 0) {
      this.setDrop(tableId, undefined, `group ${id} ${g ? 'has no buckets' : 'does not exist'}`);
      return;
    }
    g.packets++;
    g.bytes += this.frameLen;
    if (g.group.type === 'all') {
      for (const b of g.buckets.values()) {
        b.packets++;
        b.bytes += this.frameLen;
        this.execute(b.actions, depth + 1, tableId);
      }
      return;
    }
    // Rendezvous hashing, as OVS's hash selection method (group_best_live_bucket): each bucket scores the connection's
    // hash mixed with its id, times its weight; the best wins. A connection's bucket depends on that bucket and the
    // better-scoring ones only, so inserting or removing other buckets moves no connection but those it must. OVS
    // keeps 16 bits of the hash and lets the later bucket win a tie, which in a 10,000-bucket group favours the
    // buckets at the end of the list; 32 bits make ties negligible.
    const basis = fiveTupleHash(this.key);
    let chosen: SimBucket | undefined;
    let best = 0;
    for (const b of g.buckets.values()) {
      const score = mix32(basis ^ b.salt) * b.weight;
      if (chosen === undefined || score > best) {
        chosen = b;
        best = score;
      }
    }
    if (!chosen) return;
    chosen.packets++;
    chosen.bytes += this.frameLen;
    this.trace?.push({ kind: 'group', node: this.nodeName, groupId: id, bucketId: chosen.id });
    this.execute(chosen.actions, depth + 1, tableId);
  }

  // ---- conntrack ----

  private tupleFromKey(): Tuple {
    const key = this.key;
    const proto = key[S.NW_PROTO] as number;
    let sport = 0;
    let dport = 0;
    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
      sport = key[S.TP_SRC] as number;
      dport = key[S.TP_DST] as number;
    } else if (proto === IPPROTO_ICMP) {
      const type = key[S.ICMP_TYPE] as number;
      if (type === 8) sport = key[S.ICMP_ID] as number;
      else if (type === 0) dport = key[S.ICMP_ID] as number;
    }
    return { src: key[S.NW_SRC] as number, dst: key[S.NW_DST] as number, proto, sport, dport };
  }

  private ct(a: CtAction): void {
    const key = this.key;
    if (key[S.ETH_TYPE] !== ETH_TYPE_IP) return;
    const flags = key[S.NW_PROTO] === IPPROTO_TCP ? (key[S.TCP_FLAGS] as number) : 0;
    let pass = this.ctPasses.find((c) => c.zone === a.zone);
    if (!pass) {
      const tuple = this.tupleFromKey();
      let hit = this.conntrack.find(a.zone, tuple);
      if (hit && hit.dir === 0 && flags & TCP_SYN && !(flags & TCP_ACK) && (hit.conn.tcpState === 'TIME_WAIT' || hit.conn.tcpState === 'CLOSE')) {
        this.conntrack.delete(hit.conn); // a new SYN reopens a closed tuple
        hit = undefined;
      }
      let state: number;
      if (hit) {
        const valid = this.conntrack.update(hit.conn, hit.dir, flags, this.ipLen);
        state = CT_TRK | (valid ? (hit.conn.seenReply ? CtState.est : CtState.new) : CtState.inv) | (hit.dir === 1 ? CtState.rpl : 0);
      } else {
        const bad = key[S.NW_PROTO] === IPPROTO_TCP && (!(flags & TCP_SYN) || (flags & TCP_RST) !== 0 || (flags & TCP_ACK) !== 0);
        state = CT_TRK | (bad ? CtState.inv : CtState.new);
      }
      pass = { zone: a.zone, tuple, ...(hit ? { conn: hit.conn } : {}), dir: hit ? hit.dir : 0, state, natApplied: false };
      this.ctPasses.push(pass);
    }
    if (a.commit && !pass.conn && !(pass.state & CtState.inv)) {
      const nat = a.nat && a.nat.kind !== 'reapply' ? { kind: a.nat.kind, ip: a.nat.ip, ...(a.nat.port === undefined ? {} : { port: a.nat.port }) } : undefined;
      pass.conn = this.conntrack.commit(a.zone, pass.tuple, nat, flags, this.ipLen);
      pass.dir = 0;
    }
    const conn = pass.conn;
    if (a.commit && conn) {
      for (const e of a.exec) {
        if (e.field === 'ct_mark') {
          const m = Number(e.mask ?? 0xffffffffn) >>> 0;
          conn.mark = ((conn.mark & ~m) | (Number(e.value) & m)) >>> 0;
        } else if (e.field === 'ct_label') {
          for (const t of toSlots('ct_label', e.value, e.mask ?? fullMask(128))) {
            const w = t.slot - S.CT_LABEL0;
            conn.label[w] = (((conn.label[w] as number) & ~t.mask) | t.value) >>> 0;
          }
        }
      }
    }
    if (conn?.nat && a.nat && !pass.natApplied) {
      const n = conn.nat;
      const l4 = key[S.NW_PROTO] === IPPROTO_TCP || key[S.NW_PROTO] === IPPROTO_UDP;
      if (pass.dir === 0) {
        if (n.kind === 'dst') {
          key[S.NW_DST] = n.ip;
          if (l4 && n.port !== undefined) key[S.TP_DST] = n.port;
        } else {
          key[S.NW_SRC] = n.ip;
          if (l4 && n.port !== undefined) key[S.TP_SRC] = n.port;
        }
      } else if (n.kind === 'dst') {
        key[S.NW_SRC] = conn.orig.dst;
        if (l4) key[S.TP_SRC] = conn.orig.dport;
      } else {
        key[S.NW_DST] = conn.orig.src;
        if (l4) key[S.TP_DST] = conn.orig.sport;
      }
      pass.natApplied = true;
      pass.state |= n.kind === 'dst' ? CtState.dnat : CtState.snat;
    }
    key[S.CT_STATE] = pass.state;
    key[S.CT_ZONE] = a.zone;
    key[S.CT_MARK] = conn?.mark ?? 0;
    key[S.CT_LABEL0] = conn?.label[0] ?? 0;
    key[S.CT_LABEL1] = conn?.label[1] ?? 0;
    key[S.CT_LABEL2] = conn?.label[2] ?? 0;
    key[S.CT_LABEL3] = conn?.label[3] ?? 0;
    this.trace?.push({
      kind: 'ct',
      node: this.nodeName,
      zone: a.zone,
      state: renderCtState(pass.state, pass.state),
      commit: a.commit,
      ...(conn?.nat ? { nat: `${conn.nat.kind}=${formatIpv4(conn.nat.ip)}${conn.nat.port === undefined ? '' : `:${conn.nat.port}`}` } : {}),
      ...(conn ? { connId: conn.id } : {}),
    });
  }
}

export { ETH_TYPE_ARP };
