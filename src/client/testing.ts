/** Helpers for tests of code built on informers: wait for a condition, record handler calls. */
import type { KubeObject } from '../apis/meta.js';
import { AntreaError } from '../util/errors.js';
import { objectKey } from './cache.js';
import type { EventHandlers, Informer } from './informer.js';

/** Polls `cond` every `everyMs` until it holds; throws after `timeoutMs` with `what` in the message. */
export async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 5000, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new AntreaError('ERR_TEST_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Records every handler call of an informer as `add ns/name`, `update ns/name`, `delete ns/name`. */
export function recordEvents<T extends KubeObject>(informer: Informer<T>): string[] {
  const events: string[] = [];
  const handlers: EventHandlers<T> = {
    onAdd: (o) => events.push(`add ${objectKey(o)}`),
    onUpdate: (_old, o) => events.push(`update ${objectKey(o)}`),
    onDelete: (o) => events.push(`delete ${objectKey(o)}`),
  };
  informer.addEventHandler(handlers);
  return events;
}
