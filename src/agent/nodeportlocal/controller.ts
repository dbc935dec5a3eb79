/**
 * NodePortLocal's reconciler for the Pods of one Node: per Pod it turns the wanted (Pod port, protocol) pairs into
 * port table entries, the matching DNAT mappings in the datapath and the Pod's `nodeportlocal.antrea.io`
 * annotation, and undoes what is no longer wanted.
 *
 * After a restart, `restore` rebuilds the table from the Pod annotations before anything is allocated, so a
 * published Node port never moves and is never given twice. The datapath is brought to exactly that state in one
 * batch, as Antrea 1.5 replaces its whole iptables chain with iptables-restore: every mapping in the range that no
 * annotation vouches for (left from an earlier run, or from a write that never reached the annotation) is removed.
 *
 * The caller owns the informers and the work queue: this class only reads through `deps` and asks for re-syncs.
 */
import { isIPv4 } from 'node:net';
import { isPodTerminal, type Pod, type Service } from '../../apis/core.js';
import type { DesiredStateChange, L4Protocol, Datapath } from '../../datapath/types.js';
import { describeError, isAntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { NPL_ANNOTATION_KEY, decodeAnnotation, encodeAnnotation, sameEntries, type NplAnnotationEntry, type NplProtocol } from './annotation.js';
import { podTargets, targetKey, type NplTarget } from './desired.js';
import { PortTable, type PortRange, type PortTableEntry } from './porttable.js';

export interface NplControllerDeps {
  /** The Node's IP, for annotations of Pods whose status has no hostIP yet. */
  nodeIP: string;
  range: PortRange;
  getPod(key: string): Pod | undefined;
  /** The Pods of this Node. */
  listPods(): Pod[];
  servicesIn(namespace: string): Service[];
  datapath: Pick<Datapath, 'apply'>;
  /** Merge-patches the annotation; null removes it. A Pod that is gone is not an error. */
  patchAnnotation(namespace: string, name: string, value: string | null): Promise<void>;
  /** Asks for a later sync of a Pod (one that waits for a free port, when ports are freed). */
  enqueue(key: string): void;
  logger: Logger;
  isPortFree?: (port: number) => boolean;
}

/** What `/nodeportlocal` on the agent answers. */
export interface NodePortLocalState {
  enabled: boolean;
  portRange?: string;
  ready: boolean;
  used?: number;
  capacity?: number;
  mappings: Array<PortTableEntry & { pod: string }>;
  /** Pods that wait for a Node port because the range is used up. */
  waiting: Array<{ pod: string; ports: string[]; error: string }>;
}

const PROTOCOLS: readonly NplProtocol[] = ['tcp', 'udp'];
const upper = (p: NplProtocol): L4Protocol => (p === 'tcp' ? 'TCP' : 'UDP');
const mappingKey = (p: NplProtocol, nodePort: number) => `${upper(p)}/${nodePort}`;
const podKeyOf = (pod: Pod) => `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
const isGone = (pod: Pod | undefined): boolean =>
  !pod || Boolean(pod.metadata.deletionTimestamp) || isPodTerminal(pod);

export class NodePortLocalController {
  readonly table: PortTable;
  private ready = false;
  /** Datapath removals that failed: sent again with the next batch unless the mapping was given out again. */
  private readonly pendingRemovals = new Set<string>();
  private readonly waiting = new Map<string, { ports: string[]; error: string }>();
  private readonly log: Logger;

  constructor(private readonly deps: NplControllerDeps) {
    this.table = new PortTable(deps.range, deps.isPortFree ? { isPortFree: deps.isPortFree } : {});
    this.log = deps.logger;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Rebuilds the table from the Pod annotations and makes the datapath hold exactly those mappings. */
  async restore(): Promise<void> {
    const conflicts: string[] = [];
    for (const pod of this.deps.listPods()) {
      const text = pod.metadata.annotations?.[NPL_ANNOTATION_KEY];
      const podIP = pod.status?.podIP;
      if (text === undefined || isGone(pod) || !podIP || !isIPv4(podIP)) continue;
      const key = podKeyOf(pod);
      let entries: NplAnnotationEntry[];
      try {
        const decoded = decodeAnnotation(text);
        entries = decoded.entries;
        for (const p of decoded.problems) this.log.warn('ignoring a malformed NodePortLocal annotation entry; it will be rewritten', { pod: key, problem: p });
      } catch (err) {
        this.log.warn('ignoring a NodePortLocal annotation that does not parse; it will be rewritten', { pod: key, error: describeError(err) });
        continue;
      }
      const hostPorts = new Set((pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).filter((cp) => (cp.hostPort ?? 0) > 0).map((cp) => `${cp.containerPort}/${cp.hostPort}`));
      for (const e of entries) {
        // hostPort entries are published, not allocated: they are not ours to restore.
        if (hostPorts.has(`${e.podPort}/${e.nodePort}`)) continue;
        if (!this.table.inRange(e.nodePort)) {
          this.log.info('a NodePortLocal annotation names a Node port outside the range; the Pod gets a new one', { pod: key, nodePort: e.nodePort });
          continue;
        }
        const conflict = this.table.restore(key, podIP, e.podPort, e.nodePort, e.protocols);
        if (conflict) conflicts.push(`${key}: ${conflict.reason}`);
      }
    }
    for (const c of conflicts) this.log.error('NodePortLocal mapping not restored; the Pod gets a new Node port', { conflict: c });
    const changes: DesiredStateChange[] = [];
    const kept = new Set<string>();
    for (const e of this.table.list()) {
      for (const p of e.protocols) {
        kept.add(mappingKey(p, e.nodePort));
        changes.push({ kind: 'nodePortLocal', op: 'upsert', mapping: { protocol: upper(p), nodePort: e.nodePort, podIP: e.podIP, podPort: e.podPort } });
      }
    }
    const removals: DesiredStateChange[] = [];
    for (let port = this.deps.range.start; port <= this.deps.range.end; port++) {
      for (const p of PROTOCOLS) if (!kept.has(mappingKey(p, port))) removals.push({ kind: 'nodePortLocal', op: 'remove', key: mappingKey(p, port) });
    }
    await this.deps.datapath.apply([...removals, ...changes]);
    this.ready = true;
    this.log.info('NodePortLocal mappings restored', { mappings: changes.length, portRange: `${this.deps.range.start}-${this.deps.range.end}` });
    for (const pod of this.deps.listPods()) this.deps.enqueue(podKeyOf(pod));
  }

  /** Brings one Pod's mappings and annotation to what its Services ask for. */
  async sync(key: string): Promise<void> {
    if (!this.ready) return;
    const pod = this.deps.getPod(key);
    const live = pod && !isGone(pod) ? pod : undefined;
    const podIP = live?.status?.podIP;
    let targets: NplTarget[] = [];
    if (live && podIP) {
      if (!isIPv4(podIP)) {
        this.log.warnOnce(`npl-ipv6:${key}`, 'NodePortLocal supports IPv4 Pods only; this Pod is skipped', { pod: key, podIP });
      } else {
        const found = podTargets(live, this.deps.servicesIn(live.metadata.namespace ?? ''));
        targets = found.targets;
        for (const s of found.skipped) this.log.warnOnce(`npl-skip:${key}:${s}`, 'a Service port is not served by NodePortLocal', { pod: key, reason: s });
      }
    }
    const wanted = new Map(targets.filter((t) => t.hostPort === undefined).map((t) => [targetKey(t), t]));

    const removals: DesiredStateChange[] = [];
    let freed = false;
    for (const e of this.table.entriesOf(key)) {
      for (const p of e.protocols) {
        if (e.podIP === podIP && wanted.has(`${e.podPort}:${p}`)) continue;
        this.table.remove(e.podIP, e.podPort, p);
        removals.push({ kind: 'nodePortLocal', op: 'remove', key: mappingKey(p, e.nodePort) });
        if (this.table.find(e.podIP, e.podPort) === undefined) freed = true;
      }
    }
    for (const k of this.pendingRemovals) {
      const [proto, port] = k.split('/');
      if (!this.table.holds(Number(port), proto === 'TCP' ? 'tcp' : 'udp')) removals.push({ kind: 'nodePortLocal', op: 'remove', key: k });
    }
    const upserts: DesiredStateChange[] = [];
    const starved: string[] = [];
    let exhausted = '';
    for (const t of wanted.values()) {
      try {
        // Every wanted mapping is sent, not only new ones: upserts are idempotent, and a batch that failed before
        // is completed by the retry.
        const { nodePort } = this.table.add(key, podIP as string, t.podPort, t.protocol);
        upserts.push({ kind: 'nodePortLocal', op: 'upsert', mapping: { protocol: upper(t.protocol), nodePort, podIP: podIP as string, podPort: t.podPort } });
      } catch (err) {
        if (!isAntreaError(err, 'ERR_NPL_NO_FREE_PORT')) throw err;
        starved.push(`${t.podPort}/${upper(t.protocol)}`);
        exhausted = err.message;
      }
    }
    const changes = [...removals, ...upserts];
    if (changes.length > 0) {
      try {
        await this.deps.datapath.apply(changes);
        for (const r of removals) if (r.op === 'remove') this.pendingRemovals.delete(r.key);
      } catch (err) {
        for (const r of removals) if (r.op === 'remove') this.pendingRemovals.add(r.key);
        throw err;
      }
    }
    this.noteStarved(key, starved, exhausted);
    if (freed) for (const other of this.waiting.keys()) if (other !== key) this.deps.enqueue(other);

    if (!pod || pod.metadata.deletionTimestamp) return;
    await this.syncAnnotation(pod, podIP, targets);
  }

  private noteStarved(key: string, ports: string[], error: string): void {
    if (ports.length === 0) {
      if (this.waiting.delete(key)) this.log.info('NodePortLocal found Node ports for a Pod that was waiting for them', { pod: key });
      return;
    }
    const before = this.waiting.get(key)?.ports.join(',');
    this.waiting.set(key, { ports, error });
    if (before !== ports.join(',')) {
      this.log.error('NodePortLocal port range exhausted: Pod ports left unmapped until Node ports are freed', { pod: key, ports, error });
    }
  }

  private async syncAnnotation(pod: Pod, podIP: string | undefined, targets: readonly NplTarget[]): Promise<void> {
    const key = podKeyOf(pod);
    const nodeIP = pod.status?.hostIP || this.deps.nodeIP;
    const byNodePort = new Map<number, NplAnnotationEntry>();
    const add = (podPort: number, nodePort: number, protocol: NplProtocol) => {
      const e = byNodePort.get(nodePort) ?? { podPort, nodeIP, nodePort, protocols: [] };
      if (!e.protocols.includes(protocol)) e.protocols.push(protocol);
      byNodePort.set(nodePort, e);
    };
    for (const e of this.table.entriesOf(key)) if (e.podIP === podIP) for (const p of e.protocols) add(e.podPort, e.nodePort, p);
    for (const t of targets) if (t.hostPort !== undefined) add(t.podPort, t.hostPort, t.protocol);
    const desired = [...byNodePort.values()];
    const text = pod.metadata.annotations?.[NPL_ANNOTATION_KEY];
    let current: NplAnnotationEntry[] | undefined = [];
    if (text !== undefined) {
      try {
        const decoded = decodeAnnotation(text);
        current = decoded.problems.length > 0 ? undefined : decoded.entries;
      } catch {
        current = undefined;
      }
    }
    if (current && sameEntries(current, desired) && (desired.length > 0 || text === undefined)) return;
    await this.deps.patchAnnotation(pod.metadata.namespace ?? '', pod.metadata.name ?? '', encodeAnnotation(desired) ?? null);
    this.log.debug('NodePortLocal annotation written', { pod: key, entries: desired.length });
  }

  state(): NodePortLocalState {
    const mappings = this.table.list().map((e) => ({ ...e, pod: e.owner }));
    return {
      enabled: true,
      portRange: `${this.deps.range.start}-${this.deps.range.end}`,
      ready: this.ready,
      used: this.table.size,
      capacity: this.table.capacity,
      mappings,
      waiting: [...this.waiting.entries()].map(([pod, w]) => ({ pod, ...w })),
    };
  }
}
