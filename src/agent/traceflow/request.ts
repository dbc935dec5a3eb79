/**
 * The packet a Traceflow injects, from its spec (Antrea's agent defaults: ICMP echo, TTL 64, TCP SYN, a random
 * source port when none is given), and where it goes (a Pod's address, a Service's ClusterIP and port, or an IP).
 */
import type { Pod, Service } from '../../apis/core.js';
import {
  supportedProtocols,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  traceflowProtocol,
  type TraceflowSpec,
} from '../../apis/crd/traceflow.js';
import type { SendRequest } from '../../datapath/traffic.js';
import { AntreaError } from '../../util/errors.js';

const DEFAULT_TTL = 64;

/** TCP flag bits as the simulator's letters; bits it does not model (URG, ECE, CWR) are left out. */
export function tcpFlagLetters(flags: number): string {
  const bits: [number, string][] = [[TCP_SYN, 'S'], [TCP_ACK, 'A'], [TCP_FIN, 'F'], [TCP_RST, 'R'], [TCP_PSH, 'P']];
  return bits.filter(([b]) => (flags & b) !== 0).map(([, l]) => l).join('');
}

export interface Lookups {
  pod(namespace: string, name: string): Pod | undefined;
  service(namespace: string, name: string): Service | undefined;
  /** AntreaProxy on this agent: without it the pipeline has no Service load balancing to trace. */
  proxyEnabled: boolean;
}

export interface Destination {
  ip: string;
  port?: number;
}

/** Where the packet goes; errors say why there is nowhere to send it. */
export function resolveDestination(spec: TraceflowSpec, lookups: Lookups): Destination {
  const dst = spec.destination ?? {};
  const ns = dst.namespace ?? '';
  const th = spec.packet?.transportHeader;
  const dstPort = th?.tcp?.dstPort || th?.udp?.dstPort || undefined;
  if (dst.pod) {
    const pod = lookups.pod(ns, dst.pod);
    if (!pod) throw new AntreaError('ERR_TRACEFLOW_DESTINATION', `destination Pod ${ns}/${dst.pod} not found`);
    const ip = pod.status?.podIPs?.map((p) => p.ip).find((a) => a && !a.includes(':')) ?? pod.status?.podIP;
    if (!ip) throw new AntreaError('ERR_TRACEFLOW_DESTINATION', `destination Pod ${ns}/${dst.pod} has no IP address yet`);
    return { ip, ...(dstPort ? { port: dstPort } : {}) };
  }
  if (dst.service) {
    if (!lookups.proxyEnabled) throw new AntreaError('ERR_TRACEFLOW_DESTINATION', 'using Service destination requires AntreaProxy feature enabled');
    const svc = lookups.service(ns, dst.service);
    if (!svc) throw new AntreaError('ERR_TRACEFLOW_DESTINATION', `destination Service ${ns}/${dst.service} not found`);
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') throw new AntreaError('ERR_TRACEFLOW_DESTINATION', `destination Service ${ns}/${dst.service} has no ClusterIP`);
    const proto = supportedProtocols[traceflowProtocol(spec)];
    const port = dstPort ?? svc.spec?.ports?.find((p) => (p.protocol ?? 'TCP') === proto)?.port;
    return { ip, ...(port ? { port } : {}) };
  }
  if (dst.ip) return { ip: dst.ip, ...(dstPort ? { port: dstPort } : {}) };
  throw new AntreaError('ERR_TRACEFLOW_DESTINATION', 'the Traceflow has no destination');
}

/** The packet-out request for a non-live Traceflow from `srcPod` (`namespace/name`). */
export function injectionRequest(spec: TraceflowSpec, srcPod: string, dst: Destination): SendRequest {
  const protoNumber = traceflowProtocol(spec);
  const protocol = supportedProtocols[protoNumber];
  if (!protocol) throw new AntreaError('ERR_TRACEFLOW_PROTOCOL', `IP protocol ${protoNumber} is not supported by Traceflow (1 ICMP, 6 TCP, 17 UDP)`);
  const th = spec.packet?.transportHeader;
  const ttl = spec.packet?.ipHeader?.ttl || DEFAULT_TTL;
  const req: SendRequest = { from: { pod: srcPod }, to: { ip: dst.ip, ...(dst.port ? { port: dst.port } : {}) }, protocol, ttl, trace: true };
  if (protocol === 'TCP') {
    req.tcpFlags = tcpFlagLetters(th?.tcp?.flags ?? TCP_SYN);
    if (th?.tcp?.srcPort) req.srcPort = th.tcp.srcPort;
  } else if (protocol === 'UDP') {
    if (th?.udp?.srcPort) req.srcPort = th.udp.srcPort;
  } else if (th?.icmp?.id) {
    // The simulator carries the ICMP echo id in the source port slot.
    req.srcPort = th.icmp.id;
  }
  return req;
}
