import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { createConnection, type Socket as TcpSocket } from 'node:net';
import { silentLogger, type Logger } from '../util/log.js';
import { IpfixEncoder, type EncodedMessage, type InputRecord, DEFAULT_MAX_MESSAGE_SIZE } from './encoder.js';
import { IpfixError } from './errors.js';
import { type Template } from './template.js';

export type IpfixProtocol = 'udp' | 'tcp';

export interface ExporterOptions {
  /** Collector address; default 127.0.0.1. */
  host?: string;
  /** Collector port; IANA's IPFIX port is 4739. */
  port: number;
  protocol: IpfixProtocol;
  observationDomainId?: number;
  /** Largest message in octets (default 1400, MTU-safe for UDP). */
  maxMessageSize?: number;
  /**
   * UDP only: templates are re-sent this often (RFC 7011 section 8.4), so a collector that restarted or lost a
   * datagram learns them again. Default 600 000 ms (10 min, the RFC 6728 default); Antrea's agent uses 1 800 000.
   * 0 disables the refresh. Over TCP templates are sent once per connection.
   */
  templateRefreshIntervalMs?: number;
  /**
   * Bound on encoded messages waiting while the collector is unreachable or slow. When full, the oldest data
   * messages are dropped and their records counted in `stats().recordsDropped`. Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /** Records are packed into messages and sent this long after the first one; 0 (default) sends on the next tick. */
  flushIntervalMs?: number;
  /** TCP reconnection: exponential backoff from `initialDelayMs` (200) doubling to `maxDelayMs` (30 000), jittered. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  logger?: Logger;
}

export interface ExporterStats {
  recordsExported: number;
  recordsSent: number;
  recordsDropped: number;
  messagesSent: number;
  bytesSent: number;
  templatesSent: number;
  sendErrors: number;
  reconnects: number;
  bufferedBytes: number;
  connected: boolean;
}

interface Queued {
  readonly bytes: Buffer;
  readonly records: number;
}

/** Socket buffer allowed to build up in the kernel/libuv before we keep messages in our own bounded queue. */
const SOCKET_HIGH_WATER = 256 * 1024;

/**
 * Sends IPFIX records to one collector over UDP or TCP. `export()` never blocks and never waits for the network:
 * records are encoded at once into messages kept in a bounded queue that drains while the collector is reachable.
 * Over TCP a lost connection is retried with exponential backoff and the templates are sent again on every new
 * connection; sequence numbers continue across reconnections. Emits 'connect' and 'disconnect'.
 *
 * TLS is not implemented.
 */
export class IpfixExporter extends EventEmitter {
  private readonly host: string;
  private readonly port: number;
  private readonly protocol: IpfixProtocol;
  private readonly encoder: IpfixEncoder;
  private readonly refreshMs: number;
  private readonly maxBuffered: number;
  private readonly flushMs: number;
  private readonly backoffInitial: number;
  private readonly backoffMax: number;
  private readonly log: Logger;
  private queue: Queued[] = [];
  private head = 0;
  private queuedBytes = 0;
  private udp: UdpSocket | undefined;
  private tcp: TcpSocket | undefined;
  private connected = false;
  private closed = false;
  private attempt = 0;
  private inflightUdp = 0;
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly counters = {
    recordsExported: 0,
    recordsSent: 0,
    recordsDropped: 0,
    messagesSent: 0,
    bytesSent: 0,
    templatesSent: 0,
    sendErrors: 0,
    reconnects: 0,
  };

  constructor(opts: ExporterOptions) {
    super();
    if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) {
      throw new IpfixError('ERR_IPFIX_BAD_OPTION', `collector port ${opts.port} is not in 1..65535`);
    }
    if (opts.protocol !== 'udp' && opts.protocol !== 'tcp') {
      throw new IpfixError('ERR_IPFIX_BAD_OPTION', `protocol ${String(opts.protocol)} is not udp or tcp (TLS is not supported)`);
    }
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port;
    this.protocol = opts.protocol;
    this.encoder = new IpfixEncoder({
      observationDomainId: opts.observationDomainId ?? 0,
      maxMessageSize: opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    });
    this.refreshMs = opts.templateRefreshIntervalMs ?? 600_000;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.flushMs = opts.flushIntervalMs ?? 0;
    this.backoffInitial = opts.reconnect?.initialDelayMs ?? 200;
    this.backoffMax = opts.reconnect?.maxDelayMs ?? 30_000;
    this.log = (opts.logger ?? silentLogger).child({ component: 'ipfix-exporter', collector: `${this.host}:${this.port}/${this.protocol}` });
  }

  /** Opens the socket. Records exported before the connection is up wait in the queue. */
  start(): this {
    this.assertOpen();
    if (this.udp || this.tcp || this.reconnectTimer) return this;
    this.connect();
    if (this.protocol === 'udp' && this.refreshMs > 0) {
      this.refreshTimer = setInterval(() => this.refreshTemplates(), this.refreshMs);
      this.refreshTimer.unref();
    }
    return this;
  }

  /** Registers a template and queues it for sending; data records for it may follow at once. */
  addTemplate(t: Template): void {
    this.assertOpen();
    this.encoder.addTemplate(t);
    this.drainEncoder(true);
    this.enqueueTemplates([t.id], false);
    this.pump();
  }

  /** Encodes one record now (throws an IpfixError if it is invalid) and schedules its message for sending. */
  export(template: Template | number, record: InputRecord): void {
    this.assertOpen();
    this.encoder.writeRecord(template, record);
    this.counters.recordsExported++;
    if (this.encoder.finishedCount > 0) this.drainEncoder(false);
    this.scheduleFlush();
  }

  /** Closes the message being filled and hands every pending message to the socket when it can take them. */
  flush(): void {
    if (this.flushTimer) this.clearFlushTimer();
    this.drainEncoder(true);
    this.pump();
  }

  stats(): ExporterStats {
    return { ...this.counters, bufferedBytes: this.queuedBytes, connected: this.connected };
  }

  /**
   * Sends what it can within `timeoutMs` (default 2000), then closes the socket. Messages still queued are
   * counted as dropped.
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.flush();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (this.queue.length - this.head > 0 || this.inflightUdp > 0 || (this.tcp?.writableLength ?? 0) > 0)) {
      if (!this.connected && this.queue.length - this.head > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    this.closed = true;
    clearInterval(this.refreshTimer);
    clearTimeout(this.reconnectTimer);
    this.clearFlushTimer();
    for (let i = this.head; i < this.queue.length; i++) this.counters.recordsDropped += this.queue[i]!.records;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = undefined;
    this.udp = undefined;
    this.connected = false;
    if (tcp) {
      await new Promise<void>((resolve) => {
        tcp.once('close', () => resolve());
        tcp.end();
        setTimeout(() => tcp.destroy(), Math.max(0, deadline - Date.now())).unref();
      });
    }
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
  }

  private assertOpen(): void {
    if (this.closed) throw new IpfixError('ERR_IPFIX_CLOSED', 'the IPFIX exporter is closed');
  }

  private connect(): void {
    if (this.protocol === 'udp') this.connectUdp();
    else this.connectTcp();
  }

  private connectUdp(): void {
    const sock = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    this.udp = sock;
    sock.on('error', (err) => {
      this.counters.sendErrors++;
      this.log.debug('UDP socket error', { error: err.message });
    });
    sock.connect(this.port, this.host, () => {
      if (this.udp !== sock) return;
      this.connected = true;
      this.onConnected();
    });
  }

  private connectTcp(): void {
    const sock = createConnection({ host: this.host, port: this.port });
    sock.setNoDelay(true);
    this.tcp = sock;
    sock.on('connect', () => {
      if (this.tcp !== sock) return;
      this.connected = true;
      this.attempt = 0;
      this.log.info('connected to the IPFIX collector');
      this.onConnected();
    });
    sock.on('drain', () => this.pump());
    sock.on('data', () => undefined); // a collector has nothing to say; do not let data pile up
    sock.on('error', (err) => {
      this.counters.sendErrors++;
      this.log.debug('TCP connection error', { error: err.message });
    });
    sock.on('close', () => {
      if (this.tcp !== sock) return;
      const wasConnected = this.connected;
      this.tcp = undefined;
      this.connected = false;
      if (wasConnected) this.emit('disconnect');
      if (this.closed) return;
      const delay = Math.min(this.backoffMax, this.backoffInitial * 2 ** Math.min(this.attempt, 30));
      this.attempt++;
      // Jitter (50..100 %) keeps a fleet of agents from reconnecting to a restarted collector in lockstep.
      const jittered = Math.round(delay * (0.5 + Math.random() * 0.5));
      this.log.warnOnce('ipfix-collector-down', 'IPFIX collector unreachable, retrying with backoff', { delayMs: jittered });
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        this.counters.reconnects++;
        this.connectTcp();
      }, jittered);
      this.reconnectTimer.unref();
    });
  }

  private onConnected(): void {
    // A new transport session knows no templates: they go first, ahead of anything queued.
    this.drainEncoder(true);
    this.enqueueTemplates(undefined, true);
    this.emit('connect');
    this.pump();
  }

  private refreshTemplates(): void {
    if (this.closed || !this.connected) return;
    this.drainEncoder(true);
    this.enqueueTemplates(undefined, false);
    this.pump();
  }

  /** Moves finished (and, if `all`, the current) messages from the encoder to the queue. */
  private drainEncoder(all: boolean): void {
    const msgs = all ? this.encoder.flush() : this.encoder.takeFinished();
    for (const m of msgs) this.enqueue(m);
  }

  private enqueueTemplates(ids: number[] | undefined, front: boolean): void {
    if (this.encoder.templates().length === 0) return;
    // Template-only messages carry the sequence number of the next data message (RFC 7011 section 3.1).
    const seq = front && this.head < this.queue.length ? this.queue[this.head]!.bytes.readUInt32BE(8) : this.encoder.sequenceNumber;
    const tenc = new IpfixEncoder({
      observationDomainId: this.encoder.observationDomainId,
      maxMessageSize: this.encoder.maxMessageSize,
      initialSequenceNumber: seq,
    });
    for (const t of this.encoder.templates()) tenc.addTemplate(t);
    tenc.writeTemplates(ids);
    const msgs = tenc.flush();
    if (front) {
      this.queue = [...msgs, ...this.queue.slice(this.head)];
      this.head = 0;
      for (const m of msgs) this.queuedBytes += m.bytes.length;
    } else for (const m of msgs) this.enqueue(m);
  }

  private enqueue(m: EncodedMessage): void {
    this.queue.push(m);
    this.queuedBytes += m.bytes.length;
    if (this.queuedBytes > this.maxBuffered) this.dropOldest();
  }

  /** Drops the oldest data messages until the queue fits; template messages stay, they are small and needed. */
  private dropOldest(): void {
    const kept: Queued[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const m = this.queue[i]!;
      if (this.queuedBytes > this.maxBuffered && m.records > 0) {
        this.queuedBytes -= m.bytes.length;
        this.counters.recordsDropped += m.records;
      } else kept.push(m);
    }
    if (this.counters.recordsDropped > 0) {
      this.log.warnOnce('ipfix-drops', 'IPFIX send buffer full, dropping the oldest records', { maxBufferedBytes: this.maxBuffered });
    }
    this.queue = kept;
    this.head = 0;
  }

  private pump(): void {
    if (!this.connected) return;
    while (this.head < this.queue.length) {
      const m = this.queue[this.head]!;
      if (this.tcp) {
        if (this.tcp.writableLength > SOCKET_HIGH_WATER) return; // resumed by 'drain'
        this.tcp.write(m.bytes);
      } else if (this.udp) {
        if (this.inflightUdp > SOCKET_HIGH_WATER) return; // resumed by a send callback
        this.sendUdp(this.udp, m);
      } else return;
      this.queue[this.head++] = undefined as unknown as Queued;
      this.queuedBytes -= m.bytes.length;
      this.counters.messagesSent++;
      this.counters.bytesSent += m.bytes.length;
      this.counters.recordsSent += m.records;
      if (m.records === 0) this.counters.templatesSent++;
    }
    this.queue = [];
    this.head = 0;
  }

  private sendUdp(sock: UdpSocket, m: Queued): void {
    this.inflightUdp += m.bytes.length;
    sock.send(m.bytes, (err) => {
      this.inflightUdp -= m.bytes.length;
      if (err) {
        // Typically ECONNREFUSED: nobody listens. UDP has no delivery guarantee; count and go on.
        this.counters.sendErrors++;
        this.counters.recordsSent -= m.records;
        this.counters.recordsDropped += m.records;
      }
      if (this.head < this.queue.length) this.pump();
    });
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.closed) return;
    if (this.flushMs === 0) {
      this.flushTimer = setImmediate(() => {
        this.flushTimer = undefined;
        this.flush();
      });
    } else {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, this.flushMs);
    }
  }

  private clearFlushTimer(): void {
    if (!this.flushTimer) return;
    if (this.flushMs === 0) clearImmediate(this.flushTimer as NodeJS.Immediate);
    else clearTimeout(this.flushTimer as NodeJS.Timeout);
    this.flushTimer = undefined;
  }
}
