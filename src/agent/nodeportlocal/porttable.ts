/**
 * NodePortLocal's port table (Antrea 1.5's `portcache.PortTable`): which Node port maps to which Pod IP and port,
 * for which protocols. One Node port serves a (Pod IP, Pod port) for TCP and UDP alike, so the same key always
 * gets the same Node port back, whatever protocol asks. Allocation scans round-robin from where the last one
 * stopped, wrapping around the range, and skips ports the host holds (`isPortFree`, Antrea's socket probe).
 *
 * Each entry records the Pod (`owner`) it was made for: when a Pod's IP is given to a new Pod before the old Pod's
 * removal ran, the new Pod takes the entry over and the old Pod's removal leaves it alone.
 */
import { AntreaError } from '../../util/errors.js';
import type { NplProtocol } from './annotation.js';

export interface PortRange {
  start: number;
  end: number;
}

export interface PortTableEntry {
  nodePort: number;
  podIP: string;
  podPort: number;
  protocols: NplProtocol[];
  /** The Pod (`namespace/name`) the mapping is for. */
  owner: string;
}

export interface PortTableOptions {
  /** False when something on the host already holds the port (Antrea opens a TCP and a UDP socket to find out). */
  isPortFree?: (port: number) => boolean;
}

export interface RestoreConflict {
  nodePort: number;
  owner: string;
  reason: string;
}

interface Entry {
  nodePort: number;
  podIP: string;
  podPort: number;
  protocols: Set<NplProtocol>;
  owner: string;
}

const podKey = (podIP: string, podPort: number) => `${podIP}:${podPort}`;

export class PortTable {
  private readonly byNodePort = new Map<number, Entry>();
  private readonly byPod = new Map<string, Entry>();
  private readonly byOwner = new Map<string, Set<Entry>>();
  private searchStart: number;
  private readonly isPortFree: (port: number) => boolean;

  constructor(
    readonly range: PortRange,
    opts: PortTableOptions = {},
  ) {
    if (!Number.isInteger(range.start) || !Number.isInteger(range.end) || range.start < 1 || range.end > 65535 || range.end <= range.start) {
      throw new AntreaError('ERR_INVALID_VALUE', `NodePortLocal port range ${range.start}-${range.end} is not valid`, { field: 'nodePortLocal.portRange' });
    }
    this.searchStart = range.start;
    this.isPortFree = opts.isPortFree ?? (() => true);
  }

  get capacity(): number {
    return this.range.end - this.range.start + 1;
  }

  get size(): number {
    return this.byNodePort.size;
  }

  inRange(port: number): boolean {
    return port >= this.range.start && port <= this.range.end;
  }

  /** The Node port mapped to (podIP, podPort) for `protocol` (any protocol when omitted). */
  find(podIP: string, podPort: number, protocol?: NplProtocol): number | undefined {
    const e = this.byPod.get(podKey(podIP, podPort));
    if (!e || (protocol && !e.protocols.has(protocol))) return undefined;
    return e.nodePort;
  }

  /** Whether the Node port is mapped for `protocol`. */
  holds(nodePort: number, protocol: NplProtocol): boolean {
    return this.byNodePort.get(nodePort)?.protocols.has(protocol) ?? false;
  }

  /**
   * Maps (podIP, podPort, protocol) for `owner` and returns its Node port: the one (podIP, podPort) already has,
   * else a free one. `added` says whether the protocol mapping is new. Throws ERR_NPL_NO_FREE_PORT when the range
   * is used up.
   */
  add(owner: string, podIP: string, podPort: number, protocol: NplProtocol): { nodePort: number; added: boolean } {
    const existing = this.byPod.get(podKey(podIP, podPort));
    if (existing) {
      this.setOwner(existing, owner);
      const added = !existing.protocols.has(protocol);
      existing.protocols.add(protocol);
      return { nodePort: existing.nodePort, added };
    }
    const nodePort = this.freePort();
    if (nodePort === undefined) {
      throw new AntreaError(
        'ERR_NPL_NO_FREE_PORT',
        `no free port found: every Node port of the NodePortLocal range ${this.range.start}-${this.range.end} is in use (${owner} needs one for ${podIP}:${podPort}/${protocol})`,
        { field: 'nodePortLocal.portRange', pod: owner },
      );
    }
    this.insert({ nodePort, podIP, podPort, protocols: new Set([protocol]), owner });
    return { nodePort, added: true };
  }

  /** Unmaps one protocol; the Node port is freed with its last protocol. Returns the Node port it had. */
  remove(podIP: string, podPort: number, protocol: NplProtocol): number | undefined {
    const e = this.byPod.get(podKey(podIP, podPort));
    if (!e || !e.protocols.delete(protocol)) return undefined;
    if (e.protocols.size === 0) {
      this.byPod.delete(podKey(podIP, podPort));
      this.byNodePort.delete(e.nodePort);
      this.unindexOwner(e);
    }
    return e.nodePort;
  }

  /** The entries made for one Pod. */
  entriesOf(owner: string): PortTableEntry[] {
    return [...(this.byOwner.get(owner) ?? [])].sort((a, b) => a.nodePort - b.nodePort).map(toPublic);
  }

  /** Every entry, by Node port. */
  list(): PortTableEntry[] {
    return [...this.byNodePort.values()].sort((a, b) => a.nodePort - b.nodePort).map(toPublic);
  }

  /**
   * Records a mapping found after a restart (in a Pod annotation), before anything is allocated. Refuses, and
   * says why, a Node port outside the range or already held, and a (podIP, podPort) that already has another port.
   */
  restore(owner: string, podIP: string, podPort: number, nodePort: number, protocols: readonly NplProtocol[]): RestoreConflict | undefined {
    if (!this.inRange(nodePort)) return { nodePort, owner, reason: `Node port ${nodePort} is outside the range ${this.range.start}-${this.range.end}` };
    const held = this.byNodePort.get(nodePort);
    if (held && (held.podIP !== podIP || held.podPort !== podPort)) {
      return { nodePort, owner, reason: `Node port ${nodePort} is already mapped to ${held.podIP}:${held.podPort} for ${held.owner}` };
    }
    const other = this.byPod.get(podKey(podIP, podPort));
    if (other && other.nodePort !== nodePort) {
      return { nodePort, owner, reason: `${podIP}:${podPort} already has Node port ${other.nodePort}` };
    }
    if (held) {
      for (const p of protocols) held.protocols.add(p);
      return undefined;
    }
    this.insert({ nodePort, podIP, podPort, protocols: new Set(protocols), owner });
    return undefined;
  }

  private insert(e: Entry): void {
    this.byNodePort.set(e.nodePort, e);
    this.byPod.set(podKey(e.podIP, e.podPort), e);
    this.indexOwner(e);
  }

  private setOwner(e: Entry, owner: string): void {
    if (e.owner === owner) return;
    this.unindexOwner(e);
    e.owner = owner;
    this.indexOwner(e);
  }

  private indexOwner(e: Entry): void {
    let set = this.byOwner.get(e.owner);
    if (!set) this.byOwner.set(e.owner, (set = new Set()));
    set.add(e);
  }

  private unindexOwner(e: Entry): void {
    const set = this.byOwner.get(e.owner);
    set?.delete(e);
    if (set?.size === 0) this.byOwner.delete(e.owner);
  }

  private freePort(): number | undefined {
    const n = this.capacity;
    for (let i = 0; i < n; i++) {
      let port = this.searchStart + i;
      if (port > this.range.end) port -= n;
      if (this.byNodePort.has(port) || !this.isPortFree(port)) continue;
      this.searchStart = port + 1 > this.range.end ? this.range.start : port + 1;
      return port;
    }
    return undefined;
  }
}

function toPublic(e: Entry): PortTableEntry {
  return { nodePort: e.nodePort, podIP: e.podIP, podPort: e.podPort, protocols: [...e.protocols].sort(), owner: e.owner };
}
