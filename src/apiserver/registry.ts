/**
 * The resource registry: every API type declared once, as data. The store, the HTTP handlers, discovery, OpenAPI
 * stubs and Table output all read it. Adding a type (an Antrea CRD, say) is one `defineResource({...})` entry:
 *
 *   defineResource({ group: 'crd.antrea.io', versions: ['v1beta1'], kind: 'Traceflow', plural: 'traceflows',
 *     shortNames: ['tf'], namespaced: false, statusSubresource: true, validate: validateTraceflow,
 *     columns: [col('Phase', (o) => o.status?.phase ?? '')] })
 */
import type { GroupVersionResource, KubeObject } from '../apis/meta.js';
import type { FieldError } from '../apis/validation.js';
import * as core from '../apis/core.js';
import * as discovery from '../apis/discovery.js';
import { humanDuration } from './table.js';
import { serviceAllocator } from './allocators.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
export const allVerbs: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export type CellValue = string | number | boolean | null;

export interface ColumnDef {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** 0 = always shown; >0 = only with `-o wide`. */
  priority?: number;
  cell(obj: KubeObject, nowMs: number): CellValue;
}

/** The write an admission hook is asked about (kube-apiserver's admission operations). */
export type AdmissionOperation = 'create' | 'update' | 'delete';

/**
 * What an admission hook may read: the stored objects of any served type, synchronously, as they are before the
 * write being admitted. Objects are the store's frozen copies (read-only); a type that is not served reads as empty.
 */
export interface AdmissionView {
  get(group: string, resource: string, name: string, namespace?: string): KubeObject | undefined;
  /** Every object of a type, or of one namespace of it. */
  list(group: string, resource: string, namespace?: string): Iterable<KubeObject>;
}

/** Reads the string value of a field selector path (e.g. `spec.nodeName`) from an object; missing = ''. */
export type FieldGetter = (obj: KubeObject) => string;

export interface ResourceDef {
  /** '' for the core group. */
  group: string;
  /** Served versions, preferred (and stored) first. Versions share one stored shape; only `apiVersion` differs. */
  versions: readonly string[];
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  categories: readonly string[];
  namespaced: boolean;
  statusSubresource: boolean;
  verbs: readonly Verb[];
  /** Built-in types accept strategic merge patch; CRDs answer 415 as a real server does. */
  strategicMerge: boolean;
  /** Built-ins accept a PUT without resourceVersion (unconditional); CRDs answer 422 "must be specified". */
  allowUnconditionalUpdate: boolean;
  /** Field errors for a whole object (create and update). */
  validate(obj: KubeObject): FieldError[];
  /** Extra checks on update (immutable fields). */
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
  /** Fills API defaults in place, before validation. */
  applyDefaults(obj: KubeObject): void;
  /**
   * Server-side allocation on create (a Service's ClusterIP and node ports), after defaults and before validation.
   * `others` iterates the stored objects of the same type. Returns field errors when allocation fails.
   */
  prepareForCreate?(obj: KubeObject, others: () => Iterable<KubeObject>): FieldError[];
  /** Carries server-owned values from the stored object into an update (after defaults, before validation). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /**
   * Validating admission that may look at other objects (what Antrea's webhooks check): called on create, update
   * and patch of the main resource (not the status subresource) after `validate`, and on delete (and per object on
   * deletecollection), before anything changes. `obj` is the new object (the stored one on delete), `old` the
   * stored one on update. Errors refuse the write: 422 Invalid on create and update, 403 Forbidden on delete.
   */
  admit?(op: AdmissionOperation, obj: KubeObject, old: KubeObject | undefined, view: AdmissionView): FieldError[];
  /** Supported field selectors besides metadata.name and metadata.namespace. */
  fields: Readonly<Record<string, FieldGetter>>;
  /** Fields whose equality selectors are indexed (objects and watchers); metadata.name always is. */
  indexedFields: readonly string[];
  /** Table columns after Name (Age included where wanted). */
  columns: readonly ColumnDef[];
}

export type ResourceSpec = Pick<ResourceDef, 'group' | 'versions' | 'kind' | 'plural'> & Partial<Omit<ResourceDef, 'group' | 'versions' | 'kind' | 'plural'>>;

/** Fills the defaults of a resource declaration: singular = lower-case kind, all verbs, Age column, no validation. */
export function defineResource(spec: ResourceSpec): ResourceDef {
  return {
    singular: spec.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced: true,
    statusSubresource: false,
    verbs: allVerbs,
    strategicMerge: false,
    allowUnconditionalUpdate: false,
    validate: () => [],
    validateUpdate: () => [],
    applyDefaults: () => undefined,
    fields: {},
    indexedFields: [],
    columns: [ageColumn],
    ...spec,
  };
}

/** A string column whose cell is computed by `cell`. */
export function col(name: string, cell: (obj: KubeObject, nowMs: number) => CellValue, opts: Partial<Omit<ColumnDef, 'name' | 'cell'>> = {}): ColumnDef {
  return { name, type: 'string', ...opts, cell };
}

export const ageColumn: ColumnDef = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (obj, now) => {
    const t = obj.metadata.creationTimestamp ? Date.parse(obj.metadata.creationTimestamp) : NaN;
    return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
  },
};

/** `group/resource`, the storage key of a type (versions share storage). */
export function grKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The set of served types, looked up by GVR (the store) or by URL parts (HTTP). */
export class Registry {
  private readonly byGR = new Map<string, ResourceDef>();
  private readonly list: ResourceDef[] = [];

  constructor(defs: Iterable<ResourceDef> = []) {
    for (const d of defs) this.add(d);
  }

  /** Adds a type; a second type with the same group and plural replaces the first. */
  add(def: ResourceDef): this {
    const key = grKey(def.group, def.plural);
    const old = this.byGR.get(key);
    if (old) this.list.splice(this.list.indexOf(old), 1);
    this.byGR.set(key, def);
    this.list.push(def);
    return this;
  }

  /** The type for a GVR, or undefined if the group, resource or version is not served. */
  lookup(gvr: GroupVersionResource): ResourceDef | undefined {
    const def = this.byGR.get(grKey(gvr.group, gvr.resource));
    return def && def.versions.includes(gvr.version) ? def : undefined;
  }

  byGroupResource(group: string, resource: string): ResourceDef | undefined {
    return this.byGR.get(grKey(group, resource));
  }

  all(): readonly ResourceDef[] {
    return this.list;
  }

  /** Served groups in registration order, with their versions in preference order ('' = core). */
  groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, string[]>();
    for (const d of this.list) {
      const vs = out.get(d.group) ?? [];
      for (const v of d.versions) if (!vs.includes(v)) vs.push(v);
      out.set(d.group, vs);
    }
    return [...out].map(([name, versions]) => ({ name, versions }));
  }

  /** The types served at one group version. */
  inGroupVersion(group: string, version: string): ResourceDef[] {
    return this.list.filter((d) => d.group === group && d.versions.includes(version));
  }
}

// ---------------------------------------------------------------- the core types

/** A string field for a cell or field selector: the string, or '' for anything else. */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** Any scalar field as cell text: '' when absent. */
export const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
type Loose = Record<string, unknown>;
/** Reads a nested field of an object of unknown shape: `pick(o, 'spec', 'nodeName')`. */
export function pick(o: unknown, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Loose)[k];
  }
  return cur;
}
const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

function podReadyCell(o: KubeObject): string {
  const containers = arr<unknown>(pick(o, 'spec', 'containers'));
  const statuses = arr<{ ready?: boolean }>(pick(o, 'status', 'containerStatuses'));
  const ready = statuses.length > 0 ? statuses.filter((s) => s.ready).length : core.isPodReady(o as core.Pod) ? containers.length : 0;
  return `${ready}/${containers.length}`;
}

function servicePortsCell(o: KubeObject): string {
  const ports = arr<core.ServicePort>(pick(o, 'spec', 'ports'));
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function mapCell(m: unknown): string {
  if (!m || typeof m !== 'object') return '<none>';
  const e = Object.entries(m as Record<string, string>);
  return e.length === 0 ? '<none>' : e.map(([k, v]) => `${k}=${v}`).join(',');
}

function endpointsCell(o: KubeObject): string {
  const out: string[] = [];
  for (const s of arr<NonNullable<core.Endpoints['subsets']>[number]>(pick(o, 'subsets'))) {
    const ports = s.ports ?? [];
    for (const a of s.addresses ?? []) {
      if (ports.length === 0) out.push(a.ip);
      for (const p of ports) out.push(`${a.ip}:${p.port}`);
    }
  }
  if (out.length === 0) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

function sliceEndpointsCell(o: KubeObject): string {
  const addrs: string[] = [];
  for (const e of arr<discovery.Endpoint>(pick(o, 'endpoints'))) addrs.push(...arr<string>(e.addresses));
  if (addrs.length === 0) return '<unset>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

function nodeStatusCell(o: KubeObject): string {
  const ready = arr<core.NodeCondition>(pick(o, 'status', 'conditions')).find((c) => c.type === 'Ready');
  const s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return pick(o, 'spec', 'unschedulable') === true ? `${s},SchedulingDisabled` : s;
}

function nodeRolesCell(o: KubeObject): string {
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.length > 0 ? roles.sort().join(',') : '<none>';
}

const builtIn = { strategicMerge: true, allowUnconditionalUpdate: true } as const;

export const namespaceResource = defineResource({
  ...builtIn,
  group: '',
  versions: ['v1'],
  kind: 'Namespace',
  plural: 'namespaces',
  shortNames: ['ns'],
  namespaced: false,
  statusSubresource: true,
  validate: core.validateNamespace,
  applyDefaults: (o) => core.defaultNamespace(o as core.Namespace),
  fields: { 'status.phase': (o) => str(pick(o, 'status', 'phase')) },
  columns: [col('Status', (o) => str(pick(o, 'status', 'phase'))), ageColumn],
});

export const nodeResource = defineResource({
  ...builtIn,
  group: '',
  versions: ['v1'],
  kind: 'Node',
  plural: 'nodes',
  shortNames: ['no'],
  namespaced: false,
  statusSubresource: true,
  validate: core.validateNode,
  applyDefaults: (o) => core.defaultNode(o as core.Node),
  fields: { 'spec.unschedulable': (o) => String(Boolean(pick(o, 'spec', 'unschedulable'))) },
  columns: [
    col('Status', (o) => nodeStatusCell(o)),
    col('Roles', (o) => nodeRolesCell(o)),
    ageColumn,
    col('Version', (o) => str(pick(o, 'status', 'nodeInfo', 'kubeletVersion'))),
    col('Internal-IP', (o) => arr<{ type: string; address: string }>(pick(o, 'status', 'addresses')).find((a) => a.type === 'InternalIP')?.address ?? '<none>', { priority: 1 }),
    col('Pod-CIDR', (o) => str(pick(o, 'spec', 'podCIDR')) || '<none>', { priority: 1 }),
  ],
});

export const podResource = defineResource({
  ...builtIn,
  group: '',
  versions: ['v1'],
  kind: 'Pod',
  plural: 'pods',
  shortNames: ['po'],
  categories: ['all'],
  statusSubresource: true,
  validate: core.validatePod,
  validateUpdate: (obj, old) => {
    const n = str(pick(obj, 'spec', 'nodeName'));
    const o = str(pick(old, 'spec', 'nodeName'));
    return o !== '' && n !== o ? [{ type: 'FieldValueInvalid', field: 'spec.nodeName', value: n, detail: 'field is immutable once set' }] : [];
  },
  applyDefaults: (o) => core.defaultPod(o as core.Pod),
  fields: {
    'spec.nodeName': (o) => str(pick(o, 'spec', 'nodeName')),
    'status.phase': (o) => str(pick(o, 'status', 'phase')),
    'status.podIP': (o) => str(pick(o, 'status', 'podIP')),
    'spec.restartPolicy': (o) => str(pick(o, 'spec', 'restartPolicy')),
    'spec.schedulerName': (o) => str(pick(o, 'spec', 'schedulerName')),
    'spec.serviceAccountName': (o) => str(pick(o, 'spec', 'serviceAccountName')),
    'spec.hostNetwork': (o) => String(Boolean(pick(o, 'spec', 'hostNetwork'))),
  },
  indexedFields: ['spec.nodeName'],
  columns: [
    col('Ready', (o) => podReadyCell(o)),
    col('Status', (o) => (o.metadata.deletionTimestamp ? 'Terminating' : str(pick(o, 'status', 'phase')) || 'Pending')),
    col('Restarts', (o) => arr<{ restartCount?: number }>(pick(o, 'status', 'containerStatuses')).reduce((n, c) => n + (c.restartCount ?? 0), 0), { type: 'integer' }),
    ageColumn,
    col('IP', (o) => str(pick(o, 'status', 'podIP')) || '<none>', { priority: 1 }),
    col('Node', (o) => str(pick(o, 'spec', 'nodeName')) || '<none>', { priority: 1 }),
  ],
});

const defaultServiceAllocator = serviceAllocator();

export const serviceResource = defineResource({
  ...builtIn,
  prepareForCreate: defaultServiceAllocator.prepareForCreate,
  prepareForUpdate: defaultServiceAllocator.prepareForUpdate,
  group: '',
  versions: ['v1'],
  kind: 'Service',
  plural: 'services',
  shortNames: ['svc'],
  categories: ['all'],
  statusSubresource: true,
  validate: core.validateService,
  validateUpdate: (obj, old) => {
    const n = str(pick(obj, 'spec', 'clusterIP'));
    const o = str(pick(old, 'spec', 'clusterIP'));
    if (o !== '' && n !== o && pick(obj, 'spec', 'type') !== 'ExternalName') {
      return [{ type: 'FieldValueInvalid', field: 'spec.clusterIP', value: n, detail: 'field is immutable' }];
    }
    return [];
  },
  applyDefaults: (o) => core.defaultService(o as core.Service),
  fields: { 'spec.clusterIP': (o) => str(pick(o, 'spec', 'clusterIP')), 'spec.type': (o) => str(pick(o, 'spec', 'type')) },
  columns: [
    col('Type', (o) => str(pick(o, 'spec', 'type')) || 'ClusterIP'),
    col('Cluster-IP', (o) => str(pick(o, 'spec', 'clusterIP')) || '<none>'),
    col('External-IP', (o) => {
      const ing = arr<{ ip?: string; hostname?: string }>(pick(o, 'status', 'loadBalancer', 'ingress')).map((i) => i.ip ?? i.hostname ?? '');
      const ext = [...arr<string>(pick(o, 'spec', 'externalIPs')), ...ing].filter(Boolean);
      if (ext.length > 0) return ext.join(',');
      const type = pick(o, 'spec', 'type');
      if (type === 'ExternalName') return str(pick(o, 'spec', 'externalName'));
      return type === 'LoadBalancer' ? '<pending>' : '<none>';
    }),
    col('Port(s)', (o) => servicePortsCell(o)),
    ageColumn,
    col('Selector', (o) => mapCell(pick(o, 'spec', 'selector')), { priority: 1 }),
  ],
});

export const endpointsResource = defineResource({
  ...builtIn,
  group: '',
  versions: ['v1'],
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  validate: core.validateEndpoints,
  applyDefaults: (o) => core.defaultEndpoints(o as core.Endpoints),
  columns: [col('Endpoints', (o) => endpointsCell(o)), ageColumn],
});

export const configMapResource = defineResource({
  ...builtIn,
  group: '',
  versions: ['v1'],
  kind: 'ConfigMap',
  plural: 'configmaps',
  shortNames: ['cm'],
  validate: core.validateConfigMap,
  validateUpdate: (obj, old) => {
    if ((old as core.ConfigMap).immutable !== true) return [];
    const a = obj as core.ConfigMap;
    const b = old as core.ConfigMap;
    return JSON.stringify([a.data, a.binaryData, a.immutable]) !== JSON.stringify([b.data, b.binaryData, b.immutable])
      ? [{ type: 'FieldValueForbidden', field: 'data', detail: 'field is immutable when `immutable` is set' }]
      : [];
  },
  columns: [col('Data', (o) => Object.keys(pick(o, 'data') ?? {}).length + Object.keys(pick(o, 'binaryData') ?? {}).length, { type: 'integer' }), ageColumn],
});

export const endpointSliceResource = defineResource({
  ...builtIn,
  group: 'discovery.k8s.io',
  versions: ['v1', 'v1beta1'],
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  validate: discovery.validateEndpointSlice,
  applyDefaults: (o) => discovery.defaultEndpointSlice(o as discovery.EndpointSlice),
  columns: [
    col('AddressType', (o) => str(pick(o, 'addressType'))),
    col('Ports', (o) => {
      const ports = arr<discovery.EndpointSlicePort>(pick(o, 'ports'));
      return ports.length === 0 ? '<unset>' : ports.map((p) => (p.port === undefined ? '<unset>' : String(p.port))).join(',');
    }),
    col('Endpoints', (o) => sliceEndpointsCell(o)),
    ageColumn,
  ],
});

/** The core types every API server serves. */
export function defaultResources(): ResourceDef[] {
  return [namespaceResource, nodeResource, podResource, serviceResource, endpointsResource, configMapResource, endpointSliceResource];
}

/** GVR constants for the core types, for callers of the store and clients. */
export const gvr = {
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  pods: { group: '', version: 'v1', resource: 'pods' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  endpointslicesV1beta1: { group: 'discovery.k8s.io', version: 'v1beta1', resource: 'endpointslices' },
} as const satisfies Record<string, GroupVersionResource>;
