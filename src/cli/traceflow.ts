/**
 * `antctl traceflow`: creates a Traceflow in the running cluster (found through the kubeconfig), waits for it to
 * finish, prints Antrea's antctl response (name, phase, source, destination, results, capturedPacket) and deletes it.
 * Exit 1 when the trace failed or did not finish in time; the reason is printed with the result.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { stringify } from 'yaml';
import type { Pod } from '../apis/core.js';
import {
  PROTOCOL_ICMP,
  PROTOCOL_TCP,
  PROTOCOL_UDP,
  traceflowGvr,
  type NodeResult,
  type Traceflow,
  type TraceflowDestination,
  type TraceflowPacket,
  type TraceflowPhase,
  type TraceflowSource,
} from '../apis/crd/traceflow.js';
import { gvr } from '../apiserver/registry.js';
import { HttpClient } from '../client/http.js';
import { isApiError, type ApiClient } from '../client/types.js';
import { AntreaError, describeError } from '../util/errors.js';
import { clusterKubeconfig, controllerFeatureGates } from './live.js';
import { checkNamespace, EXIT_FAILED, EXIT_INTERRUPTED, noMoreArgs, oneOf, parseFlags, UsageError, type CliIO } from './io.js';

export const traceflowUsage = `usage: antctl traceflow -S NS/POD -D NS/POD|NS/SVC|IP [-f FLOW] [--live-traffic] [--dropped-only] [-t TIMEOUT] [-o yaml|json] [--nowait] [--kubeconfig FILE]

Starts a Traceflow from a Pod to a Pod, Service or IP and prints where the packet went.
  -S, --source        Namespace/Pod or Pod (default Namespace "default"); an IP only with --live-traffic
  -D, --destination   Namespace/Pod, Pod, Namespace/Service, Service or IP
  -f, --flow          the packet's headers, e.g. icmp | tcp,tcp_dst=80 | udp,udp_src=1234,udp_dst=53
                      (fields: icmp, tcp, udp, tcp_src, tcp_dst, tcp_flags, udp_src, udp_dst)
  -L, --live-traffic  trace the first packet of matching live traffic
      --dropped-only  with --live-traffic: capture only a dropped packet
  -t, --timeout       how long to wait, e.g. 10s, 1m (default 20s, at most 12h)
  -o, --output        yaml (default) or json
      --nowait        create the Traceflow and return without waiting (it is not deleted)
`;

const DEFAULT_TIMEOUT_SECONDS = 20;
const MAX_TIMEOUT_SECONDS = 12 * 3600;
/** The controller's own timeout decides the phase; antctl waits a little longer to read it. */
const WAIT_GRACE_MS = 5_000;

const protocols: Readonly<Record<string, number>> = { icmp: PROTOCOL_ICMP, tcp: PROTOCOL_TCP, udp: PROTOCOL_UDP };
const portFields = ['tcp_src', 'tcp_dst', 'tcp_flags', 'udp_src', 'udp_dst'] as const;

/** Antrea's FLOW syntax: comma-separated protocol names and `field=number` pairs; spaces are ignored. */
export function parseFlow(flow: string): TraceflowPacket {
  const fields = new Map<string, number | undefined>();
  for (const part of flow.replace(/\s+/g, '').split(',')) {
    if (part === '') continue;
    const kv = part.split('=');
    if (kv.length === 1) {
      fields.set(part, undefined);
      continue;
    }
    const [k, v] = kv as [string, string];
    if (kv.length !== 2 || !k || !v) throw new UsageError(`flow: ${JSON.stringify(part)} is not a field or field=value`);
    if (!/^\d+$/.test(v)) throw new UsageError(`flow: ${k} must be a number, not ${JSON.stringify(v)}`);
    fields.set(k, Number(v));
  }
  const known = new Set<string>([...Object.keys(protocols), ...portFields]);
  for (const [k, v] of fields) {
    if (!known.has(k)) throw new UsageError(`flow: unknown field ${JSON.stringify(k)} (known: ${[...known].join(', ')})`);
    if (k in protocols && v !== undefined) throw new UsageError(`flow: ${k} takes no value`);
    if (!(k in protocols) && v === undefined) throw new UsageError(`flow: ${k} needs a value (${k}=N)`);
    const max = k === 'tcp_flags' ? 255 : 65535;
    if (v !== undefined && v > max) throw new UsageError(`flow: ${k}=${v} is out of range (0..${max})`);
  }
  const named = Object.keys(protocols).filter((p) => fields.has(p));
  if (named.length > 1) throw new UsageError(`flow: give one protocol, not ${named.join(' and ')}`);
  const pkt: TraceflowPacket = {};
  const tcp = portFields.filter((f) => f.startsWith('tcp_') && fields.has(f));
  const udp = portFields.filter((f) => f.startsWith('udp_') && fields.has(f));
  if (tcp.length > 0 && udp.length > 0) throw new UsageError('flow: tcp_* and udp_* fields cannot be mixed');
  const proto = named[0] ? protocols[named[0]] : tcp.length > 0 ? PROTOCOL_TCP : udp.length > 0 ? PROTOCOL_UDP : undefined;
  if ((tcp.length > 0 && proto !== PROTOCOL_TCP) || (udp.length > 0 && proto !== PROTOCOL_UDP)) {
    throw new UsageError(`flow: ${[...tcp, ...udp].join(', ')} do not go with ${named[0]}`);
  }
  if (proto !== undefined) pkt.ipHeader = { protocol: proto };
  const num = (k: string) => fields.get(k);
  if (tcp.length > 0) {
    pkt.transportHeader = {
      tcp: {
        ...(num('tcp_src') !== undefined ? { srcPort: num('tcp_src') } : {}),
        ...(num('tcp_dst') !== undefined ? { dstPort: num('tcp_dst') } : {}),
        ...(num('tcp_flags') !== undefined ? { flags: num('tcp_flags') } : {}),
      },
    };
  } else if (udp.length > 0) {
    pkt.transportHeader = {
      udp: { ...(num('udp_src') !== undefined ? { srcPort: num('udp_src') } : {}), ...(num('udp_dst') !== undefined ? { dstPort: num('udp_dst') } : {}) },
    };
  }
  return pkt;
}

/** `20`, `20s`, `1m30s`, `2h`: seconds, at least 1 and at most 12 hours. */
export function parseTimeout(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text.trim());
  if (!m || text.trim() === '') throw new UsageError(`--timeout: ${JSON.stringify(text)} is not a duration such as 10s, 1m or 1h`);
  const secs = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (secs < 1) throw new UsageError('--timeout must be at least 1s');
  if (secs > MAX_TIMEOUT_SECONDS) throw new UsageError('--timeout cannot be longer than 12 hours');
  return secs;
}

function splitRef(text: string, what: string): { namespace: string; name: string } {
  const parts = text.split('/');
  if (parts.length === 1 && parts[0]) return { namespace: 'default', name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) {
    checkNamespace(`${what} ${JSON.stringify(text)}:`, parts[0]);
    return { namespace: parts[0], name: parts[1] };
  }
  throw new UsageError(`${what} should be in the format of Namespace/Name or Name, or an IP address, not ${JSON.stringify(text)}`);
}

/** A Traceflow name from its ends: lower-case DNS characters and a random suffix, as antctl does. */
export function traceflowName(src: string, dst: string, suffix = randomBytes(4).toString('hex')): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  const base = `${clean(src)}-to-${clean(dst)}`.slice(0, 240).replace(/[-.]+$/, '');
  return `${base}-${suffix}`;
}

export interface TraceflowResponse {
  name: string;
  phase?: TraceflowPhase;
  reason?: string;
  source?: string;
  destination?: string;
  results?: NodeResult[];
  capturedPacket?: TraceflowPacket;
}

export function traceflowResponse(tf: Traceflow): TraceflowResponse {
  const { source = {}, destination = {} } = tf.spec ?? {};
  const dst = destination.ip || (destination.pod ? `${destination.namespace}/${destination.pod}` : destination.service ? `${destination.namespace}/${destination.service}` : '');
  const src = source.pod ? `${source.namespace}/${source.pod}` : source.ip ?? '';
  const st = tf.status ?? {};
  return {
    name: tf.metadata.name ?? '',
    ...(st.phase ? { phase: st.phase } : {}),
    ...(st.reason ? { reason: st.reason } : {}),
    ...(src ? { source: src } : {}),
    ...(dst ? { destination: dst } : {}),
    ...(st.results?.length ? { results: st.results } : {}),
    ...(st.capturedPacket ? { capturedPacket: st.capturedPacket } : {}),
  };
}

/** The controller's word on the gate; undefined when the controller cannot be asked (the API then decides). */
async function traceflowGate(kubeconfig: string): Promise<'Enabled' | 'Disabled' | undefined> {
  try {
    const gates = await controllerFeatureGates(kubeconfig, 5_000);
    const mine = gates.filter((g) => g.name === 'Traceflow');
    if (mine.length === 0) return undefined;
    return mine.every((g) => g.status === 'Enabled') ? 'Enabled' : 'Disabled';
  } catch {
    return undefined;
  }
}

async function destinationOf(client: ApiClient, text: string): Promise<TraceflowDestination> {
  if (isIP(text)) return { ip: text };
  const { namespace, name } = splitRef(text, 'destination');
  // Antrea's antctl: a Pod of that name wins, else it is a Service.
  const pod = await client.resource<Pod>(gvr.pods).inNamespace(namespace).tryGet(name);
  if (pod) return { namespace, pod: name };
  const svc = await client.resource(gvr.services).inNamespace(namespace).tryGet(name);
  return svc ? { namespace, service: name } : { namespace, pod: name };
}

export async function traceflowCommand(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      source: { type: 'string', short: 'S' },
      destination: { type: 'string', short: 'D' },
      flow: { type: 'string', short: 'f' },
      'live-traffic': { type: 'boolean', short: 'L' },
      'dropped-only': { type: 'boolean' },
      timeout: { type: 'string', short: 't' },
      output: { type: 'string', short: 'o' },
      nowait: { type: 'boolean' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    traceflowUsage,
  );
  if (values.help) {
    io.stdout(traceflowUsage);
    return 0;
  }
  noMoreArgs(positionals, 0, 'traceflow takes only flags (-S, -D, -f, ...)');
  const output = oneOf(values.output, ['yaml', 'json'] as const, '-o', 'yaml');
  const live = values['live-traffic'] === true;
  const timeout = values.timeout !== undefined ? parseTimeout(values.timeout) : DEFAULT_TIMEOUT_SECONDS;
  if (!live && !values.source) throw new UsageError('please provide a source (-S NS/POD)', { field: 'source' });
  if (!live && !values.destination) throw new UsageError('please provide a destination (-D NS/POD, NS/SVC or IP)', { field: 'destination' });
  if (!values.source && !values.destination) throw new UsageError('one of source and destination must be a Pod');
  if (values['dropped-only'] && !live) throw new UsageError('--dropped-only works only with live-traffic Traceflow');
  const packet = parseFlow(values.flow ?? '');
  let source: TraceflowSource = {};
  if (values.source) {
    if (isIP(values.source)) {
      if (!live) throw new UsageError('source must be a Pod if not a live-traffic Traceflow');
      source = { ip: values.source };
    } else {
      const { namespace, name } = splitRef(values.source, 'source');
      source = { namespace, pod: name };
    }
  }

  const kubeconfig = clusterKubeconfig(io, values.kubeconfig);
  if ((await traceflowGate(kubeconfig)) === 'Disabled') {
    throw new AntreaError('ERR_FEATURE_DISABLED', 'Traceflow is disabled in this cluster: the antrea-controller reports the Traceflow feature gate Disabled (enable it in the antrea ConfigMap for the agent and the controller)', { gate: 'Traceflow' });
  }
  const client = new HttpClient({ kubeconfig, requestTimeoutMs: 10_000 });
  try {
    const destination: TraceflowDestination = values.destination ? await destinationOf(client, values.destination) : {};
    if (!source.pod && !destination.pod) throw new UsageError('one of source and destination must be a Pod');
    const srcName = source.pod ? `${source.namespace}-${source.pod}` : source.ip ?? 'any';
    const dstName = destination.ip ?? (destination.pod || destination.service ? `${destination.namespace}-${destination.pod ?? destination.service}` : 'any');
    const tf: Traceflow = {
      apiVersion: 'crd.antrea.io/v1alpha1',
      kind: 'Traceflow',
      metadata: { name: traceflowName(srcName, dstName) },
      spec: { source, destination, packet, ...(live ? { liveTraffic: true } : {}), ...(values['dropped-only'] ? { droppedOnly: true } : {}), timeout },
    };
    const traceflows = client.resource<Traceflow>(traceflowGvr);
    try {
      await traceflows.create(tf);
    } catch (err) {
      if (isApiError(err, 'NotFound')) {
        throw new AntreaError('ERR_FEATURE_DISABLED', `the cluster does not serve traceflows.crd.antrea.io: is the Traceflow feature gate enabled? (${describeError(err)})`, { gate: 'Traceflow' });
      }
      throw err;
    }
    const name = tf.metadata.name as string;
    if (values.nowait) {
      io.stdout(`traceflow.crd.antrea.io/${name} created\n`);
      return 0;
    }
    if (io.isTTY) io.stderr(`waiting for Traceflow ${name} (up to ${timeout}s)...\n`);
    try {
      const deadline = Date.now() + timeout * 1000 + WAIT_GRACE_MS;
      let last: Traceflow | undefined;
      while (Date.now() < deadline && !io.stopSignal?.aborted) {
        last = await traceflows.get(name);
        const phase = last.status?.phase;
        if (phase === 'Succeeded' || phase === 'Failed') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const finished = last?.status?.phase === 'Succeeded' || last?.status?.phase === 'Failed';
      if (!finished && io.stopSignal?.aborted) {
        io.stderr(`interrupted: Traceflow ${name} is deleted before it finished\n`);
        return EXIT_INTERRUPTED;
      }
      if (!last) throw new AntreaError('ERR_TRACEFLOW_TIMEOUT', `timeout waiting for Traceflow ${name} to be done`);
      const response = traceflowResponse(last);
      io.stdout(output === 'json' ? `${JSON.stringify(response, null, 2)}\n` : stringify(response));
      const phase = last.status?.phase;
      if (phase === 'Succeeded') return 0;
      io.stderr(phase === 'Failed' ? `error: Traceflow ${name} failed: ${last.status?.reason ?? 'no reason given'}\n` : `error: timeout waiting for Traceflow ${name} to be done\n`);
      return EXIT_FAILED;
    } finally {
      await traceflows.tryDelete(name).catch(() => undefined);
    }
  } finally {
    await client.close();
  }
}
