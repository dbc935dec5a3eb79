/**
 * The flow exporter's two loops (Antrea's `flowExporter.Run`): poll conntrack every poll interval into the store,
 * and export each connection when it is due, through an `IpfixExporter`. Neither loop ever waits for the collector:
 * records are encoded into the exporter's bounded buffer, which drops (and counts) the oldest when the collector is
 * away. A failed poll is logged and retried on the next tick.
 */
import type { ConntrackEntry } from '../../datapath/traffic.js';
import { IpfixExporter, type ExporterStats, type IpfixInputValue, type Template } from '../../ipfix/index.js';
import { describeError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { buildRecord, flowTemplates } from './record.js';
import { ConnectionStore } from './store.js';
import { FlowEndReason, type Connection, type Enricher } from './types.js';

export interface FlowExporterOptions {
  nodeName: string;
  collector: { host: string; port: number; proto: 'tcp' | 'udp' };
  pollIntervalMs: number;
  activeTimeoutMs: number;
  idleTimeoutMs: number;
  conntrack: () => Promise<readonly ConntrackEntry[]>;
  enricher: Enricher;
  logger: Logger;
  /** Default Date.now; the conntrack times are on the same clock. */
  now?: () => number;
  /** The IPFIX send buffer bound while the collector is away (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Records per export slice; more due records continue on the next event-loop turn (default 5000). */
  maxRecordsPerCycle?: number;
}

export interface FlowExporterStats {
  collector: string;
  connections: number;
  queued: number;
  polls: number;
  pollErrors: number;
  lastPoll: { durationMs: number; seen: number; added: number; updated: number; ended: number; deleted: number } | undefined;
  records: { active: number; idle: number; endOfFlow: number; failed: number };
  ipfix: ExporterStats;
}

/** Antrea's observation domain id: the 32-bit FNV-1 hash of the Node name. */
export function observationDomainId(nodeName: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(nodeName, 'utf8')) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h >>> 0;
}

/** The shortest wait between export cycles (as Antrea's exporter loop, 100 ms). */
const MIN_EXPORT_DELAY_MS = 100;
/** Conntrack entries applied per event-loop turn. */
const POLL_SLICE = 20_000;

export class FlowExporter {
  readonly store: ConnectionStore;
  private readonly ipfix: IpfixExporter;
  private readonly templates: { v4: Template; v6: Template };
  private readonly now: () => number;
  private readonly maxPerCycle: number;
  private readonly log: Logger;
  private readonly rec: IpfixInputValue[] = new Array<IpfixInputValue>(37);
  private pollTimer: NodeJS.Timeout | undefined;
  private exportTimer: NodeJS.Timeout | undefined;
  private exportTimerAt = Infinity;
  private continueTimer: NodeJS.Immediate | undefined;
  private stopped = false;
  private polling: Promise<void> | undefined;
  private inPoll = false;
  private readonly counters = { polls: 0, pollErrors: 0, active: 0, idle: 0, endOfFlow: 0, failed: 0 };
  private lastPoll: FlowExporterStats['lastPoll'];
  private readonly emit = (c: Connection, reason: number) => this.send(c, reason);

  constructor(private readonly opts: FlowExporterOptions) {
    this.now = opts.now ?? Date.now;
    this.maxPerCycle = opts.maxRecordsPerCycle ?? 5000;
    this.log = opts.logger;
    this.store = new ConnectionStore({ activeTimeoutMs: opts.activeTimeoutMs, idleTimeoutMs: opts.idleTimeoutMs, enricher: opts.enricher });
    this.templates = flowTemplates();
    this.ipfix = new IpfixExporter({
      host: opts.collector.host,
      port: opts.collector.port,
      protocol: opts.collector.proto,
      observationDomainId: observationDomainId(opts.nodeName),
      // Antrea's UDP template refresh.
      templateRefreshIntervalMs: 1_800_000,
      ...(opts.maxBufferedBytes !== undefined ? { maxBufferedBytes: opts.maxBufferedBytes } : {}),
      logger: opts.logger,
    });
    this.ipfix.addTemplate(this.templates.v4);
    this.ipfix.addTemplate(this.templates.v6);
  }

  /** Connects to the collector and starts polling; `{poll: false}` leaves polling to `pollOnce()` (tests). */
  start(opts: { poll?: boolean } = {}): this {
    this.ipfix.start();
    if (opts.poll !== false) this.schedulePoll(0);
    return this;
  }

  /** One poll and the export cycle after it; the loop calls this, tests may too. */
  async pollOnce(): Promise<void> {
    if (this.polling) return this.polling;
    this.polling = (async () => {
      let entries: readonly ConntrackEntry[];
      try {
        entries = await this.opts.conntrack();
      } catch (err) {
        this.counters.pollErrors++;
        this.log.warnOnce('flowexporter-poll', 'cannot read conntrack; retrying on the next poll', { error: describeError(err) });
        return;
      }
      if (this.stopped) return;
      const now = this.now();
      let busy = 0;
      const store = this.store;
      const res = store.beginPoll();
      this.inPoll = true;
      try {
        // Slices keep a dump of 100k connections from holding the agent's event loop for its whole length.
        for (let from = 0; from < entries.length; from += POLL_SLICE) {
          if (from > 0) {
            await new Promise<void>((r) => setImmediate(r));
            if (this.stopped) return;
          }
          const t0 = performance.now();
          store.pollSlice(entries, from, Math.min(entries.length, from + POLL_SLICE), now, res);
          busy += performance.now() - t0;
        }
        const t0 = performance.now();
        store.endPoll(now, res);
        busy += performance.now() - t0;
      } finally {
        this.inPoll = false;
      }
      this.counters.polls++;
      this.lastPoll = { durationMs: Math.round(busy * 1000) / 1000, ...res };
      this.exportDue();
    })().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  /** Exports what is due now, in slices that yield to the event loop, and arms the timer for the next due item. */
  exportDue(): void {
    // A poll in progress runs this when it ends.
    if (this.stopped || this.inPoll) return;
    const now = this.now();
    const n = this.store.exportExpired(now, this.maxPerCycle, this.emit);
    if (n === this.maxPerCycle && !this.continueTimer) {
      this.continueTimer = setImmediate(() => {
        this.continueTimer = undefined;
        this.exportDue();
      });
      return;
    }
    const next = this.store.nextExpiry();
    if (next !== undefined) this.scheduleExport(Math.max(next, now + MIN_EXPORT_DELAY_MS));
  }

  stats(): FlowExporterStats {
    const c = this.counters;
    return {
      collector: `${this.opts.collector.host}:${this.opts.collector.port}:${this.opts.collector.proto}`,
      connections: this.store.size,
      queued: this.store.queue.size,
      polls: c.polls,
      pollErrors: c.pollErrors,
      lastPoll: this.lastPoll,
      records: { active: c.active, idle: c.idle, endOfFlow: c.endOfFlow, failed: c.failed },
      ipfix: this.ipfix.stats(),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.exportTimer);
    if (this.continueTimer) clearImmediate(this.continueTimer);
    await this.polling;
    // Records already encoded get a short chance to reach the collector; the rest count as dropped.
    await this.ipfix.close(500);
  }

  private send(c: Connection, reason: number): void {
    try {
      this.ipfix.export(c.ipv6 ? this.templates.v6 : this.templates.v4, buildRecord(c, reason, this.rec));
    } catch (err) {
      // A value the template cannot carry (a bug, or conntrack data we did not expect): skip the record, keep going.
      this.counters.failed++;
      this.log.warnOnce('flowexporter-record', 'cannot encode a flow record', { error: describeError(err), connection: c.key });
      return;
    }
    if (reason === FlowEndReason.Active) this.counters.active++;
    else if (reason === FlowEndReason.Idle) this.counters.idle++;
    else this.counters.endOfFlow++;
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      const started = this.now();
      void this.pollOnce().finally(() => this.schedulePoll(Math.max(0, this.opts.pollIntervalMs - (this.now() - started))));
    }, delayMs);
    this.pollTimer.unref();
  }

  private scheduleExport(at: number): void {
    if (this.stopped) return;
    if (this.exportTimer && this.exportTimerAt <= at) return;
    clearTimeout(this.exportTimer);
    this.exportTimerAt = at;
    this.exportTimer = setTimeout(() => {
      this.exportTimer = undefined;
      this.exportTimerAt = Infinity;
      this.exportDue();
    }, Math.max(0, at - this.now()));
    this.exportTimer.unref();
  }
}
