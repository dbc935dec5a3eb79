/**
 * One OpenFlow table as a tuple-space classifier: flows are grouped by their mask signature (which slots they match
 * and with which masks); each group is a hash map from the masked key values to the flows with those values.
 * A lookup hashes the packet once per mask group, visiting groups by descending top priority and stopping as soon as
 * no remaining group can beat the best flow found.
 *
 * Order of flows that overlap at the same priority (OVS leaves it undefined; we pick, deterministically):
 *   1. higher priority wins;
 *   2. at equal priority a flow that drops (no actions) wins over one that does not (so `+inv+trk` drop beats
 *      `-new+trk` in ConntrackState, as Antrea's doc lists it);
 *   3. then the more specific match wins (more mask bits set);
 *   4. then the flow whose rendered match sorts first.
 * The compiler never emits two flows with the same identity, so this order is total.
 *
 * Conjunctions: clause flows (actions are only `conjunction(...)`) are kept apart. After the normal lookup, clause
 * flows with a priority strictly above the best normal flow are evaluated level by level (highest first); at the
 * first level where some conjunction has all its clauses matched, the lowest such id is put in conj_id and the
 * table is looked up again, which finds that rule's `conj_id=` flow. At equal priority the normal flow wins.
 */
import { StableMap } from '../stable-map.js';
import type { Flow } from '../pipeline/flow.js';
import { renderMatch } from '../pipeline/render.js';
import { S, toSlots } from './key.js';
import { compileActions, type ExecAction } from './actions.js';

export interface SimFlow {
  readonly flow: Flow;
  /** Match as parallel arrays over key slots. */
  readonly slots: Int32Array;
  readonly values: Uint32Array;
  readonly masks: Uint32Array;
  readonly signature: string;
  readonly maskBits: number;
  readonly isDrop: boolean;
  readonly matchText: string;
  /** Conjunction clauses (id, clause index, n) when this is a clause flow. */
  readonly conj?: readonly { id: number; clause: number; n: number }[];
  /** The actions, compiled for the interpreter. */
  readonly exec: readonly ExecAction[];
  /** Clock time (ms) after which a learned flow is gone (hard_timeout). */
  expiresAt?: number;
  packets: number;
  bytes: number;
}

function popcount(x: number): number {
  let n = x >>> 0;
  n = n - ((n >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (((n + (n >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function compileFlow(flow: Flow): SimFlow {
  const triples = flow.match.flatMap((m) => toSlots(m.field, m.value, m.mask ?? (1n << 128n) - 1n)).sort((a, b) => a.slot - b.slot);
  const slots = Int32Array.from(triples.map((t) => t.slot));
  const values = Uint32Array.from(triples.map((t) => t.value));
  const masks = Uint32Array.from(triples.map((t) => t.mask));
  const conjActions = flow.actions.filter((a) => a.type === 'conjunction');
  const isClause = conjActions.length > 0 && conjActions.length === flow.actions.length;
  return {
    flow,
    slots,
    values,
    masks,
    signature: triples.map((t) => `${t.slot}:${t.mask}`).join(','),
    maskBits: triples.reduce((n, t) => n + popcount(t.mask), 0),
    isDrop: flow.actions.length === 0,
    matchText: renderMatch(flow.match),
    ...(isClause ? { conj: conjActions.map((a) => (a.type === 'conjunction' ? { id: a.id, clause: a.clause, n: a.nClauses } : { id: 0, clause: 0, n: 0 })) } : {}),
    exec: compileActions(flow.actions),
    packets: 0,
    bytes: 0,
  };
}

/** Negative when a should be chosen before b. */
export function compareFlows(a: SimFlow, b: SimFlow): number {
  return (
    b.flow.priority - a.flow.priority ||
    Number(b.isDrop) - Number(a.isDrop) ||
    b.maskBits - a.maskBits ||
    (a.matchText < b.matchText ? -1 : a.matchText > b.matchText ? 1 : 0)
  );
}

function matches(f: SimFlow, key: Uint32Array): boolean {
  const { slots, values, masks } = f;
  for (let i = 0; i < slots.length; i++) {
    if ((((key[slots[i] as number] as number) & (masks[i] as number)) >>> 0) !== values[i]) return false;
  }
  return true;
}

class Subtable {
  readonly buckets = new StableMap<number, SimFlow[]>();
  /** Flows per priority, so the top priority is kept without scanning the flows. */
  private readonly priorities = new Map<number, number>();
  maxPriority = -1;
  count = 0;
  constructor(
    readonly signature: string,
    readonly slots: Int32Array,
    readonly masks: Uint32Array,
  ) {}

  hashKey(key: Uint32Array): number {
    let h = 0x811c9dc5;
    const { slots, masks } = this;
    for (let i = 0; i < slots.length; i++) {
      h = Math.imul(h ^ (((key[slots[i] as number] as number) & (masks[i] as number)) >>> 0), 0x01000193);
      h ^= h >>> 15;
    }
    return h >>> 0;
  }

  hashValues(values: Uint32Array): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < values.length; i++) {
      h = Math.imul(h ^ (values[i] as number), 0x01000193);
      h ^= h >>> 15;
    }
    return h >>> 0;
  }

  insert(f: SimFlow): void {
    const h = this.hashValues(f.values);
    const list = this.buckets.get(h);
    if (list) {
      list.push(f);
      list.sort(compareFlows);
    } else this.buckets.set(h, [f]);
    this.count++;
    this.priorities.set(f.flow.priority, (this.priorities.get(f.flow.priority) ?? 0) + 1);
    if (f.flow.priority > this.maxPriority) this.maxPriority = f.flow.priority;
  }

  remove(f: SimFlow): boolean {
    const h = this.hashValues(f.values);
    const list = this.buckets.get(h);
    if (!list) return false;
    const i = list.indexOf(f);
    if (i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.buckets.delete(h);
    this.count--;
    const left = (this.priorities.get(f.flow.priority) ?? 1) - 1;
    if (left > 0) this.priorities.set(f.flow.priority, left);
    else {
      this.priorities.delete(f.flow.priority);
      if (f.flow.priority === this.maxPriority) this.maxPriority = Math.max(-1, ...this.priorities.keys());
    }
    return true;
  }

  lookup(key: Uint32Array): SimFlow | undefined {
    const list = this.buckets.get(this.hashKey(key));
    if (!list) return undefined;
    for (const f of list) if (matches(f, key)) return f;
    return undefined;
  }
}

class TupleSpace {
  private readonly subtables = new Map<string, Subtable>();
  private ordered: Subtable[] = [];
  private dirty = false;

  insert(f: SimFlow): void {
    let st = this.subtables.get(f.signature);
    if (!st) {
      st = new Subtable(f.signature, f.slots, f.masks);
      this.subtables.set(f.signature, st);
    }
    st.insert(f);
    this.dirty = true;
  }

  remove(f: SimFlow): void {
    const st = this.subtables.get(f.signature);
    if (!st) return;
    st.remove(f);
    if (st.count === 0) this.subtables.delete(f.signature);
    this.dirty = true;
  }

  private order(): Subtable[] {
    if (this.dirty) {
      this.ordered = [...this.subtables.values()].sort((a, b) => b.maxPriority - a.maxPriority);
      this.dirty = false;
    }
    return this.ordered;
  }

  best(key: Uint32Array): SimFlow | undefined {
    let best: SimFlow | undefined;
    const ordered = this.order();
    for (let i = 0; i < ordered.length; i++) {
      const st = ordered[i] as Subtable;
      if (best && st.maxPriority < best.flow.priority) break;
      const f = st.lookup(key);
      if (f && (!best || compareFlows(f, best) < 0)) best = f;
    }
    return best;
  }

  /** Every matching flow with priority strictly above `above` (for conjunction clauses). */
  allAbove(key: Uint32Array, above: number, out: SimFlow[]): void {
    for (const st of this.order()) {
      if (st.maxPriority <= above) break;
      const list = st.buckets.get(st.hashKey(key));
      if (!list) continue;
      for (const f of list) if (f.flow.priority > above && matches(f, key)) out.push(f);
    }
  }

  get size(): number {
    let n = 0;
    for (const st of this.subtables.values()) n += st.count;
    return n;
  }

  get subtableCount(): number {
    return this.subtables.size;
  }
}

export class FlowTable {
  private readonly normal = new TupleSpace();
  private readonly clauses = new TupleSpace();
  private clauseCount = 0;
  private readonly scratch: SimFlow[] = [];

  constructor(readonly id: number) {}

  insert(f: SimFlow): void {
    if (f.conj) {
      this.clauses.insert(f);
      this.clauseCount++;
    } else this.normal.insert(f);
  }

  remove(f: SimFlow): void {
    if (f.conj) {
      this.clauses.remove(f);
      this.clauseCount--;
    } else this.normal.remove(f);
  }

  get size(): number {
    return this.normal.size + this.clauses.size;
  }

  get subtableCount(): number {
    return this.normal.subtableCount + this.clauses.subtableCount;
  }

  /** The flow this packet hits, or undefined for a table miss with no miss flow. */
  lookup(key: Uint32Array): SimFlow | undefined {
    const best = this.normal.best(key);
    if (this.clauseCount === 0) return best;
    const cands = this.scratch;
    cands.length = 0;
    this.clauses.allAbove(key, best ? best.flow.priority : -1, cands);
    if (cands.length === 0) return best;
    cands.sort((a, b) => b.flow.priority - a.flow.priority);
    let i = 0;
    while (i < cands.length) {
      const prio = (cands[i] as SimFlow).flow.priority;
      const seen = new Map<number, { n: number; got: number }>();
      for (; i < cands.length && (cands[i] as SimFlow).flow.priority === prio; i++) {
        for (const c of (cands[i] as SimFlow).conj ?? []) {
          const e = seen.get(c.id) ?? { n: c.n, got: 0 };
          e.got |= 1 << (c.clause - 1);
          seen.set(c.id, e);
        }
      }
      const complete = [...seen.entries()].filter(([, e]) => e.got === (1 << e.n) - 1).map(([id]) => id).sort((a, b) => a - b);
      for (const id of complete) {
        key[S.CONJ_ID] = id;
        const hit = this.normal.best(key);
        key[S.CONJ_ID] = 0;
        if (hit && hit !== best) return hit;
      }
    }
    return best;
  }
}
