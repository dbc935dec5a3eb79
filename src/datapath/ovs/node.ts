/**
 * OvsNode: the `Datapath` of one Node on a real Open vSwitch. It compiles desired state with the same
 * PipelineCompiler as the simulator and pushes each FlowDiff as OpenFlow 1.5 bundles (see ofctl.ts); it plumbs the
 * Node's host network (hostnet.ts) and each Pod's namespace and veth as the PodInterface says.
 *
 * Restart: `OvsNode.open(..., { resync: true })` over a bridge that already holds flows snapshots what OVS holds
 * (dump-flows with cookies, dump-groups). Until `finishResync()`, pushes skip flows and groups OVS already holds
 * identically, so re-publishing the desired state touches nothing that is already right, and established
 * connections keep their flows and conntrack entries; `finishResync()` then deletes what OVS holds and the desired
 * state does not (stale flows of the previous run). This is Antrea's round-based reconciliation, by identity.
 */
import { join } from 'node:path';
import { CompiledDatapath } from '../compiled.js';
import type { DesiredStateChange, FlowDiff, NodeConfig, ServiceFrontend } from '../types.js';
import { podKey, serviceKey } from '../types.js';
import type { Flow, Group } from '../pipeline/flow.js';
import { PipelineCompiler, emptyDiff } from '../pipeline/compiler.js';
import { flowIdentity, renderActions, renderGroup } from '../pipeline/render.js';
import { AntreaError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { OvsInstance } from './daemons.js';
import { flowBundle, groupBundle, groupRemoveBundle, parseDumpFlows, parseDumpGroups, parseGroupStats, type DumpedFlow, type GroupStats } from './ofctl.js';
import { HostNetwork, type UnderlayPlan } from './hostnet.js';
import { HostNat, type NatChange } from './hostnat.js';
import { EgressAddresses } from './egressip.js';
import { OpenFlowController } from './packetin.js';
import { Rejecter, type RejectRecord } from './rejecter.js';
import { Samplers } from './sampler.js';

export const BRIDGE = 'br-int';
/** How long open() waits for ovs-vswitchd to connect to the Node's OpenFlow controller. */
const CONTROLLER_CONNECT_MS = 5000;

export interface OvsNodeOptions {
  /** The Node's network namespace (created by the caller). */
  netns: string;
  /** Private OVS run/db/log directory. */
  dir: string;
  underlay: UnderlayPlan;
  resync?: boolean;
  logger?: Logger;
}

export class OvsNode extends CompiledDatapath {
  readonly ovs: OvsInstance;
  readonly compiler: PipelineCompiler;
  readonly host: HostNetwork;
  /** Host rules in nftables (NodePortLocal, Egress SNAT, masquerade): not OVS flows, so not the compiler's. */
  readonly nat: HostNat;
  /** The Egress IPs this Node holds, as host addresses (Antrea's antrea-egress0). */
  readonly egressIPs: EgressAddresses;
  private readonly log: Logger;
  /** Groups as installed, for bucket-level patches. */
  private readonly groups = new Map<number, Group>();
  /** Flows as installed, by identity (for modify-vs-readd on a cookie change). */
  private readonly flowsById = new Map<string, Flow>();
  private snapshot?: { flows: Map<string, DumpedFlow>; groups: Map<number, string>; kept: Set<string>; keptGroups: Set<number> };
  /** Lines sent to OVS so far (flow and group bundles): what a restart re-applied, for tests and logs. */
  readonly pushed = { flowLines: 0, groupLines: 0 };
  /** Serialises pushes: a diff lands completely before the next one starts. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The Node's OpenFlow controller endpoint (packet-ins), and the Reject answers it sends. */
  readonly controller: OpenFlowController;
  private readonly rejecter: Rejecter;
  /** Live-traffic Traceflow sampling flows and their packet-ins. */
  readonly samplers: Samplers;

  private constructor(readonly nodeName: string, private readonly opts: OvsNodeOptions) {
    super();
    this.ovs = new OvsInstance(opts.netns, opts.dir);
    this.compiler = new PipelineCompiler({ logger: opts.logger ?? silentLogger });
    this.log = opts.logger ?? silentLogger;
    this.host = new HostNetwork(this.ovs, opts.netns, opts.underlay, this.log);
    this.nat = new HostNat(opts.netns);
    this.egressIPs = new EgressAddresses(this.ovs, opts.netns, this.log);
    this.rejecter = new Rejecter((p) => this.controller.packetOut(p), {
      gatewayMAC: () => this.compiler.nodeConfig?.gatewayMAC,
      podMAC: (ofPort) => [...this.compiler.podsByKey().values()].find((pod) => pod.ofPort === ofPort)?.mac,
    }, this.log);
    this.samplers = new Samplers(this.ovs, BRIDGE, this.log);
    // A sampling flow's packet-ins (known by their cookie) are Traceflow's; every other one may be a Reject.
    this.controller = new OpenFlowController(join(opts.dir, 'controller.sock'), (p) => {
      if (!this.samplers.handle(p)) this.rejecter.handle(p);
    }, this.log);
  }

  /** Starts (or attaches to) the Node's OVS; with `resync`, snapshots what the bridge holds. */
  static async open(nodeName: string, opts: OvsNodeOptions): Promise<OvsNode> {
    const n = new OvsNode(nodeName, opts);
    await n.ovs.start();
    await n.host.ensureBridge(BRIDGE);
    // Sampling flows live only as long as the agent that asked for them: a previous run's are stale (and would
    // otherwise land in the resync snapshot as flows of unknown origin).
    await n.samplers.removeAll();
    await n.connectController();
    if (opts.resync) {
      await n.takeSnapshot();
      await n.nat.takeSnapshot();
      await n.egressIPs.takeSnapshot();
    }
    return n;
  }

  /**
   * Points br-int at this Node's controller socket. fail_mode=secure stays, so the flows keep working while no
   * controller is connected (a restart); out-of-band because the socket is not reached through the bridge; the rate
   * limit is Antrea's packet-in meter (100 pkt/s, burst 200); a short max_backoff so a restarted agent is found fast.
   */
  private async connectController(): Promise<void> {
    await this.controller.listen();
    await this.ovs.vsctl(['set-controller', BRIDGE, `unix:${this.controller.path}`, '--', 'set', 'controller', BRIDGE,
      'connection-mode=out-of-band', 'controller_rate_limit=100', 'controller_burst_limit=200', 'max_backoff=1000']);
    try {
      await this.controller.waitConnected(CONTROLLER_CONNECT_MS);
    } catch (err) {
      // Flows work without it; only Reject answers wait for the switch to connect.
      this.log.warn('OVS has not connected to the OpenFlow controller yet; Reject answers wait for it', { error: String(err) });
    }
  }

  /** Reject answers this Node sent since `since` (ms since the epoch). */
  rejects(since = 0): RejectRecord[] {
    return this.rejecter.recent(since);
  }

  /** Lets go of the Node's controller socket without touching OVS (another OvsNode takes over, as after a restart). */
  async detach(): Promise<void> {
    await this.controller.close();
  }

  private async takeSnapshot(): Promise<void> {
    const flows = new Map<string, DumpedFlow>();
    for (const f of parseDumpFlows((await this.ovs.ofctlPlain('dump-flows', BRIDGE)).stdout)) flows.set(f.identity, f);
    const groups = new Map<number, string>();
    for (const [id, g] of parseDumpGroups((await this.ovs.ofctlPlain('dump-groups', BRIDGE)).stdout)) {
      // Buckets in id order: after insert_bucket patches OVS lists them in its own order, which selects the same
      // (a select group scores buckets by id), so the order must not make a restart rewrite the group.
      const buckets = [...g.buckets].sort(([a], [b]) => a - b).map(([, text]) => text);
      groups.set(id, `group_id=${id},type=${g.type},${buckets.join(',')}`);
    }
    this.snapshot = { flows, groups, kept: new Set(), keptGroups: new Set() };
  }

  get config(): NodeConfig {
    const c = this.compiler.nodeConfig;
    if (!c) throw new AntreaError('ERR_DATAPATH_NO_NODE_CONFIG', `Node ${this.nodeName} has no node config yet`);
    return c;
  }

  get netns(): string {
    return this.opts.netns;
  }

  async setNodeConfig(cfg: NodeConfig): Promise<FlowDiff> {
    if (cfg.nodeName !== this.nodeName) throw new AntreaError('ERR_DATAPATH_INVALID', `node config for ${cfg.nodeName} given to Node ${this.nodeName}`, { field: 'nodeName' });
    await this.host.configure(cfg);
    const diff = this.compiler.setNodeConfig(cfg);
    await this.push(diff);
    return diff;
  }

  /** Service frontends as applied (the traffic layer opens listeners on their Endpoints). */
  readonly services = new Map<string, ServiceFrontend>();

  async apply(all: readonly DesiredStateChange[]): Promise<FlowDiff> {
    // Host rules go to nftables in one transaction; everything else is compiled into flows.
    const natChanges = all.flatMap((ch): NatChange[] => {
      if (ch.kind === 'hostNat') return [ch.op === 'upsert' ? { op: 'upsert' as const, rule: ch.rule } : { op: 'remove' as const, kind: 'hostNat' as const, key: ch.key }];
      if (ch.kind === 'nodePortLocal') return [ch.op === 'upsert' ? { op: 'upsert' as const, mapping: ch.mapping } : { op: 'remove' as const, kind: 'nodePortLocal' as const, key: ch.key }];
      return [];
    });
    await this.nat.apply(natChanges);
    const changes = all.filter((ch) => ch.kind !== 'hostNat' && ch.kind !== 'nodePortLocal');
    if (changes.length === 0) return emptyDiff();
    for (const ch of changes) {
      if (ch.kind !== 'service') continue;
      if (ch.op === 'upsert') this.services.set(serviceKey(ch.service), ch.service);
      else this.services.delete(ch.key);
    }
    let diff: FlowDiff;
    let error: unknown;
    try {
      diff = this.compiler.apply(changes);
    } catch (err) {
      diff = (err instanceof AntreaError ? (err.details.appliedDiff as FlowDiff | undefined) : undefined) ?? emptyDiff();
      error = err;
    }
    // Plumb Pods and peers before their flows land, unplug after: a flow never points at a port being built.
    await this.plumb(changes, 'up');
    await this.push(diff);
    await this.plumb(changes, 'down');
    if (changes.some((ch) => ch.kind === 'egress')) await this.egressIPs.sync(this.heldEgressIPs(), this.config.nodeIP);
    if (error) throw error;
    return diff;
  }

  private async plumb(changes: readonly DesiredStateChange[], phase: 'up' | 'down'): Promise<void> {
    const pods = this.compiler.podsByKey();
    const peers = this.compiler.peersByName();
    for (const ch of changes) {
      if (ch.kind === 'pod') {
        const key = ch.op === 'upsert' ? podKey(ch.pod) : ch.key;
        const want = pods.get(key);
        if (phase === 'up' && want) await this.host.plugPod(want);
        if (phase === 'down' && !want) await this.host.unplugPod(key);
      } else if (ch.kind === 'peerNode') {
        const name = ch.op === 'upsert' ? ch.peer.nodeName : ch.key;
        const want = peers.get(name);
        if (phase === 'up' && want) await this.host.addPeer(want);
        if (phase === 'down' && !want) await this.host.removePeer(name);
      }
    }
  }

  /** Pushes one diff: group adds/mods bundle, flow bundle, group removals bundle. */
  private push(diff: FlowDiff): Promise<void> {
    const next = this.queue.then(() => this.pushNow(diff));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async pushNow(diff: FlowDiff): Promise<void> {
    const snap = this.snapshot;
    const addGroups: Group[] = [];
    const modGroups: Array<[Group | undefined, Group]> = [];
    for (const g of diff.addedGroups) {
      const held = snap?.groups.get(g.id);
      if (held === undefined) addGroups.push(g);
      else {
        snap?.keptGroups.add(g.id);
        if (held !== renderGroup({ ...g, buckets: [...g.buckets].sort((a, b) => a.id - b.id) })) modGroups.push([undefined, g]);
      }
    }
    for (const g of diff.modifiedGroups) modGroups.push([this.groups.get(g.id), g]);
    const addFlows: Flow[] = [];
    const modFlows: Array<[Flow | undefined, Flow]> = [];
    for (const f of diff.added) {
      const id = flowIdentity(f);
      const held = snap?.flows.get(id);
      if (!held) addFlows.push(f);
      else {
        snap?.kept.add(id);
        if (held.cookie !== f.cookie || held.actions !== renderActions(f.actions)) modFlows.push([undefined, f]);
      }
    }
    for (const f of diff.modified) modFlows.push([this.flowsById.get(flowIdentity(f)), f]);
    const gAdd = groupBundle({ add: addGroups, modify: modGroups }, diff.groupBuckets);
    const count = (text: string) => (text ? text.split('\n').length - 1 : 0);
    this.pushed.groupLines += count(gAdd);
    if (gAdd) await this.ovs.ofctl('add-groups', BRIDGE, ['-'], { input: gAdd });
    const fb = flowBundle({ add: addFlows, modify: modFlows, remove: diff.removed });
    this.pushed.flowLines += count(fb);
    if (fb) await this.ovs.ofctl('add-flows', BRIDGE, ['-'], { input: fb });
    const gDel = groupRemoveBundle(diff.removedGroups);
    this.pushed.groupLines += count(gDel);
    if (gDel) await this.ovs.ofctl('add-groups', BRIDGE, ['-'], { input: gDel });
    for (const f of [...diff.added, ...diff.modified]) this.flowsById.set(flowIdentity(f), f);
    for (const f of diff.removed) this.flowsById.delete(flowIdentity(f));
    for (const g of [...diff.addedGroups, ...diff.modifiedGroups]) this.groups.set(g.id, g);
    for (const g of diff.removedGroups) this.groups.delete(g.id);
  }

  /**
   * Ends a resync: deletes the flows and groups OVS held at open() that the desired state no longer has. Returns
   * how many flows were deleted.
   */
  async finishResync(): Promise<{ removedFlows: number; removedGroups: number; removedNatElements: number }> {
    const removedNatElements = await this.nat.finishResync();
    await this.egressIPs.finishResync(this.heldEgressIPs(), this.config.nodeIP);
    const snap = this.snapshot;
    if (!snap) return { removedFlows: 0, removedGroups: 0, removedNatElements };
    this.snapshot = undefined;
    const stale = [...snap.flows.values()].filter((f) => !snap.kept.has(f.identity) && !this.flowsById.has(f.identity));
    const staleGroups = [...snap.groups.keys()].filter((id) => !snap.keptGroups.has(id) && !this.groups.has(id));
    const lines = stale.map((f) => `delete_strict table=${f.table},priority=${f.priority}${f.match ? `,${f.match}` : ''}`);
    if (lines.length) await this.ovs.ofctl('add-flows', BRIDGE, ['-'], { input: `${lines.join('\n')}\n` });
    if (staleGroups.length) await this.ovs.ofctl('add-groups', BRIDGE, ['-'], { input: `${staleGroups.map((id) => `delete group_id=${id}`).join('\n')}\n` });
    return { removedFlows: stale.length, removedGroups: staleGroups.length, removedNatElements };
  }

  /** The Egress IPs applied with a SNAT mark: those this Node holds. */
  private heldEgressIPs(): string[] {
    return [...this.compiler.egressesByIP().values()].filter((e) => e.mark !== undefined).map((e) => e.egressIP);
  }

  /** What OVS holds, with counters. */
  async dumpOvsFlows(): Promise<DumpedFlow[]> {
    return parseDumpFlows((await this.ovs.ofctlPlain('dump-flows', BRIDGE)).stdout);
  }

  async groupStats(): Promise<GroupStats[]> {
    return parseGroupStats((await this.ovs.ofctlPlain('dump-group-stats', BRIDGE)).stdout);
  }

  /** Stops this Node's OVS daemons (the namespaces are the cluster's). */
  async stop(): Promise<void> {
    await this.controller.close();
    await this.ovs.stop();
  }
}
