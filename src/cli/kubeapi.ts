/**
 * What `antrea local apply/get/delete` need beyond the typed client: kind and name resolution through the API's
 * discovery documents (`pods`, `pod`, `po`, `Pod`, `endpointslices.discovery.k8s.io`), and Table output.
 */
import type { GroupVersionResource } from '../apis/meta.js';
import { AntreaError, describeError } from '../util/errors.js';
import { connectionErrorWords } from '../client/http-errors.js';

export interface DiscoveredResource {
  gvr: GroupVersionResource;
  kind: string;
  namespaced: boolean;
  singular: string;
  shortNames: string[];
}

interface ApiResourceList {
  groupVersion: string;
  resources: { name: string; singularName?: string; namespaced: boolean; kind: string; shortNames?: string[] }[];
}

/**
 * fetch, with a failure to connect turned into one line that names the server and the reason: undici's own is
 * only "fetch failed", with the reason hidden in `cause`.
 */
export async function fetchOrExplain(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    const words = connectionErrorWords;
    const origin = URL.canParse(url) ? new URL(url).origin : url;
    const why = (err as Error).name === 'TimeoutError' ? 'no answer in time' : code ? `${words[code] ?? code}${words[code] ? ` (${code})` : ''}` : describeError(cause ?? err);
    throw new AntreaError('ERR_UNREACHABLE', `cannot reach ${what} at ${origin}: ${why}`, { cause: err });
  }
}

async function getJson<T>(url: string, accept = 'application/json'): Promise<T> {
  const res = await fetchOrExplain(url, { headers: { accept }, signal: AbortSignal.timeout(15_000) }, 'the API server');
  const text = await res.text();
  let body: T & { kind?: string; message?: string };
  try {
    body = JSON.parse(text) as T & { kind?: string; message?: string };
  } catch {
    // Not a Kubernetes API server (a kubeconfig pointing at some other web server, say).
    throw new AntreaError('ERR_API', `${url} answered ${res.status} with something that is not JSON: is the kubeconfig's server a Kubernetes API?`);
  }
  if (!res.ok) throw new AntreaError('ERR_API', body.message ?? `${url} answered ${res.status}`);
  return body;
}

/** Every resource the server serves (preferred versions), from `/api/v1` and `/apis`. */
export async function discover(server: string): Promise<DiscoveredResource[]> {
  const groups = await getJson<{ groups: { name: string; preferredVersion: { groupVersion: string } }[] }>(`${server}/apis`);
  const lists = await Promise.all([
    getJson<ApiResourceList>(`${server}/api/v1`),
    ...groups.groups.map((g) => getJson<ApiResourceList>(`${server}/apis/${g.preferredVersion.groupVersion}`)),
  ]);
  const out: DiscoveredResource[] = [];
  for (const list of lists) {
    const [group, version] = list.groupVersion.includes('/') ? (list.groupVersion.split('/') as [string, string]) : ['', list.groupVersion];
    for (const r of list.resources) {
      if (r.name.includes('/')) continue;
      out.push({ gvr: { group, version, resource: r.name }, kind: r.kind, namespaced: r.namespaced, singular: r.singularName || r.kind.toLowerCase(), shortNames: r.shortNames ?? [] });
    }
  }
  return out;
}

/** `pods`, `pod`, `po`, `Pod`, `pods.v1`, `endpointslices.discovery.k8s.io`: kubectl's forms. */
export function resolveKind(resources: readonly DiscoveredResource[], text: string): DiscoveredResource {
  const lower = text.toLowerCase();
  const [name, ...rest] = lower.split('.');
  const group = rest.join('.');
  const matches = resources.filter(
    (r) =>
      (r.gvr.resource === name || r.singular === name || r.kind.toLowerCase() === name || r.shortNames.includes(name ?? '')) &&
      (group === '' || r.gvr.group === group || `${r.gvr.version}.${r.gvr.group}`.replace(/\.$/, '') === group),
  );
  const first = matches.sort((a, b) => Number(a.gvr.group !== '') - Number(b.gvr.group !== ''))[0];
  if (!first) throw new AntreaError('ERR_UNKNOWN_KIND', `the server doesn't have a resource type "${text}"`, { field: 'kind' });
  return first;
}

/** The resource for an object's apiVersion and kind. */
export function resolveObjectKind(resources: readonly DiscoveredResource[], apiVersion: string, kind: string): DiscoveredResource {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  const found = resources.find((r) => r.kind === kind && r.gvr.group === group);
  if (!found) throw new AntreaError('ERR_UNKNOWN_KIND', `no matches for kind "${kind}" in version "${apiVersion}"`, { field: 'kind' });
  return { ...found, gvr: { ...found.gvr, version } };
}

export interface Table {
  columnDefinitions: { name: string; priority?: number }[];
  rows: { cells: unknown[] }[];
}

export async function getTable(server: string, path: string): Promise<Table> {
  return getJson<Table>(`${server}${path}`, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
}
