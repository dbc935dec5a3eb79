import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedFrequencyRunner, type Timers } from './runner.js';

/** A fake clock: timers fire when `advance` passes their time. */
class FakeTimers implements Timers {
  t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** Moves time forward, firing due timers in order and letting the runs they start finish. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

function setup(burst = 2) {
  const timers = new FakeTimers();
  const runs: number[] = [];
  const r = new BoundedFrequencyRunner(() => void runs.push(timers.now()), { name: 't', minIntervalMs: 1000, maxIntervalMs: 30_000, burst, timers });
  r.start();
  return { timers, runs, r };
}

test('a lone request runs at once', async () => {
  const { timers, runs, r } = setup();
  r.run();
  await timers.advance(0);
  assert.deepEqual(runs, [0]);
});

test('a burst of requests coalesces: burst runs back to back, then at most one per minInterval', async () => {
  const { timers, runs, r } = setup(2);
  for (let i = 0; i < 100; i++) r.run();
  await timers.advance(0);
  r.run();
  await timers.advance(0);
  for (let i = 0; i < 100; i++) r.run();
  await timers.advance(5000);
  // Two tokens spent at t=0, then one per second for the request pending since t=0.
  assert.deepEqual(runs, [0, 0, 1000]);
});

test('with no request it still runs every maxInterval', async () => {
  const { timers, runs } = setup();
  await timers.advance(65_000);
  assert.deepEqual(runs, [30_000, 60_000]);
});

test('requests during a run give exactly one more run after it', async () => {
  const timers = new FakeTimers();
  const runs: number[] = [];
  let release: () => void = () => undefined;
  const r = new BoundedFrequencyRunner(async () => {
    runs.push(timers.now());
    if (runs.length === 1) await new Promise<void>((res) => (release = res));
  }, { name: 't', minIntervalMs: 1000, maxIntervalMs: 30_000, burst: 1, timers });
  r.run();
  await timers.advance(0);
  r.run();
  r.run();
  await timers.advance(500);
  release();
  await flush();
  await timers.advance(2000);
  assert.deepEqual(runs, [0, 1000]);
});

test('retryAfter asks for a run sooner than the max interval; stop ends the loop', async () => {
  const { timers, runs, r } = setup();
  r.run();
  await timers.advance(0);
  r.retryAfter(5000);
  await timers.advance(6000);
  assert.deepEqual(runs, [0, 5000]);
  await r.stop();
  r.run();
  await timers.advance(100_000);
  assert.deepEqual(runs, [0, 5000]);
});

test('a failing run is logged, not thrown, and the loop goes on', async () => {
  const timers = new FakeTimers();
  let n = 0;
  const r = new BoundedFrequencyRunner(() => {
    n++;
    throw new Error('boom');
  }, { name: 't', minIntervalMs: 10, maxIntervalMs: 100, timers });
  r.start();
  r.run();
  await timers.advance(250);
  assert.equal(n, 3);
});
