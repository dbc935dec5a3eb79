/**
 * A bounded-frequency runner (kube-proxy's `runner/bounded_frequency_runner.go`): runs a function when asked, but
 * at most `burst` times in a row and then at most once per `minIntervalMs` (a token bucket), and at least once per
 * `maxIntervalMs` whether asked or not. Requests arriving while a run waits or is in progress are coalesced into one
 * more run. Runs never overlap. A failed run can ask to be retried sooner than the max interval with `retryAfter`.
 *
 * Why: informer events come in bursts (a Deployment rolling, a resync); syncing per event would redo the same work
 * many times, syncing on a fixed period would add latency to lone changes.
 */
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
import { describeError } from '../../util/errors.js';

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The periodic run must not keep a process alive on its own.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RunnerOptions {
  name: string;
  minIntervalMs: number;
  maxIntervalMs: number;
  /** Runs allowed back to back before minInterval applies (default 2, as Antrea). */
  burst?: number;
  timers?: Timers;
  logger?: Logger;
}

export class BoundedFrequencyRunner {
  private readonly timers: Timers;
  private readonly burst: number;
  private readonly log: Logger;
  private tokens: number;
  private lastRefill: number;
  private timer: unknown;
  private timerAt = Infinity;
  private running: Promise<void> | undefined;
  private requested = false;
  /** A retry asked for during a run: its delay. */
  private retryMs: number | undefined;
  private stopped = false;
  private started = false;
  /** Runs done, for tests and the `/proxy` view. */
  runs = 0;

  constructor(
    private readonly fn: () => Promise<void> | void,
    private readonly opts: RunnerOptions,
  ) {
    this.timers = opts.timers ?? realTimers;
    this.burst = Math.max(1, opts.burst ?? 2);
    this.log = opts.logger ?? silentLogger;
    this.tokens = this.burst;
    this.lastRefill = this.timers.now();
  }

  /** Starts the max-interval loop; the first run happens on the first `run()` or after maxInterval. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(this.opts.maxIntervalMs);
  }

  /** Asks for a run as soon as the rate allows. Cheap: call it on every event. */
  run(): void {
    if (this.stopped) return;
    this.requested = true;
    if (this.running) return; // the run in progress reschedules when it ends
    this.schedule(this.delayForToken());
  }

  /** Asks for a run after `ms` at the latest (a failed sync retrying sooner than the max interval). */
  retryAfter(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.retryMs = Math.min(this.retryMs ?? Infinity, ms);
      return;
    }
    this.schedule(Math.max(ms, this.delayForToken()));
  }

  /** Stops timers; waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer();
    await this.running;
  }

  private refill(): void {
    const now = this.timers.now();
    const earned = (now - this.lastRefill) / this.opts.minIntervalMs;
    if (earned > 0) {
      this.tokens = Math.min(this.burst, this.tokens + earned);
      this.lastRefill = now;
    }
  }

  private delayForToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.opts.minIntervalMs);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Keeps the earliest of the pending wake-ups. */
  private schedule(delayMs: number): void {
    const at = this.timers.now() + delayMs;
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.tick();
    }, delayMs);
  }

  private tick(): void {
    if (this.stopped || this.running) return;
    const wait = this.delayForToken();
    if (wait > 0) {
      // Woken by the max interval while out of tokens cannot happen (maxInterval > minInterval), but be safe.
      this.schedule(wait);
      return;
    }
    this.tokens -= 1;
    this.requested = false;
    this.retryMs = undefined;
    this.running = (async () => {
      try {
        await this.fn();
      } catch (err) {
        this.log.error('run failed', { runner: this.opts.name, error: describeError(err) });
      }
    })().finally(() => {
      this.running = undefined;
      this.runs++;
      if (this.stopped) return;
      // Requests that came during the run get one more run; otherwise wait for a retry or the max interval.
      const retry = this.retryMs;
      this.retryMs = undefined;
      if (this.requested) this.schedule(this.delayForToken());
      else if (retry !== undefined) this.schedule(Math.max(retry, this.delayForToken()));
      else this.schedule(this.opts.maxIntervalMs);
    });
  }
}
