/**
 * `antrea local traffic`: opens connections or sends packets between Pods, Services, Nodes and outside hosts
 * through the local cluster's datapath, and summarises where each one ended.
 */
import { isIP } from 'node:net';
import type { Pod, Service } from '../apis/core.js';
import { gvr } from '../apiserver/registry.js';
import type { ApiClient } from '../client/types.js';
import type { ConnectionResult, DatapathExecutor, Endpoint, PacketResult, Protocol } from '../datapath/traffic.js';
import { AntreaError } from '../util/errors.js';

export interface TrafficRequest {
  /** `NS/POD`, `node:NAME` (the Node's host network) or an IP outside the cluster (entering at `via`). */
  from: string;
  /** `NS/POD`, `NS/SERVICE` or an IP. */
  to: string;
  port?: number;
  protocol?: Protocol;
  /** Connections to open (default 1); each gets its own source port. */
  connections?: number;
  /** With `packets`, send that many lone packets per connection instead of running connections. */
  packets?: number;
  /** The Node where traffic from outside enters (default: the first Node). */
  via?: string;
}

export interface ConnectionSummary {
  srcPort: number;
  result: 'delivered' | 'dropped';
  /** Where the first packet ended. */
  node?: string;
  pod?: string;
  /** For a drop: the table (stage) or host step, and why. */
  stage?: string;
  reason?: string;
  /** A Reject answered for the destination (the reason says who and how): what the sender got back. */
  rejected?: 'tcp-rst' | 'icmp-unreachable';
  /** The address the packet reached after NAT (the endpoint chosen by a Service). */
  receivedAt?: string;
  packets?: { request: number; reply: number };
  bytes?: { request: number; reply: number };
}

export interface TrafficSummary {
  from: string;
  to: string;
  destination: { ip: string; port?: number; kind: 'pod' | 'service' | 'ip' };
  protocol: Protocol;
  delivered: number;
  dropped: number;
  connections: ConnectionSummary[];
}

const parseProtocol = (p: string | undefined): Protocol => {
  const up = (p ?? 'TCP').toUpperCase();
  if (up === 'TCP' || up === 'UDP' || up === 'ICMP') return up;
  throw new AntreaError('ERR_INVALID_VALUE', `protocol must be tcp, udp or icmp, not ${JSON.stringify(p)}`, { field: 'proto' });
};

async function resolveFrom(client: ApiClient, from: string, via: string | undefined, firstNode: string): Promise<Endpoint> {
  if (from.startsWith('node:')) return { node: from.slice(5) };
  if (isIP(from)) return { external: from, via: via ?? firstNode };
  const [ns, name, extra] = from.split('/');
  if (!ns || !name || extra !== undefined) throw new AntreaError('ERR_INVALID_VALUE', `FROM must be NS/POD, node:NAME or an IP, not ${JSON.stringify(from)}`, { field: 'from' });
  const pod = await client.resource<Pod>(gvr.pods).inNamespace(ns).tryGet(name);
  if (!pod) throw new AntreaError('ERR_NOT_FOUND', `Pod ${from} not found`, { field: 'from' });
  if (!pod.status?.podIP) throw new AntreaError('ERR_NOT_READY', `Pod ${from} has no address yet`, { field: 'from' });
  return { pod: `${ns}/${name}` };
}

async function resolveTo(client: ApiClient, to: string, port: number | undefined): Promise<TrafficSummary['destination']> {
  if (isIP(to)) return { ip: to, ...(port !== undefined ? { port } : {}), kind: 'ip' };
  const [ns, name, extra] = to.split('/');
  if (!ns || !name || extra !== undefined) throw new AntreaError('ERR_INVALID_VALUE', `TO must be NS/POD, NS/SERVICE or an IP, not ${JSON.stringify(to)}`, { field: 'to' });
  const pod = await client.resource<Pod>(gvr.pods).inNamespace(ns).tryGet(name);
  if (pod) {
    if (!pod.status?.podIP) throw new AntreaError('ERR_NOT_READY', `Pod ${to} has no address yet`, { field: 'to' });
    return { ip: pod.status.podIP, ...(port !== undefined ? { port } : {}), kind: 'pod' };
  }
  const svc = await client.resource<Service>(gvr.services).inNamespace(ns).tryGet(name);
  if (!svc) throw new AntreaError('ERR_NOT_FOUND', `no Pod or Service named ${to}`, { field: 'to' });
  const ip = svc.spec.clusterIP;
  if (!ip || ip === 'None') throw new AntreaError('ERR_NOT_READY', `Service ${to} has no ClusterIP`, { field: 'to' });
  const ports = svc.spec.ports ?? [];
  const chosen = port ?? (ports.length === 1 ? ports[0]?.port : undefined);
  if (chosen === undefined) throw new AntreaError('ERR_INVALID_VALUE', `Service ${to} has ${ports.length} ports: give --port`, { field: 'port' });
  if (!ports.some((p) => p.port === chosen)) {
    throw new AntreaError('ERR_INVALID_VALUE', `Service ${to} has no port ${chosen} (it has ${ports.map((p) => p.port).join(', ') || 'none'})`, { field: 'port' });
  }
  return { ip, port: chosen, kind: 'service' };
}

function summarisePacket(p: PacketResult): ConnectionSummary {
  const out: ConnectionSummary = { srcPort: p.srcPort, result: p.delivered ? 'delivered' : 'dropped' };
  if (p.deliveredTo) {
    out.node = p.deliveredTo.node;
    if (p.deliveredTo.pod) out.pod = p.deliveredTo.pod;
  }
  if (p.dropped) {
    out.node = p.dropped.node;
    out.stage = p.dropped.tableName ?? 'host';
    out.reason = p.dropped.reason;
  }
  if (p.rejected) out.rejected = p.rejected.reply;
  if (p.received) out.receivedAt = `${p.received.dstIP}:${p.received.dstPort}`;
  return out;
}

function summariseConnection(c: ConnectionResult): ConnectionSummary {
  const first = c.failure ?? c.packets[0];
  const base = first ? summarisePacket(first) : { srcPort: c.srcPort, result: 'dropped' as const };
  const request = c.packets[0];
  return {
    ...base,
    srcPort: c.srcPort,
    result: c.established ? 'delivered' : 'dropped',
    ...(request?.deliveredTo?.pod ? { pod: request.deliveredTo.pod, node: request.deliveredTo.node } : {}),
    packets: c.delivered,
    bytes: c.bytes,
  };
}

export async function runTraffic(client: ApiClient, executor: DatapathExecutor, firstNode: string, req: TrafficRequest): Promise<TrafficSummary> {
  const protocol = parseProtocol(req.protocol);
  const connections = req.connections ?? 1;
  if (!Number.isInteger(connections) || connections < 1 || connections > 100_000) {
    throw new AntreaError('ERR_INVALID_VALUE', `connections must be between 1 and 100000, not ${connections}`, { field: 'connections' });
  }
  if (req.packets !== undefined && (!Number.isInteger(req.packets) || req.packets < 1 || req.packets > 100_000)) {
    throw new AntreaError('ERR_INVALID_VALUE', `packets must be between 1 and 100000, not ${req.packets}`, { field: 'packets' });
  }
  if (protocol !== 'ICMP' && req.port === undefined && !req.to.includes('/')) {
    throw new AntreaError('ERR_INVALID_VALUE', `--port is needed for ${protocol} to an IP`, { field: 'port' });
  }
  const from = await resolveFrom(client, req.from, req.via, firstNode);
  const destination = await resolveTo(client, req.to, req.port ?? (protocol === 'ICMP' ? undefined : req.port));
  const port = protocol === 'ICMP' ? undefined : (destination.port ?? req.port ?? 80);
  const to = { ip: destination.ip, ...(port !== undefined ? { port } : {}) };
  const summaries: ConnectionSummary[] = [];
  for (let i = 0; i < connections; i++) {
    if (req.packets !== undefined) {
      const first = await executor.send({ from, to, protocol, trace: true });
      const s = summarisePacket(first);
      let delivered = first.delivered ? 1 : 0;
      for (let k = 1; k < req.packets; k++) {
        const r = await executor.send({ from, to, protocol, srcPort: first.srcPort, ...(protocol === 'TCP' ? { tcpFlags: 'A' } : {}), trace: false });
        if (r.delivered) delivered++;
      }
      summaries.push({ ...s, packets: { request: delivered, reply: 0 } });
    } else {
      summaries.push(summariseConnection(await executor.connect({ from, to, protocol, trace: true })));
    }
  }
  const delivered = summaries.filter((s) => s.result === 'delivered').length;
  return { from: req.from, to: req.to, destination, protocol, delivered, dropped: summaries.length - delivered, connections: summaries };
}
