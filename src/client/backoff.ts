/**
 * Jittered exponential backoff, and a sleep that `stop()` can cut short. Used by informers between failed attempts
 * so that an error that repeats at once never turns into a tight loop.
 */

export interface BackoffOptions {
  /** First delay. Default 100 ms. */
  initialMs?: number;
  /** Ceiling. Default 30 s. */
  maxMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /** Each delay is drawn from [d·(1−jitter), d]. Default 0.2. */
  jitter?: number;
  /** Source of randomness in [0, 1); tests pin it. */
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = Math.min(Math.max(opts.jitter ?? 0.2, 0), 1);
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.failures);
    if (base < this.maxMs) this.failures++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** Consecutive failures counted since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}

/** A timer that can be cancelled; `sleep` resolves `false` when cancelled, `true` when the time has passed. */
export class Sleeper {
  private timer: NodeJS.Timeout | undefined;
  private wake: ((elapsed: boolean) => void) | undefined;

  sleep(ms: number): Promise<boolean> {
    this.cancel();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake = undefined;
        resolve(true);
      }, ms);
    });
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.(false);
  }
}
