/**
 * A work queue with client-go's semantics. Keys, not objects, go in:
 * - de-duplicating: a key waiting in the queue is there once (the dirty set);
 * - a key is handed to one worker at a time: added while being processed, it is queued again after `done` (the
 *   processing set);
 * - `addAfter` delays a key (the earliest of several delays wins), `addRateLimited` delays it by the rate limiter
 *   (per key exponential backoff, overall token bucket), `forget` clears its failure count;
 * - `shutDown` refuses new keys and cancels delayed ones; workers drain what is queued, then `get` answers undefined.
 */
import { defaultControllerRateLimiter } from './ratelimit.js';
import type { RateLimiter } from './ratelimit.js';

export interface WorkQueueOptions<K> {
  name?: string;
  rateLimiter?: RateLimiter<K>;
}

export class WorkQueue<K = string> {
  readonly name: string;
  private readonly queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly getters: ((key: K | undefined) => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private readonly rateLimiter: RateLimiter<K>;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.name = opts.name ?? 'queue';
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>();
  }

  /** Queues `key` unless it is already waiting; a key being processed is queued again once it is `done`. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Queues `key` after `ms`; if it is already waiting for a later time, the earlier time wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  /** Queues `key` after the rate limiter's delay: its own exponential backoff, and the overall bucket. */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets the failure count of `key` (call it when `key` succeeded or was given up on). */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key, when there is one; undefined once the queue is shut down and empty. Call `done(key)` after. */
  get(): Promise<K | undefined> {
    if (this.head < this.queue.length) {
      const key = this.queue[this.head] as K;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it goes back in the queue. */
  done(key: K): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
    this.checkDrained();
  }

  /** Keys waiting to be handed out (not counting delayed or in-process ones). */
  len(): number {
    return this.queue.length - this.head;
  }

  /** Keys waiting for `addAfter` / `addRateLimited` delays. */
  numWaiting(): number {
    return this.waiting.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Refuses new keys and drops delayed ones; queued keys are still handed out, then `get` answers undefined. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
    this.checkDrained();
  }

  /** `shutDown`, then resolves once every queued key has been handed out and is `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.drained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drained(): boolean {
    return this.len() === 0 && this.processing.size === 0;
  }

  private checkDrained(): void {
    if (!this.shuttingDown || !this.drained()) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
