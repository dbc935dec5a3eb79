/**
 * `stats.antrea.io/v1alpha1`: per-policy traffic stats, aggregated by the controller (reference/antrea.md 4.6).
 * `creationTimestamp` is when the controller started collecting for the policy, not the policy's own.
 */
import type { GroupVersionResource, KubeObject } from './meta.js';

export const STATS_GROUP = 'stats.antrea.io';

export const statsGvr = {
  networkpolicystats: { group: STATS_GROUP, version: 'v1alpha1', resource: 'networkpolicystats' },
  antreaclusternetworkpolicystats: { group: STATS_GROUP, version: 'v1alpha1', resource: 'antreaclusternetworkpolicystats' },
  antreanetworkpolicystats: { group: STATS_GROUP, version: 'v1alpha1', resource: 'antreanetworkpolicystats' },
} as const satisfies Record<string, GroupVersionResource>;

export interface TrafficStats {
  packets?: number;
  bytes?: number;
  sessions?: number;
}

export interface RuleTrafficStats {
  name: string;
  trafficStats: TrafficStats;
}

export interface NetworkPolicyStats extends KubeObject {
  trafficStats: TrafficStats;
}

export interface AntreaClusterNetworkPolicyStats extends KubeObject {
  trafficStats: TrafficStats;
  ruleTrafficStats?: RuleTrafficStats[];
}

export interface AntreaNetworkPolicyStats extends KubeObject {
  trafficStats: TrafficStats;
  ruleTrafficStats?: RuleTrafficStats[];
}
