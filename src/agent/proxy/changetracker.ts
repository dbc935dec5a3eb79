/**
 * A change tracker (kube-proxy's ServiceChangeTracker / EndpointsChangeTracker): accumulates, per key, the state
 * last handed to the proxier (`previous`) and the state now wanted (`current`) across any number of informer events,
 * so a burst of updates to one object costs one change, and an add followed by a delete costs none. The proxier takes
 * the pending changes with `checkout()` in its sync.
 */
export interface Change<V> {
  key: string;
  /** The state the proxier last saw (empty when the object did not exist). */
  previous: V;
  current: V;
}

export class ChangeTracker<V> {
  private readonly pending = new Map<string, Change<V>>();

  /**
   * @param empty what "no object" looks like (an empty map), so previous and current always have a value.
   * @param equal decides when a change cancels itself out.
   */
  constructor(
    private readonly empty: () => V,
    private readonly equal: (a: V, b: V) => boolean,
  ) {}

  /**
   * Records that the object at `key` went from `previous` to `current` (undefined: absent). Only the first
   * `previous` since the last checkout counts: it is what the proxier has applied.
   * Returns true when something is now pending for `key`.
   */
  update(key: string, previous: V | undefined, current: V | undefined): boolean {
    const entry = this.pending.get(key) ?? { key, previous: previous ?? this.empty(), current: this.empty() };
    entry.current = current ?? this.empty();
    if (this.equal(entry.previous, entry.current)) {
      this.pending.delete(key);
      return false;
    }
    this.pending.set(key, entry);
    return true;
  }

  /** Hands over every pending change and forgets them. */
  checkout(): Change<V>[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  /** Number of keys with a pending change. */
  size(): number {
    return this.pending.size;
  }
}

/** Equality for maps of plain values (what the trackers hold), by key and JSON value. */
export function sameMap<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    if (!b.has(k)) return false;
    const w = b.get(k);
    if (v !== w && JSON.stringify(v) !== JSON.stringify(w)) return false;
  }
  return true;
}
