/**
 * The flow exporter's settings as Antrea 1.5 parses them (`pkg/util/flowexport/flowexport.go` and the agent's
 * `validateFlowExporterConfig`): the collector address `<HOST>:[<PORT>][:<PROTO>]` and the poll interval and
 * export timeouts as Go durations.
 */
import { isIPv6 } from 'node:net';
import { parseDuration } from './duration.js';

export type FlowProto = 'tls' | 'tcp' | 'udp';

export interface FlowCollector {
  host: string;
  port: number;
  proto: FlowProto;
  /** `host:port`, with an IPv6 host in brackets (Go's `net.JoinHostPort`). */
  address: string;
}

export const DEFAULT_FLOW_COLLECTOR_PORT = '4739';
export const DEFAULT_FLOW_COLLECTOR_PROTO: FlowProto = 'tls';

const PROTOS: readonly string[] = ['tls', 'tcp', 'udp'];

/**
 * Parses a collector address. An IPv6 host must be bracketed (`[fd00::1]:4739:tcp`); an empty port means 4739; no
 * proto means tls. Unlike Antrea, the port must be a number in 1..65535 (Antrea only finds out when it dials).
 */
export function parseFlowCollectorAddr(addr: string): FlowCollector | { error: string } {
  let parts: string[];
  let bracketed = false;
  if (/^\[.*\]:.*/.test(addr)) {
    const idx = addr.indexOf(']');
    parts = [addr.slice(1, idx), ...addr.slice(idx + 2).split(':')];
    bracketed = true;
  } else {
    parts = addr.split(':');
    // Antrea would read `fd00::1` as host "fd00", port "", proto "1"; say what is wrong instead.
    if (parts.length > 3 || isIPv6(addr)) {
      return { error: `flow collector address ${addr} is given in invalid format (an IPv6 host must be in brackets, e.g. [fd00::1]:4739:tls)` };
    }
  }
  let host: string;
  let portText: string;
  let proto: FlowProto = DEFAULT_FLOW_COLLECTOR_PROTO;
  if (parts.length === 3) {
    host = parts[0] as string;
    portText = parts[1] === '' ? DEFAULT_FLOW_COLLECTOR_PORT : (parts[1] as string);
    const p = parts[2] as string;
    if (!PROTOS.includes(p)) return { error: `connection over ${p} transport proto is not supported` };
    proto = p as FlowProto;
  } else if (parts.length === 2) {
    host = parts[0] as string;
    portText = parts[1] as string;
  } else if (parts.length === 1) {
    host = parts[0] as string;
    portText = DEFAULT_FLOW_COLLECTOR_PORT;
  } else {
    return { error: `flow collector address ${addr} is given in invalid format` };
  }
  if (host === '') return { error: 'flow collector address has an empty host' };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return { error: `flow collector port ${JSON.stringify(portText)} is not a number between 1 and 65535` };
  }
  const port = Number(portText);
  const address = bracketed || host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, proto, address };
}

export interface FlowIntervals {
  pollIntervalNs: number;
  activeFlowTimeoutNs: number;
  idleFlowTimeoutNs: number;
  staleConnectionTimeoutNs: number;
}

export interface FlowIntervalIssue {
  severity: 'error' | 'warning';
  key: 'flowPollInterval' | 'activeFlowExportTimeout' | 'idleFlowExportTimeout';
  message: string;
}

const SECOND = 1e9;
const DEFAULT_STALE_NS = 5 * 60 * SECOND;

/**
 * Antrea's rules: the poll interval must parse and be at least 1s; each timeout must parse, and one smaller than the
 * poll interval is raised to it with a warning; the stale-connection timeout is 5m, or twice the larger timeout when
 * either exceeds 5m.
 */
export function resolveFlowIntervals(poll: string, active: string, idle: string): { intervals?: FlowIntervals; issues: FlowIntervalIssue[] } {
  const issues: FlowIntervalIssue[] = [];
  const p = parseDuration(poll);
  let pollNs: number | undefined;
  if ('error' in p) {
    issues.push({ severity: 'error', key: 'flowPollInterval', message: `flow interval string is not provided in right format (${p.error})` });
  } else if (p.ns < SECOND) {
    issues.push({ severity: 'error', key: 'flowPollInterval', message: `flow interval should be greater than or equal to one second, not ${JSON.stringify(poll)}` });
  } else {
    pollNs = p.ns;
  }
  const timeout = (text: string, key: 'activeFlowExportTimeout' | 'idleFlowExportTimeout', label: string): number | undefined => {
    const t = parseDuration(text);
    if ('error' in t) {
      issues.push({ severity: 'error', key, message: `${label} is not provided in right format (${t.error})` });
      return undefined;
    }
    if (pollNs !== undefined && t.ns < pollNs) {
      issues.push({
        severity: 'warning',
        key,
        message: `${label} must be greater than or equal to FlowPollInterval; ${JSON.stringify(text)} is raised to ${JSON.stringify(poll)}`,
      });
      return pollNs;
    }
    return t.ns;
  };
  const activeNs = timeout(active, 'activeFlowExportTimeout', 'ActiveFlowExportTimeout');
  const idleNs = timeout(idle, 'idleFlowExportTimeout', 'IdleFlowExportTimeout');
  if (pollNs === undefined || activeNs === undefined || idleNs === undefined) return { issues };
  const stale = activeNs > DEFAULT_STALE_NS || idleNs > DEFAULT_STALE_NS ? 2 * Math.max(activeNs, idleNs) : DEFAULT_STALE_NS;
  return { intervals: { pollIntervalNs: pollNs, activeFlowTimeoutNs: activeNs, idleFlowTimeoutNs: idleNs, staleConnectionTimeoutNs: stale }, issues };
}
