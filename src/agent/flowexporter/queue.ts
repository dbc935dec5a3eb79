/**
 * The export priority queue (Antrea's `priorityqueue.ExpirePriorityQueue`): a binary min-heap of connections keyed
 * by their next export time, min(activeExpire, idleExpire), or "now" for a connection that is dying. Items carry
 * their heap index so an update (new traffic refreshes the idle expiry) is O(log n) in place, with no search.
 */

export interface QueueItem {
  /** When the item is due, ms since the epoch. */
  expireAt: number;
  /** Position in the heap; -1 when not queued. Owned by the queue. */
  heapIndex: number;
}

export class ExpireQueue<T extends QueueItem> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  has(item: T): boolean {
    return item.heapIndex >= 0 && this.heap[item.heapIndex] === item;
  }

  peek(): T | undefined {
    return this.heap[0];
  }

  push(item: T): void {
    if (this.has(item)) {
      this.fix(item);
      return;
    }
    item.heapIndex = this.heap.length;
    this.heap.push(item);
    this.up(item.heapIndex);
  }

  /** Restores the order after `item.expireAt` changed. */
  fix(item: T): void {
    if (!this.has(item)) return;
    const i = item.heapIndex;
    this.up(i);
    if (item.heapIndex === i) this.down(i);
  }

  pop(): T | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      last.heapIndex = 0;
      this.down(0);
    }
    top.heapIndex = -1;
    return top;
  }

  /** Pops the top item if it is due at `now`. */
  popExpired(now: number): T | undefined {
    const top = this.heap[0];
    return top !== undefined && top.expireAt <= now ? this.pop() : undefined;
  }

  remove(item: T): void {
    if (!this.has(item)) return;
    const heap = this.heap;
    const i = item.heapIndex;
    const last = heap.pop()!;
    item.heapIndex = -1;
    if (i < heap.length) {
      heap[i] = last;
      last.heapIndex = i;
      this.up(i);
      if (last.heapIndex === i) this.down(i);
    }
  }

  private up(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.expireAt <= item.expireAt) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.expireAt < heap[l]!.expireAt ? r : l;
      const child = heap[c]!;
      if (child.expireAt >= item.expireAt) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = item;
    item.heapIndex = i;
  }
}
