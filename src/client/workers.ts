/**
 * `runWorkers`: n concurrent loops taking keys from a work queue. A handler that throws gets its key back through
 * the rate limiter (exponential backoff per key) up to `maxRetries`, then the key is dropped and logged. The returned
 * promise resolves once the queue is shut down and every worker has finished its last key.
 */
import { describeError } from '../util/errors.js';
import { silentLogger } from '../util/log.js';
import type { Logger } from '../util/log.js';
import type { WorkQueue } from './workqueue.js';

export interface WorkerOptions {
  /** Retries after the first failure before a key is dropped. Default 15. */
  maxRetries?: number;
  logger?: Logger;
}

export async function runWorkers<K>(
  queue: WorkQueue<K>,
  workers: number,
  handler: (key: K) => Promise<void> | void,
  opts: WorkerOptions = {},
): Promise<void> {
  const maxRetries = opts.maxRetries ?? 15;
  const log = (opts.logger ?? silentLogger).child({ queue: queue.name });
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handler(key);
        queue.forget(key);
      } catch (err) {
        const retries = queue.numRequeues(key);
        if (retries < maxRetries && !queue.isShuttingDown()) {
          log.warn('work item failed, will retry', { key: String(key), retry: retries + 1, error: describeError(err) });
          queue.addRateLimited(key);
        } else {
          log.error('work item failed, giving up', { key: String(key), retries, error: describeError(err) });
          queue.forget(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
}
