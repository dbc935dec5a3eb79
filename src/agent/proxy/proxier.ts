/**
 * The proxier (kube-proxy's `Proxier`, Antrea's `proxier.go`): informer handlers feed two change trackers (Services,
 * and Endpoints or EndpointSlices); `sync()` applies their pending changes to the service and endpoints maps,
 * rebuilds the frontends of only the ServicePorts that changed, and hands the datapath only the frontends that
 * differ from what it holds. Work per sync is proportional to what changed, never to the number of Services.
 *
 * It knows nothing of informers or timers: the module (index.ts) wires those, the bench drives it directly.
 */
import type { Endpoints, Service } from '../../apis/core.js';
import type { EndpointSlice } from '../../apis/discovery.js';
import type { Datapath, DesiredStateChange, ServiceEndpoint, ServiceFrontend } from '../../datapath/types.js';
import { describeError, isAntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
import { ChangeTracker, sameMap, type Change } from './changetracker.js';
import { endpointsFromEndpoints, sameEndpoints, sameEndpointsByPort } from './endpoints.js';
import { EndpointSliceCache, sliceService } from './endpointslicecache.js';
import { UsableEndpoints } from './select.js';
import { servicePorts, skipReason, skipSet, type ServiceOptions } from './service.js';
import type { EndpointInfo, EndpointsByPort, PortsByKey, ServicePortInfo, ServicePortKey } from './types.js';

export interface ProxierOptions extends ServiceOptions {
  /** The agent's Node: endpoints on it are local (hairpin). */
  nodeName: string;
  datapath: Pick<Datapath, 'apply'>;
  /** Read EndpointSlices (the EndpointSlice gate) instead of Endpoints. */
  useEndpointSlices: boolean;
  logger?: Logger;
  /** Called whenever a change is pending: the module points it at its bounded-frequency runner. */
  onChange?: () => void;
  /** Called when a sync could not program everything: the module retries after this delay. */
  onRetry?: (delayMs: number) => void;
  /**
   * The ServicePort keys the datapath already holds (from a previous agent run), read once before the first sync;
   * those no Service wants any more are removed then. Without it, a Service deleted while the agent was down would
   * stay programmed until the datapath is reset.
   */
  restore?: () => Promise<readonly string[]>;
}

export interface ProxierStats {
  syncs: number;
  lastSyncMs: number;
  /** ServicePorts installed in the datapath. */
  installed: number;
  /** Endpoints across installed ServicePorts. */
  endpoints: number;
  /** Frontends upserted or removed by the last sync. */
  lastChanges: number;
}

/** One installed frontend, as the `/proxy` view shows it. */
export interface InstalledFrontend {
  key: ServicePortKey;
  clusterIP: string;
  port: number;
  protocol: string;
  endpoints: number;
  sessionAffinityTimeout?: number;
  /** Frontend fields the datapath refused as not supported yet, so the port is programmed without them. */
  unsupported?: string[];
}

/** Optional frontend features a datapath may not compile yet; without them the Service still balances. */
const OPTIONAL_FIELDS = ['sessionAffinityTimeout', 'nodePort', 'externalTrafficPolicyLocal'] as const;
type OptionalField = (typeof OPTIONAL_FIELDS)[number];

export class Proxier {
  private readonly log: Logger;
  private readonly skip: ReadonlySet<string>;
  private readonly services = new ChangeTracker<PortsByKey>(() => new Map(), sameMap);
  private readonly endpointsTracker = new ChangeTracker<EndpointsByPort>(() => new Map(), sameEndpointsByPort);
  private readonly slices: EndpointSliceCache;
  private readonly serviceMap = new Map<ServicePortKey, ServicePortInfo>();
  private readonly endpointsMap = new Map<ServicePortKey, readonly EndpointInfo[]>();
  /** What the datapath holds: key → the frontend (absent: adopted from a previous run, unknown) and its summary. */
  private readonly installed = new Map<ServicePortKey, Installed>();
  /** The endpoints each ServicePort's frontend takes, rebuilt only where its endpoint list changed. */
  private readonly usable: UsableEndpoints;
  /** Keys whose last programming failed; retried by the next sync. */
  private readonly retry = new Set<ServicePortKey>();
  /** Optional fields this datapath refused once (ERR_DATAPATH_UNSUPPORTED): left out of every frontend since. */
  private readonly unsupported = new Set<OptionalField>();
  private servicesSynced = false;
  private endpointsSynced = false;
  private syncedOnce = false;
  readonly stats: ProxierStats = { syncs: 0, lastSyncMs: 0, installed: 0, endpoints: 0, lastChanges: 0 };

  constructor(private readonly opts: ProxierOptions) {
    this.log = opts.logger ?? silentLogger;
    this.skip = skipSet(opts.skipServices);
    this.slices = new EndpointSliceCache(this.log);
    this.usable = new UsableEndpoints(opts.nodeName);
  }

  // ---- informer adapters' handlers (kube-proxy's ServiceHandler / EndpointsHandler / EndpointSliceHandler)

  onServiceAdd(svc: Service): void {
    this.onServiceUpdate(undefined, svc);
  }

  onServiceUpdate(old: Service | undefined, svc: Service | undefined): void {
    const obj = svc ?? old;
    if (!obj) return;
    if (svc && !old) {
      const why = skipReason(svc, this.skip);
      if (why) this.log.debug('Service skipped', { service: nameOf(svc), reason: why });
    }
    const key = nameOf(obj);
    if (this.services.update(key, this.ports(old), this.ports(svc))) this.changed();
  }

  onServiceDelete(svc: Service): void {
    this.onServiceUpdate(svc, undefined);
  }

  onServicesSynced(): void {
    this.servicesSynced = true;
    this.changed();
  }

  onEndpointsAdd(ep: Endpoints): void {
    this.onEndpointsUpdate(undefined, ep);
  }

  onEndpointsUpdate(old: Endpoints | undefined, ep: Endpoints | undefined): void {
    const obj = ep ?? old;
    if (!obj || this.opts.useEndpointSlices) return;
    if (this.endpointsTracker.update(nameOf(obj), old && endpointsFromEndpoints(old), ep && endpointsFromEndpoints(ep))) this.changed();
  }

  onEndpointsDelete(ep: Endpoints): void {
    this.onEndpointsUpdate(ep, undefined);
  }

  onEndpointSliceAdd(slice: EndpointSlice): void {
    if (this.opts.useEndpointSlices && this.slices.update(slice, false)) this.changed();
  }

  onEndpointSliceUpdate(old: EndpointSlice, slice: EndpointSlice): void {
    if (!this.opts.useEndpointSlices) return;
    let changed = false;
    // A slice relabelled to another Service leaves the first one.
    if (sliceService(old) !== sliceService(slice)) changed = this.slices.update(old, true);
    if (this.slices.update(slice, false) || changed) this.changed();
  }

  onEndpointSliceDelete(slice: EndpointSlice): void {
    if (this.opts.useEndpointSlices && this.slices.update(slice, true)) this.changed();
  }

  onEndpointsSynced(): void {
    this.endpointsSynced = true;
    this.changed();
  }

  // ---- sync

  /** True once both Services and endpoints have synced and one sync has programmed the datapath. */
  get synced(): boolean {
    return this.syncedOnce;
  }

  /**
   * Applies pending changes and programs the ServicePorts that changed. `full` also re-checks every ServicePort
   * against what was programmed (the periodic repair). Does nothing until Services and endpoints have synced, so a
   * partial list never removes what a previous agent programmed.
   */
  async sync(opts: { full?: boolean } = {}): Promise<void> {
    if (!this.servicesSynced || !this.endpointsSynced) return;
    const started = performance.now();
    const touched = new Set<ServicePortKey>(this.retry);
    this.retry.clear();
    if (!this.syncedOnce && this.opts.restore) {
      // Adopt what a previous run programmed: every key is re-checked, unwanted ones removed, the rest upserted.
      for (const key of await this.opts.restore()) {
        if (this.installed.has(key)) continue;
        this.installed.set(key, { summary: { key, clusterIP: '', port: 0, protocol: '', endpoints: 0 } });
        touched.add(key);
      }
    }
    for (const ch of this.services.checkout()) applyChange(this.serviceMap, ch, touched, (a, b) => JSON.stringify(a) === JSON.stringify(b));
    const epChanges = this.opts.useEndpointSlices ? this.slices.checkout() : this.endpointsTracker.checkout();
    for (const ch of epChanges) applyChange(this.endpointsMap, ch, touched, sameEndpoints);
    if (opts.full) {
      for (const k of this.serviceMap.keys()) touched.add(k);
      for (const k of this.installed.keys()) touched.add(k);
    }

    const changes: DesiredStateChange[] = [];
    const next = new Map<ServicePortKey, Installed | undefined>();
    for (const key of touched) {
      const svc = this.serviceMap.get(key);
      if (!svc) {
        this.usable.delete(key);
        if (this.installed.has(key)) {
          changes.push({ kind: 'service', op: 'remove', key });
          next.set(key, undefined);
        }
        continue;
      }
      const frontend = this.frontend(key, svc, this.endpointsMap.get(key) ?? []);
      const had = this.installed.get(key)?.frontend;
      if (had && sameFrontend(had, frontend)) continue;
      const { programmed, dropped } = this.strip(frontend);
      changes.push({ kind: 'service', op: 'upsert', service: programmed });
      next.set(key, { frontend, summary: summaryOf(key, frontend, dropped) });
    }
    if (changes.length > 0) await this.program(changes, next);
    this.stats.syncs++;
    this.stats.lastChanges = changes.length;
    this.stats.lastSyncMs = performance.now() - started;
    this.stats.installed = this.installed.size;
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.log.info('AntreaProxy synced', { servicePorts: this.installed.size, source: this.opts.useEndpointSlices ? 'EndpointSlices' : 'Endpoints' });
    }
    if (this.retry.size > 0) this.opts.onRetry?.(1000);
  }

  /** The ServicePorts in the datapath now. */
  frontends(): InstalledFrontend[] {
    return [...this.installed.values()].map((v) => v.summary).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Applies in one batch; if the batch fails, one by one, so one bad frontend does not hold back the others. */
  private async program(changes: DesiredStateChange[], next: Map<ServicePortKey, Installed | undefined>): Promise<void> {
    const record = (ch: DesiredStateChange) => {
      const key = ch.kind === 'service' ? (ch.op === 'remove' ? ch.key : keyOf(ch.service)) : '';
      const v = next.get(key);
      const before = this.installed.get(key);
      if (before) this.stats.endpoints -= before.summary.endpoints;
      if (v) {
        this.installed.set(key, v);
        this.stats.endpoints += v.summary.endpoints;
      } else this.installed.delete(key);
    };
    try {
      await this.opts.datapath.apply(changes);
      for (const ch of changes) record(ch);
      return;
    } catch (err) {
      this.log.warn('programming Services as one batch failed, retrying one by one', { changes: changes.length, error: describeError(err) });
    }
    for (let ch of changes) {
      try {
        for (;;) {
          try {
            await this.opts.datapath.apply([ch]);
            break;
          } catch (err) {
            // A refused optional feature is learnt once; the port is programmed without it rather than not at all.
            const field = unsupportedField(err);
            if (!field || ch.kind !== 'service' || ch.op !== 'upsert' || this.unsupported.has(field)) throw err;
            this.unsupported.add(field);
            this.log.warn('the datapath does not support a Service feature yet: Service ports that use it are programmed without it', { feature: field, error: describeError(err) });
            const { programmed, dropped } = this.strip(ch.service);
            const key = keyOf(ch.service);
            const v = next.get(key);
            if (v) v.summary = { ...v.summary, unsupported: dropped };
            ch = { ...ch, service: programmed };
          }
        }
        record(ch);
      } catch (err) {
        const key = ch.kind === 'service' ? (ch.op === 'remove' ? ch.key : keyOf(ch.service)) : '';
        this.retry.add(key);
        this.log.warnOnce(`proxy-apply:${key}:${describeError(err)}`, 'could not program a Service port', { servicePort: key, error: describeError(err) });
      }
    }
  }

  /** The frontend without the optional fields this datapath refused. */
  private strip(f: ServiceFrontend): { programmed: ServiceFrontend; dropped?: string[] } {
    const dropped = OPTIONAL_FIELDS.filter((k) => this.unsupported.has(k) && f[k] !== undefined && f[k] !== false);
    if (dropped.length === 0) return { programmed: f };
    const programmed = { ...f };
    for (const k of dropped) delete programmed[k];
    return { programmed, dropped };
  }

  private frontend(key: ServicePortKey, svc: ServicePortInfo, endpoints: readonly EndpointInfo[]): ServiceFrontend {
    return { ...svc, endpoints: this.usable.get(key, endpoints) };
  }

  private ports(svc: Service | undefined): PortsByKey | undefined {
    return svc ? servicePorts(svc, { ...this.opts, skip: this.skip }) : undefined;
  }

  private changed(): void {
    this.opts.onChange?.();
  }
}

interface Installed {
  frontend?: ServiceFrontend;
  summary: InstalledFrontend;
}

/**
 * The frontend's fields but endpoints as JSON (a handful), then endpoints by reference first (see `usable`):
 * serialising a 10,000-endpoint frontend to compare it was most of a one-endpoint sync.
 */
function sameFrontend(a: ServiceFrontend, b: ServiceFrontend): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof ServiceFrontend)[]);
  for (const k of keys) if (k !== 'endpoints' && JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  if (a.endpoints.length !== b.endpoints.length) return false;
  for (let i = 0; i < a.endpoints.length; i++) {
    const x = a.endpoints[i] as ServiceEndpoint;
    const y = b.endpoints[i] as ServiceEndpoint;
    if (x !== y && (x.ip !== y.ip || x.port !== y.port || x.isLocal !== y.isLocal)) return false;
  }
  return true;
}

function nameOf(o: { metadata: { namespace?: string; name?: string } }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

function keyOf(f: ServiceFrontend): ServicePortKey {
  return `${f.namespace}/${f.name}:${f.portName}/${f.protocol}`;
}

function unsupportedField(err: unknown): OptionalField | undefined {
  if (!isAntreaError(err, 'ERR_DATAPATH_UNSUPPORTED')) return undefined;
  const field = err.details.field;
  return OPTIONAL_FIELDS.find((f) => f === field);
}

function summaryOf(key: ServicePortKey, f: ServiceFrontend, unsupported?: string[]): InstalledFrontend {
  return {
    key,
    clusterIP: f.clusterIP,
    port: f.port,
    protocol: f.protocol,
    endpoints: f.endpoints.length,
    ...(f.sessionAffinityTimeout !== undefined ? { sessionAffinityTimeout: f.sessionAffinityTimeout } : {}),
    ...(unsupported?.length ? { unsupported } : {}),
  };
}

/** Moves a tracker change into a map, noting the keys whose value really changed. */
function applyChange<V>(map: Map<string, V>, ch: Change<ReadonlyMap<string, V>>, touched: Set<string>, same: (a: V | undefined, b: V | undefined) => boolean): void {
  for (const [k, v] of ch.previous) {
    if (!same(v, ch.current.get(k))) touched.add(k);
    map.delete(k);
  }
  for (const [k, v] of ch.current) {
    if (!ch.previous.has(k)) touched.add(k);
    map.set(k, v);
  }
}
