/**
 * Pod IP allocation inside a Node's Pod CIDR(s), one address per IP family. The gateway takes the first host
 * address; the network address and, for IPv4, the broadcast address are never handed out. Allocation moves a cursor
 * forward (as host-local IPAM does) so a released address is reused as late as possible: a new Pod does not inherit
 * an old Pod's conntrack entries or stale peers' caches.
 *
 * The allocator holds no state of its own that could diverge from the API: after a restart the agent restores every
 * allocation from the Pods it finds before it hands out any address.
 */
import { AntreaError } from '../../util/errors.js';
import { cidrAddress, cidrContains, cidrSize, formatCidr, formatIp, parseIp, type IpAddress, type IpCidr } from '../../util/ip.js';

interface Pool {
  cidr: IpCidr;
  /** Offsets in use, mapped to their owner. */
  used: Map<bigint, string>;
  /** Lowest and highest offsets that may be handed to Pods. */
  first: bigint;
  last: bigint;
  cursor: bigint;
}

export interface RestoreConflict {
  ip: string;
  owner: string;
  heldBy: string;
}

export class PodIpAllocator {
  readonly #pools: Pool[];
  readonly #byOwner = new Map<string, IpAddress[]>();

  constructor(cidrs: readonly IpCidr[]) {
    if (cidrs.length === 0) throw new AntreaError('ERR_NO_POD_CIDR', 'the Node has no Pod CIDR to allocate from');
    const families = new Set(cidrs.map((c) => c.family));
    if (families.size !== cidrs.length) throw new AntreaError('ERR_INVALID_CIDR', 'at most one Pod CIDR per IP family');
    this.#pools = cidrs.map((cidr) => {
      const size = cidrSize(cidr);
      // Offset 0 is the network, 1 the gateway; IPv4 keeps its broadcast address out too.
      const last = cidr.family === 4 ? size - 2n : size - 1n;
      if (last < 2n) throw new AntreaError('ERR_INVALID_CIDR', `Pod CIDR ${formatCidr(cidr)} is too small for a gateway and Pods`);
      return { cidr, used: new Map(), first: 2n, last, cursor: 2n };
    });
  }

  /** The gateway address of each family: the first host address of the Pod CIDR. */
  gateways(): IpAddress[] {
    return this.#pools.map((p) => cidrAddress(p.cidr, 1n));
  }

  cidrs(): IpCidr[] {
    return this.#pools.map((p) => p.cidr);
  }

  /** Addresses of an owner, if it has any. */
  owned(owner: string): IpAddress[] | undefined {
    return this.#byOwner.get(owner);
  }

  /**
   * Records addresses found in the API for an owner. Addresses outside the Pod CIDRs are ignored (another IPAM gave
   * them); an address held by another owner is a conflict, reported and not recorded.
   */
  restore(owner: string, ips: readonly string[]): RestoreConflict[] {
    const conflicts: RestoreConflict[] = [];
    for (const text of ips) {
      const ip = parseIp(text, 'status.podIPs');
      const pool = this.#pools.find((p) => cidrContains(p.cidr, ip));
      if (!pool) continue;
      const offset = ip.value - pool.cidr.base;
      const holder = pool.used.get(offset);
      if (holder !== undefined && holder !== owner) {
        conflicts.push({ ip: text, owner, heldBy: holder });
        continue;
      }
      if (offset < pool.first || offset > pool.last) {
        conflicts.push({ ip: text, owner, heldBy: offset === 1n ? 'the gateway' : 'the network' });
        continue;
      }
      pool.used.set(offset, owner);
      const list = this.#byOwner.get(owner) ?? [];
      if (!list.some((a) => a.family === ip.family && a.value === ip.value)) list.push(ip);
      this.#byOwner.set(owner, list);
      // Continue after the highest restored address, so a restart does not rewind the cursor.
      if (offset >= pool.cursor) pool.cursor = offset + 1n > pool.last ? pool.first : offset + 1n;
    }
    return conflicts;
  }

  /** One address per family for the owner; the same ones again if it already has them. */
  allocate(owner: string): IpAddress[] {
    const existing = this.#byOwner.get(owner);
    const result: IpAddress[] = existing ? [...existing] : [];
    const taken: Array<[Pool, bigint]> = [];
    for (const pool of this.#pools) {
      if (result.some((a) => a.family === pool.cidr.family)) continue;
      const offset = this.#nextFree(pool);
      if (offset === undefined) {
        for (const [p, o] of taken) p.used.delete(o);
        throw new AntreaError('ERR_POD_CIDR_EXHAUSTED', `no free address left in Pod CIDR ${formatCidr(pool.cidr)} for ${owner}`);
      }
      pool.used.set(offset, owner);
      taken.push([pool, offset]);
      result.push(cidrAddress(pool.cidr, offset));
    }
    this.#byOwner.set(owner, result);
    return result;
  }

  /** Frees the owner's addresses; returns them (empty when it had none). */
  release(owner: string): IpAddress[] {
    const ips = this.#byOwner.get(owner) ?? [];
    for (const ip of ips) {
      const pool = this.#pools.find((p) => cidrContains(p.cidr, ip));
      if (pool && pool.used.get(ip.value - pool.cidr.base) === owner) pool.used.delete(ip.value - pool.cidr.base);
    }
    this.#byOwner.delete(owner);
    return ips;
  }

  /** Addresses in use per family, e.g. `{4: 12}`. */
  usage(): Record<number, { used: number; capacity: number }> {
    const out: Record<number, { used: number; capacity: number }> = {};
    for (const p of this.#pools) out[p.cidr.family] = { used: p.used.size, capacity: Number(p.last - p.first + 1n) };
    return out;
  }

  #nextFree(pool: Pool): bigint | undefined {
    const span = pool.last - pool.first + 1n;
    if (BigInt(pool.used.size) >= span) return undefined;
    let offset = pool.cursor;
    for (let i = 0n; i < span; i++) {
      if (!pool.used.has(offset)) {
        pool.cursor = offset + 1n > pool.last ? pool.first : offset + 1n;
        return offset;
      }
      offset = offset + 1n > pool.last ? pool.first : offset + 1n;
    }
    return undefined;
  }
}

export function formatIps(ips: readonly IpAddress[]): string[] {
  return ips.map(formatIp);
}
