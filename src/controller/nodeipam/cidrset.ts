/**
 * One cluster CIDR cut into Node-sized subnets (Kubernetes' `cidrset.CidrSet`): subnet `i` is the `i`-th block of
 * `maskSize` bits inside the cluster CIDR. Allocation hands out the next free block after the last one given (so a
 * freed CIDR is not reused at once, as upstream); ranges that must never be handed out (a Service CIDR inside the
 * cluster CIDR) are reserved as whole ranges, so a large reservation costs nothing per block.
 */
import { AntreaError } from '../../util/errors.js';
import { cidrSize, formatCidr, type IpCidr } from '../../util/ip.js';

/** An inclusive range of subnet indices. */
interface IndexRange {
  first: bigint;
  last: bigint;
}

export class CidrSet {
  /** Number of Node subnets in the cluster CIDR. */
  readonly capacity: bigint;
  readonly #subnetSize: bigint;
  readonly #used = new Set<bigint>();
  readonly #reserved: IndexRange[] = [];
  #next = 0n;

  constructor(
    readonly cluster: IpCidr,
    readonly maskSize: number,
  ) {
    const bits = cluster.family === 4 ? 32 : 128;
    if (maskSize < cluster.prefix || maskSize > bits) {
      throw new AntreaError('ERR_INVALID_VALUE', `Node CIDR mask size /${maskSize} does not fit in cluster CIDR ${formatCidr(cluster)}`, { field: 'nodeIPAM' });
    }
    this.capacity = 1n << BigInt(maskSize - cluster.prefix);
    this.#subnetSize = 1n << BigInt(bits - maskSize);
  }

  get family(): 4 | 6 {
    return this.cluster.family;
  }

  /** Subnets handed out or occupied (reserved ranges not counted). */
  get used(): number {
    return this.#used.size;
  }

  /** The subnet indices `cidr` touches inside the cluster CIDR; undefined when it lies outside. */
  indicesOf(cidr: IpCidr): IndexRange | undefined {
    if (cidr.family !== this.cluster.family) return undefined;
    const lo = cidr.base > this.cluster.base ? cidr.base : this.cluster.base;
    const clusterEnd = this.cluster.base + cidrSize(this.cluster) - 1n;
    const cidrEnd = cidr.base + cidrSize(cidr) - 1n;
    const hi = cidrEnd < clusterEnd ? cidrEnd : clusterEnd;
    if (lo > hi) return undefined;
    return { first: (lo - this.cluster.base) / this.#subnetSize, last: (hi - this.cluster.base) / this.#subnetSize };
  }

  contains(cidr: IpCidr): boolean {
    return this.indicesOf(cidr) !== undefined;
  }

  /** Never hands out the subnets overlapping `cidr` (a Service CIDR). */
  reserve(cidr: IpCidr): boolean {
    const range = this.indicesOf(cidr);
    if (range) this.#reserved.push(range);
    return range !== undefined;
  }

  /**
   * Marks the subnets an existing Node CIDR covers as used; answers the indices marked (to free them later) and
   * those that were already used (a conflict the caller reports).
   */
  occupy(cidr: IpCidr): { indices: bigint[]; conflicts: bigint[] } {
    const range = this.indicesOf(cidr);
    const indices: bigint[] = [];
    const conflicts: bigint[] = [];
    if (!range) return { indices, conflicts };
    for (let i = range.first; i <= range.last; i++) {
      if (this.#used.has(i)) conflicts.push(i);
      else {
        this.#used.add(i);
        indices.push(i);
      }
    }
    return { indices, conflicts };
  }

  /** The next free subnet, marked used; throws ERR_NODEIPAM_EXHAUSTED when none is left. */
  allocate(): { cidr: IpCidr; index: bigint } {
    let i = this.#next;
    for (let scanned = 0n; scanned < this.capacity; ) {
      if (i >= this.capacity) i = 0n;
      const reserved = this.#reserved.find((r) => i >= r.first && i <= r.last);
      if (reserved) {
        // Skip the whole reserved range at once.
        const skip = reserved.last - i + 1n;
        scanned += skip;
        i = reserved.last + 1n;
        continue;
      }
      if (!this.#used.has(i)) {
        this.#used.add(i);
        this.#next = i + 1n;
        return { cidr: this.cidrAt(i), index: i };
      }
      i++;
      scanned++;
    }
    throw new AntreaError('ERR_NODEIPAM_EXHAUSTED', `cluster CIDR ${formatCidr(this.cluster)} has no free /${this.maskSize} left for a Node`, {
      field: 'nodeIPAM.clusterCIDRs',
    });
  }

  release(index: bigint): void {
    this.#used.delete(index);
  }

  cidrAt(index: bigint): IpCidr {
    return { family: this.cluster.family, base: this.cluster.base + index * this.#subnetSize, prefix: this.maskSize };
  }
}
