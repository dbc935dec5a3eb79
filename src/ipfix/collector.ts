import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket as TcpSocket } from 'node:net';
import { silentLogger, type Logger } from '../util/log.js';
import { listen } from '../util/listen.js';
import { IpfixDecoder, type DataRecord, type DecodedMessage, type DecoderOptions, type MessageHeader } from './decoder.js';
import { IpfixError, isIpfixError, type IpfixErrorCode } from './errors.js';
import { MessageFramer } from './framer.js';

export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4739; 0 picks a free port. */
  port?: number;
}

export interface CollectorOptions {
  udp?: ListenOptions | boolean;
  tcp?: ListenOptions | boolean;
  decoder?: DecoderOptions;
  /** UDP peers (address, port) whose templates are kept; the least recently seen is forgotten beyond. Default 1024. */
  maxUdpSessions?: number;
  /**
   * UDP only: templates not refreshed for this long are forgotten (RFC 7011 section 8.4). Default 5 400 000 ms,
   * three times Antrea's 30-minute refresh, so Antrea agents never lose their templates. 0 keeps them forever.
   */
  udpTemplateLifetimeMs?: number;
  /** Concurrent TCP exporters; more are refused. Default 256. */
  maxTcpConnections?: number;
  logger?: Logger;
}

/** Where a message came from: one transport session. */
export interface SessionInfo {
  readonly protocol: 'udp' | 'tcp';
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** Shared by every record of one message. */
export interface MessageMeta {
  readonly session: SessionInfo;
  readonly header: MessageHeader;
  readonly observationDomainId: number;
  /** Export time, seconds since the Unix epoch. */
  readonly exportTime: number;
}

export interface CollectorStats {
  messages: number;
  records: number;
  bytes: number;
  templates: number;
  /** Data sets skipped because their template was not (yet) known. */
  skippedSets: number;
  /** Records lost according to sequence numbers (sum of positive gaps). */
  lostRecords: number;
  decodeErrors: number;
  decodeErrorsByCode: Partial<Record<IpfixErrorCode, number>>;
  udpSessions: number;
  tcpConnections: number;
}

export interface CollectorEvents {
  message: [msg: DecodedMessage, meta: MessageMeta];
  record: [record: DataRecord, meta: MessageMeta];
  decodeError: [err: IpfixError, session: SessionInfo];
  listening: [];
}

interface UdpSession {
  readonly decoder: IpfixDecoder;
  readonly info: SessionInfo;
  lastSeen: number;
}

/**
 * Receives IPFIX over UDP and/or TCP, keeps one decoder (templates, sequence numbers) per transport session, and
 * emits what it decodes. Malformed input is counted and emitted as 'decodeError' (never 'error'); a TCP stream
 * that loses its framing is closed. Records are plain objects keyed by IE name; see types.ts for the value forms
 * and json.ts for the JSON rendering.
 */
export class IpfixCollector extends EventEmitter<CollectorEvents> {
  private readonly opts: CollectorOptions;
  private readonly log: Logger;
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly udpSessions = new Map<string, UdpSession>();
  private readonly tcpConns = new Set<TcpSocket>();
  private readonly maxUdp: number;
  private readonly maxTcp: number;
  private readonly counters: CollectorStats = {
    messages: 0,
    records: 0,
    bytes: 0,
    templates: 0,
    skippedSets: 0,
    lostRecords: 0,
    decodeErrors: 0,
    decodeErrorsByCode: {},
    udpSessions: 0,
    tcpConnections: 0,
  };

  constructor(opts: CollectorOptions) {
    super();
    if (!opts.udp && !opts.tcp) throw new IpfixError('ERR_IPFIX_BAD_OPTION', 'the collector needs udp, tcp or both');
    this.opts = opts;
    this.maxUdp = opts.maxUdpSessions ?? 1024;
    this.maxTcp = opts.maxTcpConnections ?? 256;
    this.log = (opts.logger ?? silentLogger).child({ component: 'ipfix-collector' });
  }

  async start(): Promise<void> {
    if (this.opts.udp) await this.listenUdp(this.opts.udp === true ? {} : this.opts.udp);
    if (this.opts.tcp) await this.listenTcp(this.opts.tcp === true ? {} : this.opts.tcp);
    this.emit('listening');
  }

  address(): { udp?: AddressInfo; tcp?: AddressInfo } {
    const out: { udp?: AddressInfo; tcp?: AddressInfo } = {};
    if (this.udp) out.udp = this.udp.address();
    const t = this.tcp?.address();
    if (t && typeof t === 'object') out.tcp = t;
    return out;
  }

  stats(): CollectorStats {
    return {
      ...this.counters,
      decodeErrorsByCode: { ...this.counters.decodeErrorsByCode },
      udpSessions: this.udpSessions.size,
      tcpConnections: this.tcpConns.size,
    };
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.tcpConns) c.destroy();
    this.tcpConns.clear();
    this.udpSessions.clear();
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private listenUdp(l: ListenOptions): Promise<void> {
    const host = l.host ?? '127.0.0.1';
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    this.udp = sock;
    sock.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    sock.on('error', (err) => this.log.warn('UDP socket error', { error: err.message }));
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(l.port ?? 4739, host, () => {
        sock.off('error', reject);
        try {
          sock.setRecvBufferSize(8 * 1024 * 1024);
        } catch {
          // The kernel may cap it (net.core.rmem_max); the default still works, with more drops under bursts.
        }
        resolve();
      });
    });
  }

  private listenTcp(l: ListenOptions): Promise<void> {
    const host = l.host ?? '127.0.0.1';
    const server = createServer((conn) => this.onConnection(conn));
    this.tcp = server;
    server.on('error', (err) => this.log.warn('TCP server error', { error: err.message }));
    return listen(server, { port: l.port ?? 4739, host });
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    const now = Date.now();
    let s = this.udpSessions.get(key);
    if (!s) {
      if (this.udpSessions.size >= this.maxUdp) this.evictLeastRecentUdpSession();
      s = {
        decoder: new IpfixDecoder({ templateLifetimeMs: this.opts.udpTemplateLifetimeMs ?? 5_400_000, ...this.opts.decoder }),
        info: { protocol: 'udp', remoteAddress: rinfo.address, remotePort: rinfo.port },
        lastSeen: now,
      };
      this.udpSessions.set(key, s);
    }
    s.lastSeen = now;
    this.handle(s.decoder, msg, s.info);
  }

  /** A linear scan, but only when a new peer arrives while the table is full. */
  private evictLeastRecentUdpSession(): void {
    let oldestKey: string | undefined;
    let oldest = Infinity;
    for (const [k, s] of this.udpSessions) {
      if (s.lastSeen < oldest) {
        oldest = s.lastSeen;
        oldestKey = k;
      }
    }
    if (oldestKey !== undefined) this.udpSessions.delete(oldestKey);
  }

  private onConnection(conn: TcpSocket): void {
    if (this.tcpConns.size >= this.maxTcp) {
      this.log.warnOnce('ipfix-tcp-limit', 'too many IPFIX exporters connected, refusing more', { max: this.maxTcp });
      conn.destroy();
      return;
    }
    this.tcpConns.add(conn);
    const info: SessionInfo = { protocol: 'tcp', remoteAddress: conn.remoteAddress ?? '', remotePort: conn.remotePort ?? 0 };
    const decoder = new IpfixDecoder(this.opts.decoder);
    const framer = new MessageFramer();
    conn.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk, (m) => this.handle(decoder, m, info));
      } catch (err) {
        // Only the framer throws IpfixErrors here (decode errors are handled per message); listener bugs propagate.
        if (!isIpfixError(err)) throw err;
        this.countError(err, info);
        conn.destroy();
      }
    });
    conn.on('error', (err) => this.log.debug('TCP connection error', { error: err.message, ...info }));
    conn.on('close', () => this.tcpConns.delete(conn));
  }

  private handle(decoder: IpfixDecoder, bytes: Buffer, session: SessionInfo): void {
    let msg: DecodedMessage;
    try {
      msg = decoder.decode(bytes);
    } catch (err) {
      this.countError(err, session);
      return;
    }
    const c = this.counters;
    c.messages++;
    c.bytes += bytes.length;
    c.records += msg.records.length;
    c.templates += msg.templates.length;
    c.skippedSets += msg.skipped.length;
    if (msg.sequenceGap > 0) c.lostRecords += msg.sequenceGap;
    const meta: MessageMeta = {
      session,
      header: msg.header,
      observationDomainId: msg.header.observationDomainId,
      exportTime: msg.header.exportTime,
    };
    this.emit('message', msg, meta);
    if (this.listenerCount('record') > 0) for (const r of msg.records) this.emit('record', r, meta);
  }

  private countError(err: unknown, session: SessionInfo): void {
    const e = isIpfixError(err) ? err : new IpfixError('ERR_IPFIX_INTERNAL', String(err), { cause: err });
    this.counters.decodeErrors++;
    this.counters.decodeErrorsByCode[e.code] = (this.counters.decodeErrorsByCode[e.code] ?? 0) + 1;
    this.log.warnOnce(`ipfix-decode-${e.code}`, 'dropping a malformed IPFIX message', { code: e.code, error: e.message, ...session });
    this.emit('decodeError', e, session);
  }
}
