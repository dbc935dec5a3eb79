/**
 * `antctl get networkpolicystats|antreaclusternetworkpolicystats|antreanetworkpolicystats`: the per-policy traffic
 * stats the controller serves at /apis/stats.antrea.io/v1alpha1, with Antrea's columns (NAME, SESSIONS, PACKETS,
 * BYTES, CREATED AT; NAMESPACE first with -A) or the objects with -o json.
 */
import { statsGvr, type NetworkPolicyStats } from '../apis/stats.js';
import { HttpClient } from '../client/http.js';
import type { ApiClient } from '../client/types.js';
import { checkName, checkNamespace, noMoreArgs, oneOf, parseFlags, UsageError, type CliIO } from './io.js';
import { clusterKubeconfig } from './live.js';
import { renderTable } from './table.js';

export const statsKinds = {
  networkpolicystats: { gvr: statsGvr.networkpolicystats, namespaced: true, kind: 'NetworkPolicyStats' },
  antreaclusternetworkpolicystats: { gvr: statsGvr.antreaclusternetworkpolicystats, namespaced: false, kind: 'AntreaClusterNetworkPolicyStats' },
  antreanetworkpolicystats: { gvr: statsGvr.antreanetworkpolicystats, namespaced: true, kind: 'AntreaNetworkPolicyStats' },
} as const;
export type StatsResource = keyof typeof statsKinds;

export const statsUsage = `usage: antctl get networkpolicystats|antreaclusternetworkpolicystats|antreanetworkpolicystats [NAME] [-n NS|-A] [-o table|json] [--kubeconfig FILE]`;

export function isStatsResource(s: string | undefined): s is StatsResource {
  return s !== undefined && s in statsKinds;
}

export function renderStats(items: readonly NetworkPolicyStats[], withNamespace: boolean): string {
  const headers = [...(withNamespace ? ['NAMESPACE'] : []), 'NAME', 'SESSIONS', 'PACKETS', 'BYTES', 'CREATED AT'];
  const rows = items.map((i) => [
    ...(withNamespace ? [i.metadata.namespace ?? ''] : []),
    i.metadata.name ?? '',
    String(i.trafficStats?.sessions ?? 0),
    String(i.trafficStats?.packets ?? 0),
    String(i.trafficStats?.bytes ?? 0),
    i.metadata.creationTimestamp ?? '',
  ]);
  return renderTable(headers, rows);
}

/** Lists (or gets one) and prints; `client` is injectable for tests. */
export async function getStats(io: CliIO, resource: StatsResource, args: string[], client?: ApiClient): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' }, output: { type: 'string', short: 'o' }, kubeconfig: { type: 'string' } },
    statsUsage,
  );
  noMoreArgs(positionals, 1, `get ${resource} takes at most one NAME`);
  const output = oneOf(values.output, ['table', 'json'] as const, '-o', 'table');
  const spec = statsKinds[resource];
  const all = values['all-namespaces'] === true;
  if (all && values.namespace) throw new UsageError('-n and -A cannot be used together');
  checkNamespace('-n', values.namespace);
  checkName('NAME', positionals[0]);
  if (all && positionals[0] !== undefined) throw new UsageError('a resource cannot be retrieved by NAME across all namespaces: give -n NS instead of -A', { field: 'all-namespaces' });
  let api = client;
  if (!api) {
    api = new HttpClient({ kubeconfig: clusterKubeconfig(io, values.kubeconfig), requestTimeoutMs: 10_000 });
  }
  const base = api.resource<NetworkPolicyStats>(spec.gvr);
  const r = spec.namespaced && !all ? base.inNamespace(values.namespace ?? 'default') : base;
  const name = positionals[0];
  const items = name ? [await r.get(name)] : (await r.list()).items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  if (output === 'json') {
    io.stdout(`${JSON.stringify(name ? items[0] : { apiVersion: 'stats.antrea.io/v1alpha1', kind: `${spec.kind}List`, items }, null, 2)}\n`);
    return 0;
  }
  if (items.length === 0) {
    io.stderr(spec.namespaced && !all ? `No resources found in ${values.namespace ?? 'default'} namespace.\n` : 'No resources found\n');
    return 0;
  }
  io.stdout(renderStats(items, spec.namespaced && all));
  return 0;
}
