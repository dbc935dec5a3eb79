/** `antrea local ...`: run the whole system on this machine, and talk to it. */
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../apis/meta.js';
import { HttpClient } from '../client/http.js';
import { isApiError } from '../apiserver/types.js';
import { parseGateString } from '../featuregate/index.js';
import { DEFAULT_MANIFEST, LocalCluster } from '../local/cluster.js';
import { readControlInfo, startControlServer } from '../local/control.js';
import { defaultStateDir, findKubeconfig, kubeconfigPath } from '../local/paths.js';
import type { TrafficSummary } from '../local/traffic.js';
import { AntreaError, describeError } from '../util/errors.js';
import { createLogger, parseLogLevel } from '../util/log.js';
import { startFlowSink } from './flows.js';
import { discover, getTable, resolveKind, resolveObjectKind } from './kubeapi.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, oneOf, parseFlags, processIO, runCommand, UsageError, type CliIO } from './io.js';
import { renderTable } from './table.js';

const usage = `usage: antrea local COMMAND [ARGS]

Commands:
  up [--nodes N] [--manifest FILE] [--state DIR] [--port P] [--feature-gates A=true,...] [--apply FILE]
     [--datapath sim|ovs] [--flows FILE|-] [--log-level L]
      runs the API server, antrea-controller and one antrea-agent per Node, until Ctrl-C; --datapath ovs gives each
      Node a network namespace with its own Open vSwitch and each Pod a namespace (root, Linux); --flows turns
      FlowExporter on and appends its records to FILE (- for stdout), one JSON object per line
  apply -f FILE                          creates or updates the objects of FILE (YAML or JSON, several documents)
  get KIND [NAME] [-n NS | -A] [-o table|json|yaml]
  delete KIND NAME [-n NS]
  traffic FROM TO [--port P] [--proto tcp|udp|icmp] [--connections N] [--packets N] [--via NODE] [-o text|json]
      FROM: NS/POD, node:NAME or an outside IP; TO: NS/POD, NS/SERVICE or an IP
  status                                 the running cluster's processes

Clients find the cluster through --kubeconfig FILE, KUBECONFIG, or the default state directory
(${'$'}XDG_STATE_HOME/antrea-ts/local or ~/.local/state/antrea-ts/local).
`;

export async function antrea(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    const [group, command, ...rest] = argv;
    if (group === undefined || group === '-h' || group === '--help' || group === 'help') {
      io.stdout(usage);
      return group === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (group !== 'local') throw new UsageError(`unknown command ${JSON.stringify(group)}\n${usage}`);
    switch (command) {
      case 'up':
        return up(io, rest);
      case 'apply':
        return apply(io, rest);
      case 'get':
        return get(io, rest);
      case 'delete':
        return del(io, rest);
      case 'traffic':
        return traffic(io, rest);
      case 'status':
        return status(io, rest);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}\n${usage}`);
    }
  });
}

async function up(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      nodes: { type: 'string' },
      manifest: { type: 'string' },
      state: { type: 'string' },
      port: { type: 'string' },
      'feature-gates': { type: 'string' },
      apply: { type: 'string' },
      datapath: { type: 'string' },
      'log-level': { type: 'string', short: 'v' },
      flows: { type: 'string' },
    },
    usage,
  );
  const datapath = oneOf(values.datapath, ['sim', 'ovs'] as const, '--datapath', 'sim');
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const nodes = values.nodes === undefined ? 2 : Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1) throw new UsageError(`--nodes must be a positive number, not ${JSON.stringify(values.nodes)}`);
  const port = values.port === undefined ? 6443 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not ${JSON.stringify(values.port)}`);
  let gates: Record<string, boolean> = {};
  if (values['feature-gates']) {
    const parsed = parseGateString(values['feature-gates']);
    if (parsed.problems.length) throw new UsageError(`--feature-gates: ${parsed.problems.map((p) => p.message).join('; ')}`);
    gates = parsed.values;
  }
  let level;
  try {
    level = parseLogLevel(values['log-level'] ?? 'info');
  } catch (err) {
    throw new UsageError(`--log-level: ${describeError(err)}`);
  }
  const stateDir = resolve(io.cwd, values.state ?? defaultStateDir(io.env));
  const logger = createLogger({ level, sink: (line) => io.stderr(`${line}\n`), format: io.isTTY ? 'text' : 'json' });
  const progress = (line: string) => {
    if (io.isTTY) io.stderr(`… ${line}\n`);
  };
  const started = Date.now();
  const flows = values.flows
    ? await startFlowSink(readFileSync(resolve(io.cwd, values.manifest ?? DEFAULT_MANIFEST), 'utf8'), values.flows === '-' ? '-' : resolve(io.cwd, values.flows), io)
    : undefined;
  if (flows) gates = { ...gates, FlowExporter: true };
  const cluster = await LocalCluster.start({
    nodes,
    stateDir,
    http: { port },
    gates,
    logger,
    progress,
    datapath,
    ...(flows ? { manifestText: flows.manifestText } : values.manifest ? { manifestPath: resolve(io.cwd, values.manifest) } : {}),
  }).catch(async (err: unknown) => {
    await flows?.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new AntreaError('ERR_PORT_IN_USE', `port ${port} is in use; choose another with --port`);
    throw err;
  });
  const control = await startControlServer(cluster, stateDir, logger);
  io.stdout(`antrea local is up: ${nodes} Node${nodes > 1 ? 's' : ''} (${datapath} datapath) in ${Date.now() - started} ms\n`);
  io.stdout(`API server: ${cluster.url}\n`);
  io.stdout(`kubeconfig: ${kubeconfigPath(stateDir)}\n`);
  io.stdout(`try: kubectl --kubeconfig ${kubeconfigPath(stateDir)} get pods -A, or antctl get featuregates\n`);
  if (flows) io.stdout(`flow records (IPFIX from ${flows.address}): ${values.flows === '-' ? 'stdout' : resolve(io.cwd, values.flows as string)}\n`);
  if (values.apply) {
    const applied = await applyFile(new HttpClient({ kubeconfig: kubeconfigPath(stateDir) }), cluster.url as string, resolve(io.cwd, values.apply));
    for (const line of applied) io.stdout(`${line}\n`);
  }
  await new Promise<void>((done) => {
    if (!io.stopSignal || io.stopSignal.aborted) return done();
    io.stopSignal.addEventListener('abort', () => done(), { once: true });
  });
  io.stdout('stopping antrea local\n');
  await control.close();
  await cluster.stop();
  await flows?.close();
  return EXIT_OK;
}

interface ClusterTarget {
  client: HttpClient;
  server: string;
}

function connect(io: CliIO, kubeconfigFlag: string | undefined): ClusterTarget {
  const kubeconfig = findKubeconfig(kubeconfigFlag, io.env, io.cwd);
  if (!kubeconfig) throw new UsageError('no local cluster found: start one with `antrea local up`, or give --kubeconfig FILE');
  const client = new HttpClient({ kubeconfig });
  return { client, server: client.server };
}

function readObjects(path: string): KubeObject[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AntreaError('ERR_READ_FILE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeError(err)}`);
  }
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length > 0) {
      throw new AntreaError('ERR_PARSE', `${path}: ${doc.errors[0]?.message.split('\n')[0] ?? 'malformed YAML'}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const items = (value as { kind?: string; items?: unknown[] }).kind === 'List' ? ((value as { items?: unknown[] }).items ?? []) : [value];
    for (const item of items) {
      const o = item as Partial<KubeObject>;
      if (typeof o !== 'object' || !o.apiVersion || !o.kind || !o.metadata?.name) {
        throw new AntreaError('ERR_PARSE', `${path}: every object needs apiVersion, kind and metadata.name`);
      }
      objects.push(o as KubeObject);
    }
  }
  return objects;
}

async function applyFile(client: HttpClient, server: string, path: string): Promise<string[]> {
  const objects = readObjects(path);
  const resources = await discover(server);
  const lines: string[] = [];
  for (const obj of objects) {
    const r = resolveObjectKind(resources, obj.apiVersion as string, obj.kind as string);
    const namespace = r.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const handle = namespace ? client.resource(r.gvr).inNamespace(namespace) : client.resource(r.gvr);
    const label = `${r.gvr.resource}${r.gvr.group ? `.${r.gvr.group}` : ''}/${obj.metadata.name}`;
    try {
      await handle.create(obj);
      lines.push(`${label} created`);
    } catch (err) {
      if (!isApiError(err, 'AlreadyExists')) throw err;
      // A merge patch of the file's content: fields the file does not set (spec.nodeName set by the scheduler,
      // status) are kept, as kubectl apply keeps fields it does not manage.
      const { resourceVersion: _rv, ...metadata } = obj.metadata;
      await handle.mergePatch(obj.metadata.name as string, { ...obj, metadata });
      lines.push(`${label} configured`);
    }
  }
  return lines;
}

async function apply(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { filename: { type: 'string', short: 'f' }, kubeconfig: { type: 'string' } }, usage);
  if (!values.filename || positionals.length > 0) throw new UsageError('usage: antrea local apply -f FILE');
  const { client, server } = connect(io, values.kubeconfig);
  try {
    for (const line of await applyFile(client, server, resolve(io.cwd, values.filename))) io.stdout(`${line}\n`);
  } finally {
    await client.close();
  }
  return EXIT_OK;
}

function collectionPath(r: { gvr: { group: string; version: string; resource: string } }, namespace: string | undefined): string {
  const prefix = r.gvr.group ? `/apis/${r.gvr.group}/${r.gvr.version}` : `/api/${r.gvr.version}`;
  return `${prefix}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${r.gvr.resource}`;
}

async function get(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { namespace: { type: 'string', short: 'n' }, 'all-namespaces': { type: 'boolean', short: 'A' }, output: { type: 'string', short: 'o' }, kubeconfig: { type: 'string' } },
    usage,
  );
  const [kind, name, extra] = positionals;
  if (!kind || extra !== undefined) throw new UsageError('usage: antrea local get KIND [NAME] [-n NS | -A] [-o table|json|yaml]');
  const output = oneOf(values.output, ['table', 'json', 'yaml', 'wide'] as const, '-o', 'table');
  const { client, server } = connect(io, values.kubeconfig);
  try {
    const r = resolveKind(await discover(server), kind);
    const all = Boolean(values['all-namespaces']) && !name;
    const namespace = r.namespaced && !all ? (values.namespace ?? 'default') : undefined;
    if (output === 'json' || output === 'yaml') {
      const handle = namespace ? client.resource(r.gvr).inNamespace(namespace) : client.resource(r.gvr);
      const body = name ? await handle.get(name) : { apiVersion: 'v1', kind: 'List', items: (await handle.list()).items };
      io.stdout(output === 'json' ? `${JSON.stringify(body, null, 2)}\n` : stringify(body));
      return EXIT_OK;
    }
    const table = await getTable(server, `${collectionPath(r, namespace)}${name ? `/${encodeURIComponent(name)}` : ''}`);
    const cols = table.columnDefinitions.map((c, i) => ({ ...c, i })).filter((c) => output === 'wide' || !c.priority);
    const headers = [...(all && r.namespaced ? ['NAMESPACE'] : []), ...cols.map((c) => c.name.toUpperCase())];
    const rows = table.rows.map((row) => {
      const ns = (row as { object?: { metadata?: { namespace?: string } } }).object?.metadata?.namespace ?? '';
      return [...(all && r.namespaced ? [ns] : []), ...cols.map((c) => String(row.cells[c.i] ?? ''))];
    });
    if (rows.length === 0) {
      io.stderr(`No resources found${namespace ? ` in ${namespace} namespace` : ''}.\n`);
      return EXIT_OK;
    }
    io.stdout(renderTable(headers, rows));
    return EXIT_OK;
  } finally {
    await client.close();
  }
}

async function del(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { namespace: { type: 'string', short: 'n' }, kubeconfig: { type: 'string' } }, usage);
  const [kind, name, extra] = positionals;
  if (!kind || !name || extra !== undefined) throw new UsageError('usage: antrea local delete KIND NAME [-n NS]');
  const { client, server } = connect(io, values.kubeconfig);
  try {
    const r = resolveKind(await discover(server), kind);
    const handle = r.namespaced ? client.resource(r.gvr).inNamespace(values.namespace ?? 'default') : client.resource(r.gvr);
    await handle.delete(name);
    io.stdout(`${r.gvr.resource}${r.gvr.group ? `.${r.gvr.group}` : ''} "${name}" deleted\n`);
    return EXIT_OK;
  } finally {
    await client.close();
  }
}

function stateDirOf(io: CliIO, flag: string | undefined, kubeconfigFlag: string | undefined): string {
  if (flag) return resolve(io.cwd, flag);
  const kubeconfig = findKubeconfig(kubeconfigFlag, io.env, io.cwd);
  return kubeconfig ? dirname(kubeconfig) : defaultStateDir(io.env);
}

async function postControl<T>(url: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(600_000) });
  const out = (await res.json()) as T & { error?: string; code?: string };
  if (!res.ok) throw new AntreaError(out.code?.startsWith('ERR_') ? (out.code as `ERR_${string}`) : 'ERR_API', out.error ?? `${path} answered ${res.status}`);
  return out;
}

async function traffic(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      port: { type: 'string', short: 'p' },
      proto: { type: 'string' },
      connections: { type: 'string', short: 'c' },
      packets: { type: 'string' },
      via: { type: 'string' },
      output: { type: 'string', short: 'o' },
      state: { type: 'string' },
      kubeconfig: { type: 'string' },
    },
    usage,
  );
  const [from, to, extra] = positionals;
  if (!from || !to || extra !== undefined) throw new UsageError('usage: antrea local traffic FROM TO [--port P] [--proto tcp|udp|icmp] [--connections N] [--packets N] [-o text|json]');
  const output = oneOf(values.output, ['text', 'json'] as const, '-o', 'text');
  const proto = oneOf(values.proto?.toLowerCase(), ['tcp', 'udp', 'icmp'] as const, '--proto', 'tcp');
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive number, not ${JSON.stringify(v)}`);
    return n;
  };
  const port = num('port', values.port);
  if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535`);
  const info = readControlInfo(stateDirOf(io, values.state, values.kubeconfig));
  const connections = num('connections', values.connections);
  const packets = num('packets', values.packets);
  const summary = await postControl<TrafficSummary>(info.url, '/traffic', {
    from,
    to,
    protocol: proto.toUpperCase(),
    ...(port !== undefined ? { port } : {}),
    ...(connections !== undefined ? { connections } : {}),
    ...(packets !== undefined ? { packets } : {}),
    ...(values.via ? { via: values.via } : {}),
  });
  if (output === 'json') io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const dst = `${summary.destination.ip}${summary.destination.port !== undefined ? `:${summary.destination.port}` : ''}`;
    io.stdout(`${summary.protocol} ${summary.from} -> ${summary.to} (${dst}): ${summary.delivered} delivered, ${summary.dropped} dropped\n`);
    io.stdout(
      renderTable(
        ['SRC-PORT', 'RESULT', 'NODE', 'POD', 'STAGE', 'REASON'],
        summary.connections.map((c) => [String(c.srcPort), c.result, c.node ?? '', c.pod ?? '', c.stage ?? '', c.reason ?? '']),
      ),
    );
  }
  return summary.dropped > 0 ? EXIT_FAILED : EXIT_OK;
}

async function status(io: CliIO, args: string[]): Promise<number> {
  const { values } = parseFlags(args, { state: { type: 'string' }, kubeconfig: { type: 'string' } }, usage);
  const info = readControlInfo(stateDirOf(io, values.state, values.kubeconfig));
  const res = await fetch(`${info.url}/status`, { signal: AbortSignal.timeout(10_000) });
  io.stdout(`${JSON.stringify(await res.json(), null, 2)}\n`);
  return EXIT_OK;
}

/** The command as a process: what `bin/antrea.js` runs. */
export async function main(): Promise<void> {
  process.exitCode = await antrea(process.argv.slice(2), processIO());
}
