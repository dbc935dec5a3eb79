/**
 * The agent side of Traceflow (Antrea's `pkg/agent/controller/traceflow`): the agent of the source Pod's Node injects
 * the tagged packet once its Traceflow is Running, and every agent turns its own Node's packet-ins into one
 * NodeResult in `status.results`. A packet-in whose tag no Running Traceflow holds yet (this agent's informer may be
 * behind the controller's write) waits a little for it rather than being lost. A live-traffic Traceflow samples the
 * first matching real packet instead of injecting one.
 */
import type { Pod, Service } from '../../apis/core.js';
import { traceflowGvr, traceflowTimeoutSeconds, type NodeResult, type Traceflow, type TraceflowSpec } from '../../apis/crd/traceflow.js';
import { gvr } from '../../apiserver/registry.js';
import { isApiError } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import { WorkQueue } from '../../client/workqueue.js';
import { runWorkers } from '../../client/workers.js';
import { describeError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { AgentContext } from '../context.js';
import type { LiveTrafficFilter, TraceflowDatapath, TraceflowPacketIn } from '../nodedatapath.js';
import { injectionRequest, resolveDestination } from './request.js';

/** How long a packet-in waits for its Traceflow to show up as Running in this agent's cache. */
const PENDING_PACKET_IN_MS = 30_000;

export interface TraceflowAgentState {
  /** Traceflows this agent injected a packet for: name → tag. */
  injected: Record<string, number>;
  /** Live-traffic Traceflows this agent samples packets for (the datapath has started sampling): name → tag. */
  watching: Record<string, number>;
  pendingPacketIns: number;
  /** Whether this datapath can sample live traffic. */
  liveTraffic: boolean;
}

class Skip extends Error {}

export class TraceflowAgent {
  readonly #ctx: AgentContext;
  readonly #log: Logger;
  readonly #queue = new WorkQueue<string>({ name: 'traceflow' });
  readonly #traceflows: Informer<Traceflow>;
  readonly #pods: Informer<Pod>;
  readonly #services: Informer<Service>;
  readonly #datapath: TraceflowDatapath | undefined;
  readonly #proxyEnabled: boolean;
  /** `uid/tag` of Traceflows whose packet this agent sent, so a resync never sends a second one. */
  readonly #injected = new Map<string, { name: string; tag: number }>();
  readonly #pending = new Map<number, { packetIn: TraceflowPacketIn; at: number }[]>();
  /** `uid/tag` of live-traffic Traceflows this agent samples for, with the watch's removal. */
  readonly #watches = new Map<string, { name: string; tag: number; ready: boolean; stop: () => void }>();
  #unsubscribe: (() => void) | undefined;
  #workers: Promise<void> | undefined;

  constructor(ctx: AgentContext) {
    this.#ctx = ctx;
    this.#log = ctx.logger.child({ module: 'traceflow' });
    this.#traceflows = ctx.informers.informerFor<Traceflow>(traceflowGvr);
    this.#pods = ctx.informers.informerFor<Pod>(gvr.pods);
    this.#services = ctx.informers.informerFor<Service>(gvr.services);
    this.#datapath = ctx.node.traceflow;
    this.#proxyEnabled = ctx.gateEnabled('AntreaProxy');
  }

  state(): TraceflowAgentState {
    let pending = 0;
    for (const l of this.#pending.values()) pending += l.length;
    return {
      injected: Object.fromEntries([...this.#injected.values()].map((v) => [v.name, v.tag])),
      watching: Object.fromEntries([...this.#watches.values()].filter((v) => v.ready).map((v) => [v.name, v.tag])),
      pendingPacketIns: pending,
      liveTraffic: this.#datapath?.watch !== undefined,
    };
  }

  start(): void {
    if (!this.#datapath) this.#log.warnOnce('no-traceflow-datapath', 'this datapath cannot inject Traceflow packets: Traceflows from this Node will fail');
    this.#unsubscribe = this.#datapath?.onPacketIn((p) => this.#onPacketIn(p));
    const enqueue = (tf: Traceflow) => this.#queue.add(tf.metadata.name ?? '');
    this.#traceflows.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    this.#ctx.informers.start();
    this.#workers = runWorkers(this.#queue, 2, (name) => this.#sync(name), { logger: this.#log });
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    for (const w of this.#watches.values()) w.stop();
    this.#watches.clear();
    this.#queue.shutDown();
    await this.#workers?.catch((err: unknown) => this.#log.error('workers ended with an error', { error: describeError(err) }));
  }

  #isLocalPod(namespace: string | undefined, name: string | undefined): boolean {
    if (!namespace || !name) return false;
    return this.#pods.getByName(namespace, name)?.spec?.nodeName === this.#ctx.nodeName;
  }

  async #sync(name: string): Promise<void> {
    const tf = this.#traceflows.getByName(undefined, name);
    if (!tf || tf.status?.phase !== 'Running' || tf.status.dataplaneTag === undefined) {
      for (const [k, v] of this.#injected) if (v.name === name && (!tf || !k.startsWith(`${tf.metadata.uid}/`) || tf.status?.phase !== 'Running')) this.#injected.delete(k);
      // A finished (timed out, failed, deleted) live-traffic Traceflow stops sampling.
      for (const [k, v] of this.#watches) {
        if (v.name === name && (!tf || !k.startsWith(`${tf.metadata.uid}/`) || tf.status?.phase !== 'Running')) {
          v.stop();
          this.#watches.delete(k);
        }
      }
      return;
    }
    const tag = tf.status.dataplaneTag;
    const started = tf.status.startTime ? Date.parse(tf.status.startTime) : 0;
    for (const e of this.#takePending(tag, started)) await this.#report(tf, e.packetIn, e.at);
    const spec = tf.spec ?? {};
    const src = spec.source ?? {};
    if (spec.liveTraffic) {
      // One agent answers for the request: the source Pod's, else the destination Pod's.
      const owner = src.pod ? this.#isLocalPod(src.namespace, src.pod) : this.#isLocalPod(spec.destination?.namespace, spec.destination?.pod);
      if (owner) await this.#watch(tf, tag);
      return;
    }
    if (!this.#isLocalPod(src.namespace, src.pod)) return;
    const key = `${tf.metadata.uid}/${tag}`;
    if (this.#injected.has(key)) return;
    this.#injected.set(key, { name, tag });
    try {
      if (!this.#datapath) throw new Error(`the datapath of Node ${this.#ctx.nodeName} cannot inject Traceflow packets`);
      const dst = resolveDestination(spec, {
        pod: (ns, n) => this.#pods.getByName(ns, n),
        service: (ns, n) => this.#services.getByName(ns, n),
        proxyEnabled: this.#proxyEnabled,
      });
      const req = injectionRequest(spec, `${src.namespace}/${src.pod}`, dst);
      const result = await this.#datapath.inject(req, tag);
      this.#log.debug('Traceflow packet injected', { traceflow: name, tag, to: req.to, proto: req.protocol, delivered: result.delivered, ...(result.dropped ? { dropped: result.dropped.reason } : {}) });
    } catch (err) {
      await this.#fail(tf, `Node: ${this.#ctx.nodeName}, error: ${describeError(err)}`);
    }
  }

  /**
   * Live traffic: samples the first packet matching the spec's 5-tuple (Antrea installs the sampling flows on the
   * source Pod's Node, or the destination Pod's without a source Pod). The packet's Nodes report through packet-ins
   * with the Traceflow's tag, like an injected packet; the capture itself fills `status.capturedPacket`.
   */
  async #watch(tf: Traceflow, tag: number): Promise<void> {
    const name = tf.metadata.name ?? '';
    const key = `${tf.metadata.uid}/${tag}`;
    if (this.#watches.has(key)) return;
    const watch = this.#datapath?.watch?.bind(this.#datapath);
    if (!watch) {
      await this.#fail(tf, `Node: ${this.#ctx.nodeName}, error: the datapath of this Node cannot sample live traffic`);
      return;
    }
    let filter: LiveTrafficFilter;
    try {
      filter = this.#liveFilter(tf.spec ?? {});
    } catch (err) {
      await this.#fail(tf, `Node: ${this.#ctx.nodeName}, error: ${describeError(err)}`);
      return;
    }
    // Held while the datapath sets the sampling up: a sync that ends the Traceflow meanwhile cancels it.
    let cancelled = false;
    const entry: { name: string; tag: number; ready: boolean; stop: () => void } = {
      name, tag, ready: false,
      stop: () => {
        cancelled = true;
      },
    };
    this.#watches.set(key, entry);
    let stop: () => void;
    try {
      stop = await watch(filter, tag, async (captured) => {
        this.#log.debug('live-traffic packet captured', { traceflow: name, tag, src: captured.srcIP, dst: captured.dstIP });
        await this.#writeStatus(tf, (cur) => {
          if (cur.status?.phase !== 'Running' || cur.status.dataplaneTag !== tag) return false;
          cur.status.capturedPacket = captured;
          return true;
        }).catch((err: unknown) => this.#log.error('could not write the captured packet', { traceflow: name, error: describeError(err) }));
      });
    } catch (err) {
      if (this.#watches.get(key) === entry) this.#watches.delete(key);
      await this.#fail(tf, `Node: ${this.#ctx.nodeName}, error: ${describeError(err)}`);
      return;
    }
    if (cancelled) {
      stop();
      return;
    }
    entry.stop = stop;
    entry.ready = true;
    this.#log.debug('sampling live traffic', { traceflow: name, tag, ...filter });
  }

  /** The spec's 5-tuple as a datapath filter; fields the spec leaves out match anything. */
  #liveFilter(spec: TraceflowSpec): LiveTrafficFilter {
    const src = spec.source ?? {};
    const dst = spec.destination ?? {};
    const th = spec.packet?.transportHeader;
    const f: LiveTrafficFilter = {};
    if (src.pod) {
      f.node = this.#ctx.nodeName;
      f.fromPod = `${src.namespace}/${src.pod}`;
    } else if (src.ip) f.srcIP = src.ip;
    if (dst.pod || dst.service || dst.ip) {
      const d = resolveDestination(spec, {
        pod: (ns, n) => this.#pods.getByName(ns, n),
        service: (ns, n) => this.#services.getByName(ns, n),
        proxyEnabled: this.#proxyEnabled,
      });
      f.dstIP = d.ip;
      if (d.port !== undefined) f.dstPort = d.port;
    }
    const proto = spec.packet?.ipHeader?.protocol;
    if (proto) f.proto = proto;
    const srcPort = th?.tcp?.srcPort || th?.udp?.srcPort;
    if (srcPort) f.srcPort = srcPort;
    if (spec.droppedOnly) f.droppedOnly = true;
    f.timeoutSeconds = traceflowTimeoutSeconds(spec);
    return f;
  }

  #onPacketIn(p: TraceflowPacketIn): void {
    const at = Date.now();
    const tf = this.#traceflows.list().find((t) => t.status?.phase === 'Running' && t.status.dataplaneTag === p.tag);
    if (!tf) {
      this.#keepPending(p, at);
      return;
    }
    void this.#report(tf, p, at).catch((err: unknown) => this.#log.error('could not report Traceflow observations', { traceflow: tf.metadata.name, error: describeError(err) }));
  }

  #keepPending(packetIn: TraceflowPacketIn, at: number): void {
    const now = Date.now();
    const list = (this.#pending.get(packetIn.tag) ?? []).filter((e) => now - e.at < PENDING_PACKET_IN_MS);
    list.push({ packetIn, at });
    this.#pending.set(packetIn.tag, list);
  }

  /**
   * Packet-ins waiting for the Traceflow that holds `tag`, started at `started`: tags are reused, and a packet-in
   * that came before this Traceflow started belongs to an earlier one.
   */
  #takePending(tag: number, started: number): { packetIn: TraceflowPacketIn; at: number }[] {
    const list = this.#pending.get(tag) ?? [];
    this.#pending.delete(tag);
    const now = Date.now();
    return list.filter((e) => now - e.at < PENDING_PACKET_IN_MS && e.at >= started);
  }

  /** Writes this Node's NodeResult, if the Traceflow is still the Running one that holds the packet-in's tag. */
  async #report(tf: Traceflow, p: TraceflowPacketIn, at: number): Promise<void> {
    const result: NodeResult = {
      node: this.#ctx.nodeName,
      role: p.observations[0]?.component === 'SpoofGuard' ? 'Sender' : 'Receiver',
      timestamp: Math.floor(Date.now() / 1000),
      observations: p.observations,
    };
    const written = await this.#writeStatus(tf, (cur) => {
      if (cur.status?.phase !== 'Running' || cur.status.dataplaneTag !== p.tag) return false;
      const others = (cur.status.results ?? []).filter((r) => r.node !== result.node);
      cur.status.results = [...others, result];
      return true;
    });
    if (written) this.#log.debug('Traceflow observations reported', { traceflow: tf.metadata.name, tag: p.tag, observations: p.observations.length });
    // This agent's cache was behind: the Traceflow it saw holding the tag has finished, and the packet-in may be for
    // the one that holds the tag now, which its next sync will find.
    else this.#keepPending(p, at);
  }

  async #fail(tf: Traceflow, reason: string): Promise<void> {
    const written = await this.#writeStatus(tf, (cur) => {
      if (cur.status?.phase !== 'Running') return false;
      cur.status.phase = 'Failed';
      cur.status.reason = reason;
      return true;
    });
    if (written) this.#log.info('Traceflow failed', { traceflow: tf.metadata.name, reason });
  }

  async #writeStatus(tf: Traceflow, mutate: (cur: Traceflow) => boolean): Promise<boolean> {
    try {
      await this.#ctx.client.resource<Traceflow>(traceflowGvr).retryUpdate(
        tf.metadata.name ?? '',
        (cur) => {
          if (cur.metadata.uid !== tf.metadata.uid || !mutate(cur)) throw new Skip();
        },
        { subresource: 'status', attempts: 10 },
      );
      return true;
    } catch (err) {
      if (err instanceof Skip || isApiError(err, 'NotFound')) return false;
      throw err;
    }
  }
}
