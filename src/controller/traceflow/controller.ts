/**
 * The controller side of Traceflow (Antrea's `pkg/controller/traceflow`): a new request is validated, given a
 * dataplane tag and set Running; a Running one succeeds once the results show the sender and the place the packet
 * ended, or fails when its timeout has passed; a finished or deleted one gives its tag back. Tags held by Running
 * Traceflows are re-read before any work after a restart, so a restarted controller never hands a tag out twice.
 */
import type { Pod, Service } from '../../apis/core.js';
import {
  isTerminalPhase,
  traceflowGvr,
  traceflowRequestProblems,
  traceflowTimeoutSeconds,
  type NodeResult,
  type Traceflow,
  type TraceflowStatus,
} from '../../apis/crd/traceflow.js';
import { gvr } from '../../apiserver/registry.js';
import { isApiError, type ApiClient } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import type { SharedInformerFactory } from '../../client/factory.js';
import { WorkQueue } from '../../client/workqueue.js';
import { runWorkers } from '../../client/workers.js';
import { describeError, isAntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { TagAllocator } from './tags.js';

/** While every tag is held, a new request waits (Pending, as in Antrea) and is looked at again this often. */
const TAG_RETRY_MS = 1_000;

export interface TraceflowControllerDeps {
  client: ApiClient;
  informers: SharedInformerFactory;
  logger: Logger;
  now?: () => number;
}

export interface TraceflowControllerState {
  /** Dataplane tag per Running Traceflow. */
  tags: Record<string, number>;
  capacity: number;
}

class Skip extends Error {}

export class TraceflowController {
  readonly tags = new TagAllocator();
  readonly #queue = new WorkQueue<string>({ name: 'traceflow' });
  readonly #traceflows: Informer<Traceflow>;
  readonly #pods: Informer<Pod>;
  readonly #services: Informer<Service>;
  readonly #log: Logger;
  readonly #now: () => number;
  #workers: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly deps: TraceflowControllerDeps) {
    this.#log = deps.logger.child({ module: 'traceflow' });
    this.#now = deps.now ?? Date.now;
    this.#traceflows = deps.informers.informerFor<Traceflow>(traceflowGvr);
    this.#pods = deps.informers.informerFor<Pod>(gvr.pods);
    this.#services = deps.informers.informerFor<Service>(gvr.services);
  }

  state(): TraceflowControllerState {
    return { tags: this.tags.inUse(), capacity: this.tags.capacity };
  }

  start(): void {
    const enqueue = (tf: Traceflow) => this.#queue.add(tf.metadata.name ?? '');
    this.#traceflows.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_o, n) => enqueue(n),
      onDelete: (tf) => {
        // The tag goes back at once; the queued key then finds nothing and has nothing left to do.
        const tag = this.tags.release(tf.metadata.name ?? '');
        if (tag !== undefined) this.#log.debug('Traceflow deleted, tag freed', { traceflow: tf.metadata.name, tag });
        enqueue(tf);
      },
    });
    this.deps.informers.start();
    void Promise.all([this.#traceflows.waitForSync(), this.#pods.waitForSync(), this.#services.waitForSync()])
      .then(() => {
        if (this.#stopped) return;
        this.#restoreTags();
        this.#workers = runWorkers(this.#queue, 2, (name) => this.#sync(name), { logger: this.#log });
      })
      .catch((err: unknown) => this.#log.error('Traceflow controller did not start', { error: describeError(err) }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.shutDown();
    await this.#workers?.catch((err: unknown) => this.#log.error('workers ended with an error', { error: describeError(err) }));
  }

  /** Before any request is looked at: the tags Running Traceflows hold, so none is handed out twice. */
  #restoreTags(): void {
    for (const tf of this.#traceflows.list()) {
      const name = tf.metadata.name ?? '';
      const tag = tf.status?.dataplaneTag;
      if (tf.status?.phase !== 'Running' || tag === undefined) continue;
      if (this.tags.restore(name, tag)) this.#log.debug('dataplane tag restored', { traceflow: name, tag });
      // Two Running Traceflows with one tag cannot be told apart: the second is failed when it is synced.
      else this.#log.warn('dataplane tag of a Running Traceflow is held by another', { traceflow: name, tag, holder: this.tags.ownerOf(tag) });
    }
  }

  async #sync(name: string): Promise<void> {
    const tf = this.#traceflows.getByName(undefined, name);
    if (!tf) {
      this.tags.release(name);
      return;
    }
    const phase = tf.status?.phase;
    if (phase === undefined || phase === 'Pending') return this.#startTraceflow(tf);
    if (phase === 'Running') return this.#checkRunning(tf);
    if (isTerminalPhase(phase)) {
      const tag = this.tags.release(name);
      if (tag !== undefined) this.#log.debug('Traceflow finished, tag freed', { traceflow: name, phase, tag });
    }
  }

  /** Antrea's validation: what the request says, then what the cluster has (the source Pod, the destination). */
  validate(tf: Traceflow): string[] {
    const spec = tf.spec ?? {};
    const problems = traceflowRequestProblems(tf.metadata.name ?? '', spec);
    if (problems.length > 0) return problems;
    const src = spec.source ?? {};
    const dst = spec.destination ?? {};
    if (!spec.liveTraffic && src.namespace && src.pod) {
      const pod = this.#pods.getByName(src.namespace, src.pod);
      if (!pod) problems.push(`requested source Pod ${src.namespace}/${src.pod} not found`);
      else if (pod.spec?.hostNetwork) problems.push('using hostNetwork Pod as source in non-live-traffic Traceflow is not supported');
    }
    if (!spec.liveTraffic && dst.namespace && dst.pod && !this.#pods.getByName(dst.namespace, dst.pod)) {
      problems.push(`requested destination Pod ${dst.namespace}/${dst.pod} not found`);
    }
    if (dst.namespace && dst.service && !this.#services.getByName(dst.namespace, dst.service)) {
      problems.push(`requested destination Service ${dst.namespace}/${dst.service} not found`);
    }
    return problems;
  }

  async #startTraceflow(tf: Traceflow): Promise<void> {
    const name = tf.metadata.name ?? '';
    const problems = this.validate(tf);
    if (problems.length > 0) {
      await this.#finish(tf, 'Failed', `Invalid Traceflow request, err: ${problems.join('; ')}`);
      return;
    }
    let tag: number;
    try {
      tag = this.tags.allocate(name);
    } catch (err) {
      if (!isAntreaError(err, 'ERR_TRACEFLOW_TAGS_EXHAUSTED')) throw err;
      this.#log.warnOnce(`tags-exhausted`, 'every dataplane tag is held: new Traceflows wait for one to be freed', { limit: this.tags.capacity });
      this.#queue.addAfter(name, TAG_RETRY_MS);
      return;
    }
    const startTime = new Date(this.#now()).toISOString();
    const written = await this.#writeStatus(tf, (st) => {
      if (st.phase !== undefined && st.phase !== 'Pending') return false;
      st.phase = 'Running';
      st.dataplaneTag = tag;
      st.startTime = startTime;
      delete st.reason;
      return true;
    });
    if (!written) {
      // Deleted, or someone else moved it on: the tag is not needed unless it is Running with it.
      const now = this.#traceflows.getByName(undefined, name);
      if (!now || now.status?.phase !== 'Running' || now.status.dataplaneTag !== tag) this.tags.release(name);
      return;
    }
    this.#log.info('Traceflow running', { traceflow: name, tag });
    this.#queue.addAfter(name, traceflowTimeoutSeconds(tf.spec ?? {}) * 1000);
  }

  async #checkRunning(tf: Traceflow): Promise<void> {
    const name = tf.metadata.name ?? '';
    const tag = tf.status?.dataplaneTag;
    if (tag === undefined || (this.tags.tagOf(name) !== tag && !this.tags.restore(name, tag))) {
      await this.#finish(tf, 'Failed', `dataplane tag ${tag ?? '(none)'} is not held by this Traceflow`);
      return;
    }
    if (traceflowDone(tf)) {
      await this.#finish(tf, 'Succeeded');
      return;
    }
    const started = tf.status?.startTime ? Date.parse(tf.status.startTime) : NaN;
    const deadline = (Number.isNaN(started) ? this.#now() : started) + traceflowTimeoutSeconds(tf.spec ?? {}) * 1000;
    const left = deadline - this.#now();
    if (left <= 0) {
      await this.#finish(tf, 'Failed', 'Traceflow timeout');
      return;
    }
    this.#queue.addAfter(name, left);
  }

  /** Sets the final phase (and reason), names Pods behind translated addresses, and frees the tag. */
  async #finish(tf: Traceflow, phase: 'Succeeded' | 'Failed', reason?: string): Promise<void> {
    const name = tf.metadata.name ?? '';
    const expected = tf.status?.phase;
    const written = await this.#writeStatus(tf, (st) => {
      if (st.phase !== expected) return false;
      st.phase = phase;
      if (reason !== undefined) st.reason = reason;
      if (phase === 'Succeeded') st.results = this.#namePods(st.results ?? []);
      return true;
    });
    const tag = this.tags.release(name);
    if (written) this.#log.info(`Traceflow ${phase.toLowerCase()}`, { traceflow: name, ...(reason ? { reason } : {}), ...(tag !== undefined ? { tag } : {}) });
    // A Traceflow that moved on meanwhile is synced again by its own update event.
  }

  /** Antrea's controller fills `pod` for observations whose translated destination is a Pod's address. */
  #namePods(results: NodeResult[]): NodeResult[] {
    const byIP = new Map<string, string>();
    for (const p of this.#pods.list()) if (p.status?.podIP) byIP.set(p.status.podIP, `${p.metadata.namespace}/${p.metadata.name}`);
    return results.map((r) => ({
      ...r,
      observations: r.observations.map((o) => (o.translatedDstIP && !o.pod && byIP.has(o.translatedDstIP) ? { ...o, pod: byIP.get(o.translatedDstIP) as string } : o)),
    }));
  }

  /** A status write guarded by `mutate`, which says whether the current object still wants it. */
  async #writeStatus(tf: Traceflow, mutate: (st: TraceflowStatus) => boolean): Promise<boolean> {
    const name = tf.metadata.name ?? '';
    try {
      await this.deps.client.resource<Traceflow>(traceflowGvr).retryUpdate(
        name,
        (cur) => {
          if (cur.metadata.uid !== tf.metadata.uid) throw new Skip();
          const st: TraceflowStatus = cur.status ?? {};
          if (!mutate(st)) throw new Skip();
          cur.status = st;
        },
        { subresource: 'status' },
      );
      return true;
    } catch (err) {
      if (err instanceof Skip || isApiError(err, 'NotFound')) return false;
      throw err;
    }
  }
}

/**
 * Antrea's success rule: with live traffic and droppedOnly, any result; otherwise a sender observation (SpoofGuard)
 * and a receiver one (the packet Delivered, Dropped, Rejected or ForwardedOutOfOverlay). Without a source Pod (live
 * traffic to a Pod) the receiver alone is enough.
 */
export function traceflowDone(tf: Traceflow): boolean {
  const results = tf.status?.results ?? [];
  if (tf.spec?.liveTraffic && tf.spec.droppedOnly) return results.length > 0;
  const observations = results.flatMap((r) => r.observations ?? []);
  const sender = observations.some((o) => o.component === 'SpoofGuard');
  const receiver = observations.some((o) => o.action === 'Delivered' || o.action === 'Dropped' || o.action === 'Rejected' || o.action === 'ForwardedOutOfOverlay');
  return receiver && (sender || !tf.spec?.source?.pod);
}
