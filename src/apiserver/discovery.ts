/**
 * Discovery and OpenAPI documents built from the registry: the legacy `/api`, `/apis`, `/api/v1`, `/apis/G/V`
 * documents (the only form client-node reads), aggregated discovery v2 / v2beta1 (kubectl 1.27+ asks for it,
 * strictly negotiated), and the minimal OpenAPI answers that let kubectl create/apply validate against us
 * (kube-api.md section 12): a v3 index plus per-group-version documents whose PATCH operations carry the GVK and a
 * `fieldValidation` parameter, and the 5-byte protobuf `Document{swagger:"2.0"}` at `/openapi/v2`.
 */
import { createHash } from 'node:crypto';
import { type Registry, type ResourceDef, apiVersionOf } from './registry.js';

const statusVerbs = ['get', 'patch', 'update'];

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(name: string, versions: string[]): object {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(reg: Registry): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: reg.groups().filter((g) => g.name !== '').map((g) => groupDoc(g.name, g.versions)) };
}

/** `/apis/G`: one group, or undefined if not served. */
export function apiGroup(reg: Registry, group: string): object | undefined {
  const g = reg.groups().find((x) => x.name === group && group !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) } : undefined;
}

/** `/api/v1` or `/apis/G/V`: undefined if the group version is not served. */
export function apiResourceList(reg: Registry, group: string, version: string): object | undefined {
  const defs = reg.inGroupVersion(group, version);
  if (defs.length === 0) return undefined;
  const resources: object[] = [];
  // Main resources first: client-node takes the first entry whose kind matches.
  for (const d of defs) {
    resources.push({
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: [...d.verbs],
      ...(d.shortNames.length > 0 ? { shortNames: [...d.shortNames] } : {}),
      ...(d.categories.length > 0 ? { categories: [...d.categories] } : {}),
      storageVersionHash: storageVersionHash(d),
    });
  }
  for (const d of defs) {
    if (d.statusSubresource) resources.push({ name: `${d.plural}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: statusVerbs });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

function storageVersionHash(d: ResourceDef): string {
  return createHash('sha256').update(`${d.group}/${d.versions[0]}/${d.kind}`).digest('base64').slice(0, 11);
}

export type DiscoveryFlavour = 'v2' | 'v2beta1';

/** The aggregated discovery Content-Type for a flavour. */
export function aggregatedContentType(f: DiscoveryFlavour): string {
  return `application/json;g=apidiscovery.k8s.io;v=${f};as=APIGroupDiscoveryList`;
}

/** Which aggregated form an Accept header asks for, or undefined for the legacy documents. */
export function negotiateDiscovery(accept: string | undefined): DiscoveryFlavour | undefined {
  if (!accept) return undefined;
  let beta = false;
  for (const entry of accept.split(',')) {
    const params = new Map(
      entry
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string | undefined])
        .map(([k, v]) => [k.trim(), (v ?? '').trim()]),
    );
    if (params.get('g') !== 'apidiscovery.k8s.io' || params.get('as') !== 'APIGroupDiscoveryList') continue;
    if (params.get('v') === 'v2') return 'v2';
    if (params.get('v') === 'v2beta1') beta = true;
  }
  return beta ? 'v2beta1' : undefined;
}

/** `/api` (core only) or `/apis` (every named group) in aggregated form. */
export function aggregatedDiscovery(reg: Registry, core: boolean, flavour: DiscoveryFlavour): object {
  const items = reg
    .groups()
    .filter((g) => (core ? g.name === '' : g.name !== ''))
    .map((g) => ({
      metadata: g.name ? { name: g.name } : {},
      versions: g.versions.map((v) => ({
        version: v,
        freshness: 'Current',
        resources: reg.inGroupVersion(g.name, v).map((d) => {
          const responseKind = { group: d.group, version: v, kind: d.kind };
          return {
            resource: d.plural,
            responseKind,
            scope: d.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: d.singular,
            verbs: [...d.verbs],
            ...(d.shortNames.length > 0 ? { shortNames: [...d.shortNames] } : {}),
            ...(d.categories.length > 0 ? { categories: [...d.categories] } : {}),
            ...(d.statusSubresource ? { subresources: [{ subresource: 'status', responseKind, verbs: statusVerbs }] } : {}),
          };
        }),
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${flavour}`, metadata: {}, items };
}

// ---------------------------------------------------------------- OpenAPI

/** `api/v1`, `apis/G/V`: the keys of the OpenAPI v3 index. */
function gvPathKey(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function registryHash(reg: Registry): string {
  const h = createHash('sha256');
  for (const d of reg.all()) h.update(`${d.group}/${d.versions.join(',')}/${d.kind}/${d.plural}/${d.namespaced}\n`);
  return h.digest('hex').slice(0, 32).toUpperCase();
}

export function openApiV3Index(reg: Registry): object {
  const hash = registryHash(reg);
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const g of reg.groups()) for (const v of g.versions) paths[gvPathKey(g.name, v)] = { serverRelativeURL: `/openapi/v3/${gvPathKey(g.name, v)}?hash=${hash}` };
  return { paths };
}

/** The OpenAPI v3 document of one group version (`api/v1`, `apis/G/V`), or undefined if not served. */
export function openApiV3Document(reg: Registry, key: string): object | undefined {
  const m = /^(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(key);
  if (!m) return undefined;
  const group = m[2] ?? '';
  const version = m[1] ?? m[3]!;
  const defs = reg.inGroupVersion(group, version);
  if (defs.length === 0) return undefined;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, object> = {};
  const patchOp = (d: ResourceDef) => ({
    'x-kubernetes-group-version-kind': { group: d.group, version, kind: d.kind },
    parameters: [
      { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
    ],
    requestBody: {
      content: {
        'application/merge-patch+json': { schema: { type: 'object' } },
        'application/json-patch+json': { schema: { type: 'object' } },
        'application/apply-patch+yaml': { schema: { type: 'object' } },
        ...(d.strategicMerge ? { 'application/strategic-merge-patch+json': { schema: { type: 'object' } } } : {}),
      },
    },
    responses: { '200': { description: 'OK' } },
  });
  for (const d of defs) {
    const base = d.namespaced ? `${prefix}/namespaces/{namespace}/${d.plural}` : `${prefix}/${d.plural}`;
    paths[`${base}/{name}`] = { patch: patchOp(d) };
    if (d.statusSubresource) paths[`${base}/{name}/status`] = { patch: patchOp(d) };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}

/** Protobuf `Document{swagger: "2.0"}`: kubectl 1.27/1.28 find no schema in it and validate nothing. */
export const openApiV2Protobuf = Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]);
export const openApiV2ContentType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
