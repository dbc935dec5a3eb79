/**
 * Kubernetes' RangeAllocator, per Node: one CidrSet per cluster CIDR (one per IP family), Service ranges reserved,
 * and for each Node the subnets it holds, so a deleted Node gives back exactly what it had. Pure bookkeeping: the
 * controller decides when to call it and writes the results to the API.
 */
import { AntreaError, isAntreaError } from '../../util/errors.js';
import { formatCidr, parseCidr, type IpCidr } from '../../util/ip.js';
import { CidrSet } from './cidrset.js';

export interface NodeIpamSettings {
  clusterCIDRs: readonly string[];
  serviceCIDR?: string;
  serviceCIDRv6?: string;
  nodeCIDRMaskSizeIPv4: number;
  nodeCIDRMaskSizeIPv6: number;
}

interface Holding {
  set: CidrSet;
  indices: bigint[];
}

/** What `occupy` found about a Node's existing CIDRs. */
export interface OccupyOutcome {
  /** CIDRs outside every cluster CIDR: kept on the Node, not tracked. */
  outside: string[];
  /** CIDRs overlapping subnets another Node already holds. */
  conflicting: string[];
}

export interface AllocatorUsage {
  cidr: string;
  maskSize: number;
  capacity: string;
  used: number;
}

export class RangeAllocator {
  readonly sets: CidrSet[];
  readonly #byNode = new Map<string, { cidrs: string[]; holdings: Holding[] }>();

  constructor(settings: NodeIpamSettings) {
    this.sets = settings.clusterCIDRs.map((text, i) => {
      const cidr = parseCidr(text, `nodeIPAM.clusterCIDRs[${i}]`);
      return new CidrSet(cidr, cidr.family === 4 ? settings.nodeCIDRMaskSizeIPv4 : settings.nodeCIDRMaskSizeIPv6);
    });
    // Pod CIDRs must not overlap the Service range: subnets touching it are never handed out.
    for (const [text, field] of [[settings.serviceCIDR, 'serviceCIDR'], [settings.serviceCIDRv6, 'serviceCIDRv6']] as const) {
      if (!text) continue;
      const svc = parseCidr(text, `nodeIPAM.${field}`);
      for (const set of this.sets) set.reserve(svc);
    }
  }

  /** The CIDRs the allocator has recorded for a Node (written or about to be). */
  cidrsOf(node: string): string[] | undefined {
    return this.#byNode.get(node)?.cidrs;
  }

  nodes(): Map<string, string[]> {
    return new Map([...this.#byNode].map(([n, h]) => [n, [...h.cidrs]]));
  }

  /**
   * Records the CIDRs a Node already has (set by an earlier run, or by someone else). A Node recorded with other
   * CIDRs gives those back first. Idempotent.
   */
  occupy(node: string, cidrs: readonly string[]): OccupyOutcome {
    const outcome: OccupyOutcome = { outside: [], conflicting: [] };
    const current = this.#byNode.get(node);
    if (current && sameList(current.cidrs, cidrs)) return outcome;
    if (current) this.release(node);
    const holdings: Holding[] = [];
    for (const text of cidrs) {
      let cidr: IpCidr;
      try {
        cidr = parseCidr(text, 'spec.podCIDRs');
      } catch {
        outcome.outside.push(text);
        continue;
      }
      const set = this.sets.find((s) => s.contains(cidr));
      if (!set) {
        outcome.outside.push(text);
        continue;
      }
      const { indices, conflicts } = set.occupy(cidr);
      if (conflicts.length > 0) outcome.conflicting.push(text);
      holdings.push({ set, indices });
    }
    this.#byNode.set(node, { cidrs: [...cidrs], holdings });
    return outcome;
  }

  /**
   * One new CIDR per cluster CIDR for a Node, in the order of the cluster CIDRs (so the first matches
   * `spec.podCIDR`). A Node already recorded gets its recorded CIDRs back. All or nothing: when one family is
   * exhausted, nothing stays allocated and ERR_NODEIPAM_EXHAUSTED is thrown.
   */
  allocate(node: string): string[] {
    const recorded = this.#byNode.get(node);
    if (recorded) return [...recorded.cidrs];
    const holdings: Holding[] = [];
    const cidrs: string[] = [];
    try {
      for (const set of this.sets) {
        const { cidr, index } = set.allocate();
        holdings.push({ set, indices: [index] });
        cidrs.push(formatCidr(cidr));
      }
    } catch (err) {
      for (const h of holdings) for (const i of h.indices) h.set.release(i);
      if (isAntreaError(err, 'ERR_NODEIPAM_EXHAUSTED')) {
        throw new AntreaError('ERR_NODEIPAM_EXHAUSTED', `no Pod CIDR left for Node ${node}: ${err.message}`, { ...err.details, node });
      }
      throw err;
    }
    this.#byNode.set(node, { cidrs, holdings });
    return [...cidrs];
  }

  /** Gives back what a Node held; answers the CIDRs freed. */
  release(node: string): string[] {
    const held = this.#byNode.get(node);
    if (!held) return [];
    this.#byNode.delete(node);
    for (const h of held.holdings) for (const i of h.indices) h.set.release(i);
    return held.cidrs;
  }

  usage(): AllocatorUsage[] {
    return this.sets.map((s) => ({ cidr: formatCidr(s.cluster), maskSize: s.maskSize, capacity: s.capacity.toString(), used: s.used }));
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
