/**
 * One simulated Node: the `Datapath` implementation (compiler + software bridge), the Pods' network stacks attached
 * to their OF ports, and the Node's host network stack behind antrea-gw0 (routes to peer Pod CIDRs through gw0 in
 * encap, over the underlay in noEncap; neighbour resolution by real ARP through the pipeline).
 */
import { CompiledDatapath } from '../compiled.js';
import { StableMap } from '../stable-map.js';
import type { DesiredStateChange, FlowDiff, NodeConfig, PodInterface } from '../types.js';
import { podKey } from '../types.js';
import { PipelineCompiler, type CompilerOptions } from '../pipeline/compiler.js';
import { GATEWAY_OFPORT, TUNNEL_OFPORT } from '../pipeline/fields.js';
import { peerGatewayIP } from '../pipeline/stages/peer.js';
import { AntreaError } from '../../util/errors.js';
import { SimBridge } from './bridge.js';
import { HostNat } from './hostnat.js';
import type { Clock } from './clock.js';
import { cidrContains, parseCidr, parseIpv4, parseMac, type Cidr, type Ipv4, type Mac } from '../net/addr.js';

export interface PodStack {
  key: string;
  ofPort: number;
  ip: Ipv4;
  ips: Ipv4[];
  ipsText: string;
  mac: Mac;
  neighbors: Map<Ipv4, Mac>;
}

export interface HostRoute {
  cidr: Cidr;
  /** 'gw' = out antrea-gw0 (onlink via the peer gateway in encap); 'underlay' = to nextHop over the Node network. */
  via: 'gw' | 'underlay';
  nextHop: Ipv4;
}

export class SimNode extends CompiledDatapath {
  readonly bridge: SimBridge;
  readonly compiler: PipelineCompiler;
  /** Host-side NAT (NodePortLocal, SNAT/DNAT/Masquerade rules), outside OVS as in Antrea. */
  readonly hostNat: HostNat;
  readonly pods = new StableMap<string, PodStack>();
  readonly podsByPort = new StableMap<number, PodStack>();
  readonly podsByIp = new StableMap<Ipv4, PodStack>();
  /** The host's neighbour cache on antrea-gw0. */
  readonly hostNeighbors = new Map<Ipv4, Mac>();
  private routeCache?: HostRoute[];
  private cfgParsed?: { nodeIP: Ipv4; gwIP: Ipv4; gwMAC: Mac; podCIDR: Cidr; encap: boolean; serviceCIDR?: Cidr };

  constructor(
    readonly nodeName: string,
    clock: Clock,
    opts: CompilerOptions = {},
  ) {
    super();
    this.bridge = new SimBridge(nodeName, clock);
    this.compiler = new PipelineCompiler(opts);
    this.hostNat = new HostNat(clock);
  }

  get config(): NodeConfig {
    const c = this.compiler.nodeConfig;
    if (!c) throw new AntreaError('ERR_DATAPATH_NO_NODE_CONFIG', `Node ${this.nodeName} has no node config yet`);
    return c;
  }

  get parsed(): { nodeIP: Ipv4; gwIP: Ipv4; gwMAC: Mac; podCIDR: Cidr; encap: boolean; serviceCIDR?: Cidr } {
    if (!this.cfgParsed) throw new AntreaError('ERR_DATAPATH_NO_NODE_CONFIG', `Node ${this.nodeName} has no node config yet`);
    return this.cfgParsed;
  }

  async setNodeConfig(cfg: NodeConfig): Promise<FlowDiff> {
    if (cfg.nodeName !== this.nodeName) {
      throw new AntreaError('ERR_DATAPATH_INVALID', `node config for ${cfg.nodeName} given to Node ${this.nodeName}`, { field: 'nodeName' });
    }
    const diff = this.compiler.setNodeConfig(cfg);
    this.routeCache = undefined;
    this.bridge.applyDiff(diff);
    this.cfgParsed = {
      nodeIP: parseIpv4(cfg.nodeIP),
      gwIP: parseIpv4(cfg.gatewayIP),
      gwMAC: parseMac(cfg.gatewayMAC),
      podCIDR: parseCidr(cfg.podCIDR),
      encap: cfg.trafficEncapMode === 'encap',
      ...(cfg.serviceCIDR ? { serviceCIDR: parseCidr(cfg.serviceCIDR) } : {}),
    };
    this.bridge.attachPort(GATEWAY_OFPORT, { name: 'antrea-gw0', kind: 'gateway' });
    if (this.cfgParsed.encap) this.bridge.attachPort(TUNNEL_OFPORT, { name: 'antrea-tun0', kind: 'tunnel' });
    else this.bridge.detachPort(TUNNEL_OFPORT);
    return diff;
  }

  async apply(all: readonly DesiredStateChange[]): Promise<FlowDiff> {
    if (all.some((c) => c.kind === 'peerNode')) this.routeCache = undefined;
    // Host rules live in the host's netfilter, not in OVS: they produce no flows.
    const changes: DesiredStateChange[] = [];
    for (const ch of all) {
      if (ch.kind === 'hostNat') {
        if (ch.op === 'upsert') this.hostNat.upsertRule(ch.rule);
        else this.hostNat.removeRule(ch.key);
      } else if (ch.kind === 'nodePortLocal') {
        if (ch.op === 'upsert') this.hostNat.upsertNodePortLocal(ch.mapping);
        else this.hostNat.removeNodePortLocal(ch.key);
      } else changes.push(ch);
    }
    let diff: FlowDiff;
    try {
      diff = this.compiler.apply(changes);
    } catch (err) {
      const partial = err instanceof AntreaError ? (err.details.appliedDiff as FlowDiff | undefined) : undefined;
      if (partial) {
        this.bridge.applyDiff(partial);
        this.syncPods(changes);
      }
      throw err;
    }
    this.bridge.applyDiff(diff);
    this.syncPods(changes);
    return diff;
  }

  /** Attaches and detaches the changed Pods' stacks to match the compiler (the CNI's veth add/del). */
  private syncPods(changes: readonly DesiredStateChange[]): void {
    const want = this.compiler.podsByKey();
    for (const ch of changes) {
      if (ch.kind !== 'pod') continue;
      const key = ch.op === 'upsert' ? podKey(ch.pod) : ch.key;
      const p = want.get(key);
      const stack = this.pods.get(key);
      if (stack && (!p || p.ofPort !== stack.ofPort || parseMac(p.mac) !== stack.mac || p.ips.join() !== stack.ipsText)) {
        this.bridge.detachPort(stack.ofPort);
        this.podsByPort.delete(stack.ofPort);
        for (const ip of stack.ips) if (this.podsByIp.get(ip) === stack) this.podsByIp.delete(ip);
        this.pods.delete(key);
      }
      if (p && !this.pods.has(key)) this.attachPod(p);
    }
  }

  private attachPod(p: PodInterface): void {
    const ips = p.ips.map(parseIpv4);
    const stack: PodStack = { key: podKey(p), ofPort: p.ofPort, ip: ips[0] as Ipv4, ips, ipsText: p.ips.join(), mac: parseMac(p.mac), neighbors: new Map() };
    this.pods.set(stack.key, stack);
    this.podsByPort.set(p.ofPort, stack);
    for (const ip of ips) this.podsByIp.set(ip, stack);
    this.bridge.attachPort(p.ofPort, { name: p.interfaceName, kind: 'pod' });
  }

  /**
   * Per-rule metrics as Antrea's agent reads them for NetworkPolicyStats: the priority-200 flows of EgressMetric and
   * IngressMetric. For an allow rule the `+new` flow counts sessions and both flows together count packets and bytes;
   * a deny rule has one flow whose packets are sessions.
   */
  ruleMetrics(): Map<number, { sessions: number; packets: number; bytes: number }> {
    const out = new Map<number, { sessions: number; packets: number; bytes: number }>();
    for (const { flow, packets, bytes } of this.bridge.flowStats()) {
      if ((flow.table !== 61 && flow.table !== 101) || flow.priority !== 200) continue;
      const label = flow.match.find((m) => m.field === 'ct_label');
      const reg3 = flow.match.find((m) => m.field === 'reg3');
      const state = flow.match.find((m) => m.field === 'ct_state');
      let id: number;
      let isSession: boolean;
      if (label) {
        id = Number((label.value >> (flow.table === 61 ? 32n : 0n)) & 0xffffffffn);
        isSession = state !== undefined && (state.value & 1n) === 1n;
      } else if (reg3) {
        id = Number(reg3.value);
        isSession = true;
      } else continue;
      const e = out.get(id) ?? { sessions: 0, packets: 0, bytes: 0 };
      if (isSession) e.sessions += packets;
      e.packets += packets;
      e.bytes += bytes;
      out.set(id, e);
    }
    return out;
  }

  /** The host's routing table, derived from the peer Nodes (what Antrea's route client installs). */
  routes(): HostRoute[] {
    if (this.routeCache) return this.routeCache;
    const { podCIDR, gwIP, encap } = this.parsed;
    const out: HostRoute[] = [{ cidr: podCIDR, via: 'gw', nextHop: gwIP }];
    for (const peer of this.compiler.peersByName().values()) {
      out.push(
        encap
          ? { cidr: parseCidr(peer.podCIDR), via: 'gw', nextHop: parseIpv4(peerGatewayIP(peer)) }
          : { cidr: parseCidr(peer.podCIDR), via: 'underlay', nextHop: parseIpv4(peer.nodeIP) },
      );
    }
    this.routeCache = out;
    return out;
  }

  route(dst: Ipv4): HostRoute | undefined {
    let best: HostRoute | undefined;
    for (const r of this.routes()) if (cidrContains(r.cidr, dst) && (!best || r.cidr.prefix > best.cidr.prefix)) best = r;
    return best;
  }

  podByIp(ip: Ipv4): PodStack | undefined {
    return this.podsByIp.get(ip);
  }
}
