/**
 * The incremental pipeline compiler. It keeps, per desired-state object, the flows and groups that object owns
 * (keyed `kind/key`, with a cookie made of the round, the object's category and a deterministic object id), and
 * turns each change into a diff of OVS flows (by identity: table, priority, match) and groups (by id).
 *
 * Work per change is proportional to the changed object's flows: a Pod upsert recompiles that Pod only. A
 * ServicePort is compiled at Endpoint granularity (serviceparts.ts): its Endpoints' flows are owned part by part and
 * its group changes bucket by bucket (`FlowDiff.groupBuckets`), so a one-Endpoint change costs the same in a small
 * and a huge Service. Changing the Node config recompiles everything (it is set once at start in practice).
 *
 * Two objects may produce the same flow identity only with identical actions (the flow is then shared and stays
 * until its last owner goes); different actions are refused with ERR_DATAPATH_FLOW_CONFLICT. Changes in one
 * `apply` are validated and applied in order; the first invalid one throws, and the changes before it stay applied.
 */
import { StableMap } from '../stable-map.js';
import { AntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
import type { DesiredStateChange, EgressSnat, FlowDiff, GroupBucketChange, NodeConfig, PeerNode, PodInterface } from '../types.js';
import { podKey } from '../types.js';
import { CookieCategory, makeCookie } from './fields.js';
import type { Action, Bucket, Flow, Group } from './flow.js';
import { flowIdentity, renderActions } from './render.js';
import { nodeContext, type NodeContext } from './context.js';
import { defaultFlows, gatewayFlows } from './stages/skeleton.js';
import { podFlows } from './stages/pod.js';
import { peerFlows } from './stages/peer.js';
import { serviceFrontendFlows } from './stages/service.js';
import { ServiceParts } from './serviceparts.js';
import { policyFlows } from './stages/policy.js';
import { egressCommonFlows, egressFlows } from './stages/egress.js';
import type { PolicyRule } from '../types.js';
import { serviceKey, type ServiceEndpoint, type ServiceFrontend } from '../types.js';
import { isIpv4, parseCidr, parseMac } from '../net/addr.js';

interface OwnedObject {
  readonly key: string;
  readonly category: number;
  readonly objectId: number;
  flows: Flow[];
  /** flowIdentity of each flow, same order. */
  ids: string[];
  groups: Group[];
}

interface InstalledFlow {
  flow: Flow;
  owners: Set<string>;
  /** For shared conjunction clause flows: each owner's conjunction actions (the flow carries their union). */
  conj?: Map<string, readonly Action[]>;
}

function isConjOnly(f: Flow): boolean {
  return f.actions.length > 0 && f.actions.every((a) => a.type === 'conjunction');
}

function conjUnion(parts: Iterable<readonly Action[]>): Action[] {
  const all = new Map<string, Action>();
  for (const acts of parts) for (const a of acts) if (a.type === 'conjunction') all.set(`${a.id}/${a.clause}/${a.nClauses}`, a);
  return [...all.values()].sort((x, y) =>
    x.type === 'conjunction' && y.type === 'conjunction' ? x.id - y.id || x.clause - y.clause : 0,
  );
}

/** FNV-1a, 32 bits: object ids derive from stable keys so a restart reproduces the same cookies. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function sameFlow(a: Flow, b: Flow): boolean {
  return a.cookie === b.cookie && a.actions === b.actions ? true : a.cookie === b.cookie && renderActions(a.actions) === renderActions(b.actions);
}

function sameBucket(x: Bucket, y: Bucket): boolean {
  return x === y || (x.id === y.id && x.weight === y.weight && renderActions(x.actions) === renderActions(y.actions));
}

/** Field by field, bucket by bucket: a Service with 10,000 endpoints made serialising both groups whole the cost. */
function sameGroup(a: Group, b: Group): boolean {
  if (a === b) return true;
  if (a.id !== b.id || a.type !== b.type || a.buckets.length !== b.buckets.length) return false;
  for (let i = 0; i < a.buckets.length; i++) {
    if (!sameBucket(a.buckets[i] as Bucket, b.buckets[i] as Bucket)) return false;
  }
  return true;
}

/** Bucket changes of one group within a batch; `whole` once the group was added, removed or rewritten. */
interface GroupRecord {
  before?: Group;
  after?: Group;
  whole: boolean;
  buckets: Map<number, { before?: Bucket; after?: Bucket }>;
}

/** Collects before/after per flow identity over one batch, so remove+add of the same flow nets to a modify or nothing. */
class DiffRecorder {
  private readonly flows = new Map<string, { before?: Flow; after?: Flow }>();
  private readonly groups = new Map<number, GroupRecord>();

  flowChanged(id: string, before: Flow | undefined, after: Flow | undefined): void {
    const e = this.flows.get(id);
    if (e) e.after = after;
    else this.flows.set(id, { before, after });
  }

  /** A group changed; `buckets` says how when it changed bucket by bucket (else it changed as a whole). */
  groupChanged(id: number, before: Group | undefined, after: Group | undefined, buckets?: { removed: readonly Bucket[]; inserted: readonly Bucket[] }): void {
    let e = this.groups.get(id);
    if (e) e.after = after;
    else this.groups.set(id, (e = { before, after, whole: false, buckets: new Map() }));
    if (!buckets || !before || !after) {
      e.whole = true;
      return;
    }
    for (const b of buckets.removed) {
      const r = e.buckets.get(b.id);
      if (r) r.after = undefined;
      else e.buckets.set(b.id, { before: b });
    }
    for (const b of buckets.inserted) {
      const r = e.buckets.get(b.id);
      if (r) r.after = b;
      else e.buckets.set(b.id, { after: b });
    }
  }

  result(): FlowDiff {
    const d: FlowDiff = { added: [], modified: [], removed: [], addedGroups: [], modifiedGroups: [], removedGroups: [] };
    for (const { before, after } of this.flows.values()) {
      if (!before && after) d.added.push(after);
      else if (before && !after) d.removed.push(before);
      else if (before && after && !sameFlow(before, after)) d.modified.push(after);
    }
    const bucketChanges: GroupBucketChange[] = [];
    for (const { before, after, whole, buckets } of this.groups.values()) {
      if (!before && after) d.addedGroups.push(after);
      else if (before && !after) d.removedGroups.push(before);
      else if (before && after && whole && !sameGroup(before, after)) d.modifiedGroups.push(after);
      else if (before && after && !whole) {
        const ch: GroupBucketChange = { groupId: after.id, removed: [], inserted: [] };
        for (const [id, r] of buckets) {
          if (r.before && r.after && sameBucket(r.before, r.after)) continue;
          if (r.before) ch.removed.push(id);
          if (r.after) ch.inserted.push(r.after);
        }
        if (ch.removed.length + ch.inserted.length === 0) continue;
        d.modifiedGroups.push(after);
        bucketChanges.push(ch);
      }
    }
    if (bucketChanges.length > 0) d.groupBuckets = bucketChanges;
    return d;
  }
}

export function emptyDiff(): FlowDiff {
  return { added: [], modified: [], removed: [], addedGroups: [], modifiedGroups: [], removedGroups: [] };
}

export function diffSize(d: FlowDiff): number {
  return d.added.length + d.modified.length + d.removed.length + d.addedGroups.length + d.modifiedGroups.length + d.removedGroups.length;
}

export interface CompilerOptions {
  /** Agent round number (cookie bits 63..48). */
  round?: number;
  logger?: Logger;
}

export class PipelineCompiler {
  private ctx?: NodeContext;
  private readonly round: number;
  private readonly log: Logger;
  private readonly objects = new StableMap<string, OwnedObject>();
  private readonly objectIds = new StableMap<number, string>();
  private readonly installed = new StableMap<string, InstalledFlow>();
  private readonly groups = new Map<number, { group: Group; owner: string }>();
  private readonly pods = new StableMap<string, PodInterface>();
  private readonly peers = new Map<string, PeerNode>();
  /** ofPort, IP and MAC → Pod key: two Pods never share one. */
  private readonly podClaims = new StableMap<string, string>();
  private readonly services = new Map<string, ServiceFrontend>();
  /** Per ServicePort: its Endpoints' flows and buckets, kept between changes. */
  private readonly serviceParts = new Map<string, ServiceParts>();
  private readonly rules = new Map<string, PolicyRule>();
  private readonly rulesByConj = new Map<number, PolicyRule>();
  /** Egress IP → its SNAT object; the common Egress flows exist while this is not empty. */
  private readonly egresses = new StableMap<string, EgressSnat>();
  /** ServicePort key → group id; ids count up from 1 and freed ids are reused lowest first. */
  private readonly groupIds = new Map<string, number>();
  private readonly freeGroupIds: number[] = [];
  private nextGroupId = 1;

  constructor(opts: CompilerOptions = {}) {
    this.round = opts.round ?? 1;
    this.log = opts.logger ?? silentLogger;
  }

  get nodeConfig(): NodeConfig | undefined {
    return this.ctx?.cfg;
  }

  podsByKey(): StableMap<string, PodInterface> {
    return this.pods;
  }

  peersByName(): ReadonlyMap<string, PeerNode> {
    return this.peers;
  }

  /** Egress IPs as applied (the simulator treats those with a mark as addresses of this Node). */
  egressesByIP(): StableMap<string, EgressSnat> {
    return this.egresses;
  }

  setNodeConfig(cfg: NodeConfig): FlowDiff {
    const ctx = nodeContext(cfg);
    const rec = new DiffRecorder();
    this.ctx = ctx;
    this.setObject(rec, 'default', CookieCategory.Default, (c) => defaultFlows(c));
    this.setObject(rec, 'gateway', CookieCategory.Gateway, (c) => gatewayFlows(ctx, c));
    for (const pod of this.pods.values()) this.setObject(rec, `pod/${podKey(pod)}`, CookieCategory.Pod, (c) => podFlows(ctx, pod, c));
    for (const peer of this.peers.values()) this.setObject(rec, `peerNode/${peer.nodeName}`, CookieCategory.Node, (c) => peerFlows(ctx, peer, c));
    for (const [key, svc] of this.services) this.setService(rec, key, svc);
    for (const e of this.egresses.values()) this.setObject(rec, `egress/${e.egressIP}`, CookieCategory.SNAT, (c) => egressFlows(ctx, e, c));
    this.refreshEgressCommon(rec, ctx);
    return rec.result();
  }

  apply(changes: readonly DesiredStateChange[]): FlowDiff {
    const rec = new DiffRecorder();
    for (const ch of changes) {
      try {
        this.applyOne(rec, ch);
      } catch (err) {
        // The changes before this one stay applied: hand their diff to the caller with the error.
        if (err instanceof AntreaError) Object.assign(err.details, { appliedDiff: rec.result() });
        throw err;
      }
    }
    return rec.result();
  }

  /** Every installed flow, sorted by table, priority (descending), identity. */
  flows(): Flow[] {
    return [...this.installed.entries()]
      .sort(([ia, a], [ib, b]) => a.flow.table - b.flow.table || b.flow.priority - a.flow.priority || (ia < ib ? -1 : ia > ib ? 1 : 0))
      .map(([, v]) => v.flow);
  }

  groupList(): Group[] {
    return [...this.groups.values()].map((g) => g.group).sort((a, b) => a.id - b.id);
  }

  /** Flows owned by one object (`pod/ns/name`, `peerNode/name`, `default`, `gateway`). */
  flowsOf(objectKey: string): readonly Flow[] {
    const own = this.objects.get(objectKey)?.flows ?? [];
    const parts = objectKey.startsWith('service/') ? this.serviceParts.get(objectKey.slice('service/'.length)) : undefined;
    return parts ? [...own, ...parts.flows()] : own;
  }

  cookieOf(objectKey: string): bigint | undefined {
    const o = this.objects.get(objectKey);
    return o ? makeCookie(this.round, o.category, o.objectId) : undefined;
  }

  private requireCtx(kind: string): NodeContext {
    if (!this.ctx) throw new AntreaError('ERR_DATAPATH_NO_NODE_CONFIG', `cannot apply a ${kind} change before the node config is set`);
    return this.ctx;
  }

  private applyOne(rec: DiffRecorder, ch: DesiredStateChange): void {
    const ctx = this.requireCtx(ch.kind);
    switch (ch.kind) {
      case 'pod': {
        if (ch.op === 'upsert') {
          validatePod(ch.pod);
          const key = podKey(ch.pod);
          const pod = ch.pod;
          const claims = podClaimKeys(pod);
          for (const claim of claims) {
            const owner = this.podClaims.get(claim);
            if (owner !== undefined && owner !== key) {
              throw new AntreaError('ERR_DATAPATH_FLOW_CONFLICT', `Pod ${key} claims ${claim}, which Pod ${owner} already has`, { object: key, field: claim.split(':')[0] });
            }
          }
          this.setObject(rec, `pod/${key}`, CookieCategory.Pod, (c) => podFlows(ctx, pod, c));
          const prev = this.pods.get(key);
          if (prev) for (const claim of podClaimKeys(prev)) this.podClaims.delete(claim);
          for (const claim of claims) this.podClaims.set(claim, key);
          this.pods.set(key, pod);
        } else {
          this.removeObject(rec, `pod/${ch.key}`);
          const prev = this.pods.get(ch.key);
          if (prev) for (const claim of podClaimKeys(prev)) this.podClaims.delete(claim);
          this.pods.delete(ch.key);
        }
        return;
      }
      case 'peerNode': {
        if (ch.op === 'upsert') {
          validatePeer(ch.peer);
          const peer = ch.peer;
          this.setObject(rec, `peerNode/${peer.nodeName}`, CookieCategory.Node, (c) => peerFlows(ctx, peer, c));
          this.peers.set(peer.nodeName, peer);
        } else {
          this.removeObject(rec, `peerNode/${ch.key}`);
          this.peers.delete(ch.key);
        }
        // Egress bypasses each peer's transport IP.
        if (this.egresses.size > 0) this.refreshEgressCommon(rec, ctx);
        return;
      }
      case 'service': {
        if (ch.op === 'upsert') {
          const checkEndpoint = validateService(ch.service);
          const key = serviceKey(ch.service);
          this.setService(rec, key, ch.service, checkEndpoint);
          this.services.set(key, ch.service);
        } else {
          for (const part of this.serviceParts.get(ch.key)?.flowParts() ?? []) this.release(rec, part.id, part.owner);
          this.serviceParts.delete(ch.key);
          this.removeObject(rec, `service/${ch.key}`);
          this.services.delete(ch.key);
          const id = this.groupIds.get(ch.key);
          if (id !== undefined) {
            this.groupIds.delete(ch.key);
            this.freeGroupIds.push(id);
            this.freeGroupIds.sort((a, b) => a - b);
          }
        }
        return;
      }
      case 'policyRule': {
        if (ch.op === 'upsert') {
          validateRule(ch.rule);
          const rule = ch.rule;
          const prev = this.rules.get(rule.ruleID);
          if (prev && prev.conjID !== rule.conjID) this.rulesByConj.delete(prev.conjID);
          const other = this.rulesByConj.get(rule.conjID);
          if (other && other.ruleID !== rule.ruleID) {
            throw new AntreaError('ERR_DATAPATH_FLOW_CONFLICT', `policy rule ${rule.ruleID} uses conjID ${rule.conjID}, which rule ${other.ruleID} has`, { object: rule.ruleID, field: 'conjID' });
          }
          this.setObject(rec, `policyRule/${rule.ruleID}`, CookieCategory.Policy, (c) => policyFlows(rule, c));
          this.rules.set(rule.ruleID, rule);
          this.rulesByConj.set(rule.conjID, rule);
        } else {
          this.removeObject(rec, `policyRule/${ch.key}`);
          const prev = this.rules.get(ch.key);
          if (prev) this.rulesByConj.delete(prev.conjID);
          this.rules.delete(ch.key);
        }
        return;
      }
      case 'egress': {
        if (ch.op === 'upsert') {
          if (!ctx.encap) throw new AntreaError('ERR_DATAPATH_UNSUPPORTED', 'Egress works in encap mode only', { field: 'trafficEncapMode', object: ch.egress.egressIP });
          validateEgress(ch.egress);
          const e = ch.egress;
          this.setObject(rec, `egress/${e.egressIP}`, CookieCategory.SNAT, (c) => egressFlows(ctx, e, c));
          this.egresses.set(e.egressIP, e);
        } else {
          this.removeObject(rec, `egress/${ch.key}`);
          this.egresses.delete(ch.key);
        }
        this.refreshEgressCommon(rec, ctx);
        return;
      }
      default:
        throw new AntreaError('ERR_DATAPATH_UNSUPPORTED', `the datapath does not compile ${ch.kind} objects yet`, { field: ch.kind });
    }
  }

  /** The policy reference of the rule with this conjunction id (Traceflow, NetworkPolicyStats). */
  policyRefOf(conjID: number): string | undefined {
    return this.rulesByConj.get(conjID)?.policyRef;
  }

  /** The ServicePorts installed (`namespace/name:port/PROTO`; an agent restart removes Services deleted meanwhile). */
  serviceKeys(): string[] {
    return [...this.services.keys()];
  }

  /** The IDs of the policy rules installed (an agent restart removes those its policies no longer have). */
  policyRuleIDs(): string[] {
    return [...this.rules.keys()];
  }

  /**
   * The policy references of the rules that own an installed flow (by identity `table|priority|match`), sorted: a
   * K8s isolation drop is shared by every rule that isolates the Pod, so Traceflow can name the policies behind it.
   */
  policyRefsOfFlow(identity: string): string[] {
    const refs = new Set<string>();
    for (const owner of this.installed.get(identity)?.owners ?? []) {
      if (!owner.startsWith('policyRule/')) continue;
      const ref = this.rules.get(owner.slice('policyRule/'.length))?.policyRef;
      if (ref) refs.add(ref);
    }
    return [...refs].sort();
  }

  /** The ID of the policy rule with this conjunction id (NetworkPolicyStats reads counters by conjunction id). */
  ruleIDOf(conjID: number): string | undefined {
    return this.rulesByConj.get(conjID)?.ruleID;
  }

  /** The group id of a ServicePort (`namespace/name:port/PROTO`), for AntreaPolicy's toServices and for tests. */
  serviceGroupId(key: string): number | undefined {
    return this.groupIds.get(key);
  }

  /** `checkEndpoint` validates the Endpoints the change touches (a one-Endpoint change need not re-check 10,000). */
  private setService(rec: DiffRecorder, key: string, svc: ServiceFrontend, checkEndpoint?: (ep: ServiceEndpoint) => void): void {
    let gid = this.groupIds.get(key);
    if (gid === undefined) {
      gid = this.freeGroupIds.shift() ?? this.nextGroupId++;
      this.groupIds.set(key, gid);
    }
    const objKey = `service/${key}`;
    const prev = this.objects.get(objKey);
    const objectId = prev?.objectId ?? this.allocateId(objKey);
    const cookie = makeCookie(this.round, CookieCategory.Service, objectId);
    let parts = this.serviceParts.get(key);
    if (!parts) parts = new ServiceParts(objKey, cookie);
    const plan = parts.plan(svc, gid, checkEndpoint);
    const front = serviceFrontendFlows(svc, gid, cookie);
    const frontIds = front.map(flowIdentity);
    // Validate before touching anything.
    this.checkFlows(objKey, front, frontIds);
    for (const p of plan.addedFlows) this.checkFlows(p.owner, [p.flow], [p.id]);
    const groupOwner = this.groups.get(gid)?.owner;
    if (groupOwner !== undefined && groupOwner !== objKey) {
      throw new AntreaError('ERR_DATAPATH_GROUP_CONFLICT', `${objKey} needs group ${gid}, owned by ${groupOwner}`, { object: objKey });
    }
    this.installFlows(rec, objKey, prev?.ids ?? [], front, frontIds);
    for (const p of plan.removedFlows) this.release(rec, p.id, p.owner);
    for (const p of plan.addedFlows) this.installFlows(rec, p.owner, [], [p.flow], [p.id]);
    const before = this.groups.get(gid)?.group;
    this.groups.set(gid, { group: plan.group, owner: objKey });
    rec.groupChanged(gid, before, plan.group, { removed: plan.removedBuckets, inserted: plan.insertedBuckets });
    plan.commit();
    this.serviceParts.set(key, parts);
    this.objects.set(objKey, { key: objKey, category: CookieCategory.Service, objectId, flows: front, ids: frontIds, groups: [plan.group] });
  }

  /** The common Egress flows, present while any Egress IP is applied; they follow the peers and except CIDRs. */
  private refreshEgressCommon(rec: DiffRecorder, ctx: NodeContext): void {
    if (this.egresses.size === 0) {
      this.removeObject(rec, 'egress');
      return;
    }
    const except = [...this.egresses.values()].flatMap((e) => e.exceptCIDRs ?? []);
    this.setObject(rec, 'egress', CookieCategory.SNAT, (c) => egressCommonFlows(ctx, this.peers.values(), except, c));
  }

  private allocateId(key: string): number {
    let id = fnv1a32(key);
    for (;;) {
      const owner = this.objectIds.get(id);
      if (owner === undefined || owner === key) break;
      id = (id + 1) >>> 0;
    }
    this.objectIds.set(id, key);
    return id;
  }

  private setObject(rec: DiffRecorder, key: string, category: number, build: (cookie: bigint) => Flow[], groups: Group[] = []): void {
    const prev = this.objects.get(key);
    const objectId = prev?.objectId ?? this.allocateId(key);
    const flows = build(makeCookie(this.round, category, objectId));
    const ids = flows.map(flowIdentity);
    // Validate before touching anything.
    this.checkFlows(key, flows, ids);
    for (const g of groups) {
      const owner = this.groups.get(g.id)?.owner;
      if (owner !== undefined && owner !== key) {
        throw new AntreaError('ERR_DATAPATH_GROUP_CONFLICT', `${key} needs group ${g.id}, owned by ${owner}`, { object: key });
      }
    }
    this.installFlows(rec, key, prev?.ids ?? [], flows, ids);
    if (prev) {
      const newGroupIds = new Set(groups.map((g) => g.id));
      for (const g of prev.groups) {
        if (newGroupIds.has(g.id)) continue;
        this.groups.delete(g.id);
        rec.groupChanged(g.id, g, undefined);
      }
    }
    for (const g of groups) {
      const before = this.groups.get(g.id)?.group;
      this.groups.set(g.id, { group: g, owner: key });
      rec.groupChanged(g.id, before, g);
    }
    this.objects.set(key, { key, category, objectId, flows, ids, groups });
    this.log.debug('compiled object', { object: key, flows: flows.length });
  }

  /** Throws if `owner` may not install these flows: one identity twice, or another owner's flow with other actions. */
  private checkFlows(owner: string, flows: readonly Flow[], ids: readonly string[]): void {
    const seen = new Set<string>();
    for (let i = 0; i < flows.length; i++) {
      const id = ids[i] as string;
      if (seen.has(id)) throw new AntreaError('ERR_DATAPATH_FLOW_CONFLICT', `${owner} produces the flow ${id} twice`, { object: owner });
      seen.add(id);
      const inst = this.installed.get(id);
      if (inst?.conj && isConjOnly(flows[i] as Flow)) continue;
      if (inst && !(inst.owners.size === 1 && inst.owners.has(owner)) && renderActions(inst.flow.actions) !== renderActions((flows[i] as Flow).actions)) {
        throw new AntreaError(
          'ERR_DATAPATH_FLOW_CONFLICT',
          `${owner} needs flow ${id} with different actions than ${[...inst.owners].join(', ')} installed`,
          { object: owner },
        );
      }
    }
  }

  /** Makes `owner`'s flows `flows` (checked), releasing those of `prevIds` it no longer produces. */
  private installFlows(rec: DiffRecorder, key: string, prevIds: readonly string[], flows: readonly Flow[], ids: readonly string[]): void {
    if (prevIds.length > 0) {
      const seen = new Set(ids);
      for (const id of prevIds) if (!seen.has(id)) this.release(rec, id, key);
    }
    for (let i = 0; i < flows.length; i++) {
      const id = ids[i] as string;
      const f = flows[i] as Flow;
      const inst = this.installed.get(id);
      if (!inst) {
        this.installed.set(id, { flow: f, owners: new Set([key]), ...(isConjOnly(f) ? { conj: new Map([[key, f.actions]]) } : {}) });
        rec.flowChanged(id, undefined, f);
      } else if (inst.conj && isConjOnly(f)) {
        inst.owners.add(key);
        inst.conj.set(key, f.actions);
        this.refreshConj(rec, id, inst);
      } else if (inst.owners.has(key) && inst.owners.size === 1) {
        if (!sameFlow(inst.flow, f)) {
          rec.flowChanged(id, inst.flow, f);
          inst.flow = f;
        }
      } else {
        inst.owners.add(key);
      }
    }
  }

  private release(rec: DiffRecorder, id: string, owner: string): void {
    const inst = this.installed.get(id);
    if (!inst) return;
    inst.owners.delete(owner);
    inst.conj?.delete(owner);
    if (inst.owners.size === 0) {
      this.installed.delete(id);
      rec.flowChanged(id, inst.flow, undefined);
    } else if (inst.conj) this.refreshConj(rec, id, inst);
  }

  /** Re-derives a shared clause flow's actions from its owners; keeps the first owner's cookie. */
  private refreshConj(rec: DiffRecorder, id: string, inst: InstalledFlow): void {
    const actions = conjUnion((inst.conj as Map<string, readonly Action[]>).values());
    if (renderActions(actions) === renderActions(inst.flow.actions)) return;
    const next: Flow = { ...inst.flow, actions };
    rec.flowChanged(id, inst.flow, next);
    inst.flow = next;
  }

  private removeObject(rec: DiffRecorder, key: string): void {
    const prev = this.objects.get(key);
    if (!prev) return;
    for (const id of prev.ids) this.release(rec, id, key);
    for (const g of prev.groups) {
      this.groups.delete(g.id);
      rec.groupChanged(g.id, g, undefined);
    }
    this.objects.delete(key);
    this.objectIds.delete(prev.objectId);
  }
}

function podClaimKeys(pod: PodInterface): string[] {
  return [`ofPort:${pod.ofPort}`, `mac:${pod.mac.toLowerCase()}`, ...pod.ips.map((ip) => `ip:${ip}`)];
}

function validatePod(pod: PodInterface): void {
  const key = `${pod.namespace}/${pod.name}`;
  const bad = (field: string, msg: string) => new AntreaError('ERR_DATAPATH_INVALID', `Pod ${key}: ${msg}`, { field, object: key });
  if (!pod.namespace || !pod.name) throw bad('name', 'namespace and name are required');
  if (!Number.isInteger(pod.ofPort) || pod.ofPort < 3 || pod.ofPort >= 0xff00) throw bad('ofPort', `ofPort ${pod.ofPort} is not a Pod port (3..65279)`);
  if (pod.ips.length === 0) throw bad('ips', 'a Pod interface needs at least one IP');
  for (const ip of pod.ips) if (!isIpv4(ip)) throw bad('ips', `"${ip}" is not an IPv4 address (IPv6 is not modelled yet)`);
  parseMac(pod.mac);
}

function validateRule(rule: PolicyRule): void {
  const bad = (field: string, msg: string) => new AntreaError('ERR_DATAPATH_INVALID', `policy rule ${rule.ruleID}: ${msg}`, { field, object: rule.ruleID });
  if (!rule.ruleID) throw bad('ruleID', 'ruleID is required');
  if (!Number.isInteger(rule.conjID) || rule.conjID < 1 || rule.conjID > 0xffffffff) throw bad('conjID', `conjID ${rule.conjID} is not a positive 32-bit integer`);
  if (rule.direction !== 'In' && rule.direction !== 'Out') throw bad('direction', `direction "${String(rule.direction)}" is not In or Out`);
  if (!['Allow', 'Drop', 'Reject', 'Pass'].includes(rule.action)) throw bad('action', `action "${rule.action}" is not Allow, Drop, Reject or Pass`);
  if (rule.kind === 'K8sNetworkPolicy' && rule.action !== 'Allow') throw bad('action', 'K8s NetworkPolicy rules only allow');
  if (rule.kind === 'Baseline' && rule.action === 'Pass') throw bad('action', 'Pass is not allowed in the Baseline tier');
  if (rule.kind !== 'K8sNetworkPolicy' && (rule.priority === undefined || rule.priority < 1 || rule.priority > 65000)) {
    throw bad('priority', 'Antrea-native rules need an OpenFlow priority in 1..65000');
  }
  for (const a of [...(rule.from.ipBlocks ?? []), ...(rule.to.ipBlocks ?? [])]) {
    if (!isIpv4(a)) parseCidr(a);
  }
  if (rule.direction === 'In' && !(rule.to.ofPorts?.length)) throw bad('to.ofPorts', 'an ingress rule applies to local Pod ports');
}

/** Validates a frontend but its Endpoints; returns the check of one Endpoint, for those the change touches. */
function validateService(svc: ServiceFrontend): (ep: ServiceEndpoint) => void {
  const key = `${svc.namespace}/${svc.name}:${svc.portName}/${svc.protocol}`;
  const bad = (field: string, msg: string) => new AntreaError('ERR_DATAPATH_INVALID', `Service ${key}: ${msg}`, { field, object: key });
  if (!isIpv4(svc.clusterIP)) throw bad('clusterIP', `"${svc.clusterIP}" is not an IPv4 address`);
  if (!['TCP', 'UDP', 'SCTP'].includes(svc.protocol)) throw bad('protocol', `protocol "${svc.protocol}" is not TCP, UDP or SCTP`);
  if (!Number.isInteger(svc.port) || svc.port < 1 || svc.port > 65535) throw bad('port', `port ${svc.port} is out of range`);
  for (const ip of svc.loadBalancerIPs ?? []) if (!isIpv4(ip)) throw bad('loadBalancerIPs', `"${ip}" is not an IPv4 address`);
  const unsupported = (field: string, what: string) =>
    new AntreaError('ERR_DATAPATH_UNSUPPORTED', `Service ${key}: ${what} is not compiled yet`, { field, object: key });
  if (svc.sessionAffinityTimeout !== undefined && (!Number.isInteger(svc.sessionAffinityTimeout) || svc.sessionAffinityTimeout < 1 || svc.sessionAffinityTimeout > 86400)) {
    throw bad('sessionAffinityTimeout', `sessionAffinityTimeout ${svc.sessionAffinityTimeout} is not 1..86400 seconds`);
  }
  if (svc.nodePort !== undefined) throw unsupported('nodePort', 'NodePort (needs proxyAll)');
  if (svc.externalTrafficPolicyLocal) throw unsupported('externalTrafficPolicyLocal', 'externalTrafficPolicy=Local');
  return (ep) => {
    if (!isIpv4(ep.ip)) throw bad('endpoints', `Endpoint "${ep.ip}" is not an IPv4 address`);
    if (!Number.isInteger(ep.port) || ep.port < 1 || ep.port > 65535) throw bad('endpoints', `Endpoint port ${ep.port} is out of range`);
  };
}

function validatePeer(peer: PeerNode): void {
  const bad = (field: string, msg: string) =>
    new AntreaError('ERR_DATAPATH_INVALID', `peer Node ${peer.nodeName}: ${msg}`, { field, object: peer.nodeName });
  if (!peer.nodeName) throw bad('nodeName', 'nodeName is required');
  if (!isIpv4(peer.nodeIP)) throw bad('nodeIP', `"${peer.nodeIP}" is not an IPv4 address`);
  parseCidr(peer.podCIDR);
  if (peer.gatewayIP !== undefined && !isIpv4(peer.gatewayIP)) throw bad('gatewayIP', `"${peer.gatewayIP}" is not an IPv4 address`);
}

function validateEgress(e: EgressSnat): void {
  const bad = (field: string, msg: string) => new AntreaError('ERR_DATAPATH_INVALID', `Egress IP ${e.egressIP}: ${msg}`, { field, object: e.egressIP });
  if (!isIpv4(e.egressIP)) throw bad('egressIP', `"${e.egressIP}" is not an IPv4 address`);
  if (e.mark !== undefined && (!Number.isInteger(e.mark) || e.mark < 1 || e.mark > 255)) throw bad('mark', `SNAT mark ${e.mark} is not in 1..255`);
  for (const p of e.podOfPorts) if (!Number.isInteger(p) || p <= 2) throw bad('podOfPorts', `${p} is not a Pod's OF port`);
  for (const c of e.exceptCIDRs ?? []) parseCidr(c);
}
