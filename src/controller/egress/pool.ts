/**
 * IP allocation from ExternalIPPools for Egresses that name a pool and no IP (Antrea's controller writes the IP it
 * picks to `spec.egressIP`). Per pool, the IPs held and by which Egress; rebuilt from the Egresses after a restart.
 */
import { poolRanges, type ExternalIPPool } from '../../apis/crd/egress.js';
import { AntreaError } from '../../util/errors.js';
import { formatIp, parseIp } from '../../util/ip.js';

export class PoolAllocator {
  /** pool → IP value → Egress name. */
  readonly #held = new Map<string, Map<bigint, string>>();

  #pool(name: string): Map<bigint, string> {
    let m = this.#held.get(name);
    if (!m) this.#held.set(name, (m = new Map()));
    return m;
  }

  /** Whether `ip` is inside the pool's ranges. */
  static contains(pool: ExternalIPPool, ip: string): boolean {
    const v = parseIp(ip);
    return poolRanges(pool).some((r) => r.family === v.family && v.value >= r.first && v.value <= r.last);
  }

  static total(pool: ExternalIPPool): number {
    return poolRanges(pool).reduce((n, r) => n + Number(r.last - r.first + 1n), 0);
  }

  used(pool: string): number {
    return this.#held.get(pool)?.size ?? 0;
  }

  /** Records an IP an Egress already has; false when another Egress holds it. */
  occupy(pool: string, ip: string, egress: string): boolean {
    const m = this.#pool(pool);
    const v = parseIp(ip).value;
    const owner = m.get(v);
    if (owner !== undefined && owner !== egress) return false;
    m.set(v, egress);
    return true;
  }

  /** The first free IP of the pool for `egress`; throws ERR_EGRESS_POOL_EXHAUSTED. */
  allocate(pool: ExternalIPPool, egress: string): string {
    const name = pool.metadata.name ?? '';
    const m = this.#pool(name);
    for (const [v, owner] of m) if (owner === egress) return formatIp({ family: parseFamily(pool, v), value: v });
    for (const r of poolRanges(pool)) {
      for (let v = r.first; v <= r.last; v++) {
        if (m.has(v)) continue;
        m.set(v, egress);
        return formatIp({ family: r.family, value: v });
      }
    }
    throw new AntreaError('ERR_EGRESS_POOL_EXHAUSTED', `ExternalIPPool ${name} has no free IP left for Egress ${egress}`, { field: 'spec.externalIPPool' });
  }

  /** Frees every IP `egress` holds (in any pool). */
  release(egress: string): void {
    for (const m of this.#held.values()) for (const [v, owner] of m) if (owner === egress) m.delete(v);
  }
}

function parseFamily(pool: ExternalIPPool, v: bigint): 4 | 6 {
  return poolRanges(pool).find((r) => v >= r.first && v <= r.last)?.family ?? (v > 0xffffffffn ? 6 : 4);
}
