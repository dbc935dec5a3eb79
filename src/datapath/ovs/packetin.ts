/**
 * One Node's OpenFlow controller endpoint: a Unix socket server that the Node's ovs-vswitchd connects to
 * (`ovs-vsctl set-controller br-int unix:PATH`). It does the controller's side of the handshake (HELLO,
 * FEATURES_REQUEST, SET_CONFIG with whole packets), answers ECHO_REQUESTs so OVS keeps the connection, hands every
 * PACKET_IN to one handler and sends PACKET_OUTs on the live connection.
 *
 * It never takes the process down: a malformed or unexpected message is logged and skipped, a connection whose
 * framing is lost is closed (OVS reconnects), and a handler that throws is logged. The server and its sockets are
 * unref'd so an open controller never keeps a process alive on its own; close() ends them explicitly.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { AntreaError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import {
  MessageFramer, OFPT, OFP_VERSION, decodePacketIn, encodeEchoReply, encodeFeaturesRequest, encodeHello, encodePacketOut, encodeSetConfig,
  type OfpMessage, type PacketIn, type PacketOut,
} from './openflow.js';

export type PacketInHandler = (p: PacketIn) => void | Promise<void>;

export interface ControllerStats {
  connections: number;
  packetIns: number;
  packetOuts: number;
  /** Messages that could not be decoded, or arrived where they make no sense. */
  malformed: number;
  handlerErrors: number;
}

export class OpenFlowController {
  private server?: Server;
  private conn?: Socket;
  private ready = false;
  private waiters: Array<() => void> = [];
  private xid = 1;
  readonly stats: ControllerStats = { connections: 0, packetIns: 0, packetOuts: 0, malformed: 0, handlerErrors: 0 };

  constructor(
    readonly path: string,
    private readonly onPacketIn: PacketInHandler,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Starts listening (replacing a socket file a previous run left behind). */
  async listen(): Promise<void> {
    if (this.server) return;
    rmSync(this.path, { force: true });
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.warn('OpenFlow controller socket error', { path: this.path, error: String(err) }));
        resolve();
      });
    });
    server.unref();
  }

  /** True once a switch has finished the handshake on the current connection. */
  get connected(): boolean {
    return this.ready;
  }

  /** Resolves when a switch is connected and configured, or rejects after `timeoutMs`. */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new AntreaError('ERR_OPENFLOW_NOT_CONNECTED', `no switch connected to the OpenFlow controller at ${this.path} within ${timeoutMs} ms`, { component: 'openflow' }));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  /** Sends a PACKET_OUT on the live connection. */
  packetOut(p: Omit<PacketOut, 'xid'>): void {
    const c = this.conn;
    if (!c || !this.ready || c.destroyed) {
      throw new AntreaError('ERR_OPENFLOW_NOT_CONNECTED', `no switch is connected to the OpenFlow controller at ${this.path}`, { component: 'openflow' });
    }
    c.write(encodePacketOut({ ...p, xid: this.nextXid() }));
    this.stats.packetOuts++;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.ready = false;
    this.conn?.destroy();
    this.conn = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    rmSync(this.path, { force: true });
  }

  private nextXid(): number {
    const x = this.xid;
    this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1;
    return x;
  }

  private accept(sock: Socket): void {
    sock.unref();
    this.stats.connections++;
    // One switch per Node: a new connection (OVS reconnecting) replaces the old one.
    if (this.conn && this.conn !== sock) this.conn.destroy();
    this.conn = sock;
    this.ready = false;
    const framer = new MessageFramer();
    let helloSeen = false;
    sock.on('error', (err) => this.log.debug('OpenFlow connection error', { path: this.path, error: String(err) }));
    sock.on('close', () => {
      if (this.conn === sock) {
        this.conn = undefined;
        this.ready = false;
      }
    });
    sock.on('data', (chunk: Buffer) => {
      let msgs: OfpMessage[];
      try {
        msgs = framer.push(chunk);
      } catch (err) {
        this.stats.malformed++;
        this.log.warn('OpenFlow stream lost its framing; closing the connection (the switch reconnects)', { path: this.path, error: String(err) });
        sock.destroy();
        return;
      }
      for (const m of msgs) {
        try {
          if (m.type === OFPT.HELLO) {
            helloSeen = true;
            if (m.version < OFP_VERSION) {
              this.stats.malformed++;
              this.log.warn('the switch does not speak OpenFlow 1.5; closing', { path: this.path, version: m.version });
              sock.destroy();
              return;
            }
            sock.write(Buffer.concat([encodeFeaturesRequest(this.nextXid()), encodeSetConfig(this.nextXid())]));
          } else if (!helloSeen) {
            this.stats.malformed++;
            this.log.warn('OpenFlow message before HELLO skipped', { path: this.path, type: m.type });
          } else this.handle(sock, m);
        } catch (err) {
          this.stats.malformed++;
          this.log.warn('OpenFlow message skipped', { path: this.path, type: m.type, error: String(err) });
        }
      }
    });
    sock.write(encodeHello(this.nextXid()));
  }

  private handle(sock: Socket, m: OfpMessage): void {
    switch (m.type) {
      case OFPT.ECHO_REQUEST:
        sock.write(encodeEchoReply(m));
        return;
      case OFPT.FEATURES_REPLY:
        // SET_CONFIG went out right after the request; the reply is the sign the switch took the session.
        this.ready = true;
        for (const w of this.waiters.splice(0)) w();
        return;
      case OFPT.PACKET_IN: {
        const p = decodePacketIn(m);
        this.stats.packetIns++;
        Promise.resolve()
          .then(() => this.onPacketIn(p))
          .catch((err: unknown) => {
            this.stats.handlerErrors++;
            this.log.warn('packet-in handler failed', { path: this.path, table: p.tableId, error: String(err) });
          });
        return;
      }
      case OFPT.ERROR: {
        const type = m.body.length >= 4 ? m.body.readUInt16BE(0) : -1;
        const code = m.body.length >= 4 ? m.body.readUInt16BE(2) : -1;
        this.log.warn('the switch reported an OpenFlow error', { path: this.path, xid: m.xid, type, code });
        return;
      }
      default:
        // PORT_STATUS, ECHO_REPLY, ROLE_STATUS, ...: nothing a packet-in controller needs.
        this.log.debug('OpenFlow message ignored', { path: this.path, type: m.type });
    }
  }
}
