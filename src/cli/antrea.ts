/** `antrea local ...`: run the whole system on this machine, and talk to it. */
import { accessSync, closeSync, constants as fsConstants, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
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
import { startFlowSink } from './flows.js';
import { processLogger, untilStopped } from './process-common.js';
import { discover, getTable, resolveKind, resolveObjectKind } from './kubeapi.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, checkName, checkNamespace, noMoreArgs, oneOf, parseFlags, processIO, runCommand, unknownCommand, UsageError, type CliIO } from './io.js';
import { yamlErrorText } from '../config/yamlerrors.js';
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
    if (group !== 'local') throw unknownCommand('command', group, ['local']);
    switch (command) {
      case '-h':
      case '--help':
      case 'help':
        io.stdout(usage);
        return EXIT_OK;
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
        throw unknownCommand('local command', command, ['up', 'apply', 'get', 'delete', 'traffic', 'status']);
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
  noMoreArgs(positionals, 0, 'local up takes only flags');
  const nodes = values.nodes === undefined ? 2 : decimal(values.nodes);
  if (nodes === undefined || nodes < 1) throw new UsageError(`--nodes must be a positive number, not ${JSON.stringify(values.nodes)}`, { field: 'nodes' });
  const port = values.port === undefined ? 6443 : decimal(values.port);
  if (port === undefined || port > 65535) throw new UsageError(`--port must be a port number (0..65535), not ${JSON.stringify(values.port)}`, { field: 'port' });
  let gates: Record<string, boolean> = {};
  if (values['feature-gates']) {
    const parsed = parseGateString(values['feature-gates']);
    if (parsed.problems.length) throw new UsageError(`--feature-gates: ${parsed.problems.map((p) => p.message).join('; ')}`);
    gates = parsed.values;
  }
  const logger = processLogger(io, values['log-level']);
  const stateDir = resolve(io.cwd, values.state ?? defaultStateDir(io.env));
  // Everything the user named is checked before anything starts: a typo in --apply or --flows must not cost a
  // cluster start, nor leave a cluster running that nothing will stop.
  prepareStateDir(stateDir, values.state === undefined ? 'the state directory' : '--state');
  const manifestPath = resolve(io.cwd, values.manifest ?? DEFAULT_MANIFEST);
  const manifestText = readInput(manifestPath, values.manifest === undefined ? 'the default manifest' : '--manifest', values.manifest ?? manifestPath);
  const toApply = values.apply ? readObjects(resolve(io.cwd, values.apply), values.apply, '--apply') : undefined;
  const flowsTarget = values.flows === undefined || values.flows === '-' ? values.flows : openAppend(resolve(io.cwd, values.flows), values.flows);
  const progress = (line: string) => {
    if (io.isTTY) io.stderr(`… ${line}\n`);
  };
  const started = Date.now();
  const flows = flowsTarget !== undefined ? await startFlowSink(manifestText, flowsTarget, io) : undefined;
  if (flows) gates = { ...gates, FlowExporter: true };
  const cluster = await LocalCluster.start({
    nodes,
    stateDir,
    http: { port },
    gates,
    logger,
    progress,
    datapath,
    ...(flows ? { manifestText: flows.manifestText } : values.manifest ? { manifestPath } : {}),
  }).catch(async (err: unknown) => {
    await flows?.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new AntreaError('ERR_PORT_IN_USE', `port ${port} is in use; choose another with --port`);
    throw err;
  });
  // From here on the cluster runs: whatever fails, it is stopped, so that the process exits and the state directory
  // is left unlocked and without a control file naming a dead endpoint.
  let control: Awaited<ReturnType<typeof startControlServer>> | undefined;
  try {
    control = await startControlServer(cluster, stateDir, logger);
    await announceAndRun(io, { nodes, datapath, started, stateDir, url: cluster.url as string, flows, flowsLabel: values.flows === '-' ? 'stdout' : values.flows ? resolve(io.cwd, values.flows) : undefined, toApply });
  } finally {
    io.stdout('stopping antrea local\n');
    await control?.close();
    await cluster.stop();
    await flows?.close();
  }
  return EXIT_OK;
}

interface Announce {
  nodes: number;
  datapath: string;
  started: number;
  stateDir: string;
  url: string;
  flows: { address: string } | undefined;
  flowsLabel: string | undefined;
  toApply: KubeObject[] | undefined;
}

async function announceAndRun(io: CliIO, a: Announce): Promise<void> {
  const { nodes, datapath, started, stateDir, flows } = a;
  io.stdout(`antrea local is up: ${nodes} Node${nodes > 1 ? 's' : ''} (${datapath} datapath) in ${Date.now() - started} ms\n`);
  io.stdout(`API server: ${a.url}\n`);
  io.stdout(`kubeconfig: ${kubeconfigPath(stateDir)}\n`);
  io.stdout(`try: kubectl --kubeconfig ${kubeconfigPath(stateDir)} get pods -A, or antctl get featuregates\n`);
  if (flows) io.stdout(`flow records (IPFIX from ${flows.address}): ${a.flowsLabel ?? ''}\n`);
  if (a.toApply) {
    const client = new HttpClient({ kubeconfig: kubeconfigPath(stateDir) });
    try {
      for (const line of await applyObjects(client, a.url, a.toApply)) io.stdout(`${line}\n`);
    } finally {
      await client.close();
    }
  }
  await untilStopped(io);
}

/** `12`, not `1e1`, `0x0c` or `12.0`: flags take plain decimal numbers. Undefined when it is not one. */
function decimal(text: string): number | undefined {
  if (!/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/** The reason of a file-system error, in words. */
function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    EEXIST: 'it exists and is not a directory',
  };
  return (code && words[code]) || describeError(err);
}

/** A file the user named, as text; unreadable, a directory or binary is an ERR_READ_FILE naming the flag. */
function readInput(path: string, flag: string, typed: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AntreaError('ERR_READ_FILE', `${flag} ${typed}: cannot read: ${fsReason(err)}`, { file: path, field: flag.replace(/^--/, ''), cause: err });
  }
  if (text.includes('\u0000')) throw new AntreaError('ERR_PARSE', `${flag} ${typed}: not a text file (it holds NUL bytes)`, { file: path, field: flag.replace(/^--/, '') });
  return text;
}

/** The state directory, created if missing; a file in its place or an unwritable directory is a usage error. */
function prepareStateDir(dir: string, label: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'EEXIST' });
    accessSync(dir, fsConstants.W_OK);
  } catch (err) {
    throw new UsageError(`${label} ${dir}: cannot be used as the state directory: ${fsReason(err)}`, { field: 'state', file: dir });
  }
}

/** Opens the --flows file for appending now, so that a bad path fails before the cluster starts. */
function openAppend(path: string, typed: string): string {
  try {
    closeSync(openSync(path, 'a'));
  } catch (err) {
    throw new UsageError(`--flows ${typed}: cannot open for appending: ${fsReason(err)}`, { field: 'flows', file: path });
  }
  return path;
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

/**
 * The objects of a YAML/JSON file: every document, and the items of a `kind: List`. Any problem (unreadable, not
 * YAML, a document that is not an object) fails the whole file before anything is sent, naming the document.
 */
function readObjects(path: string, typed: string, flag: string): KubeObject[] {
  const text = readInput(path, flag, typed);
  const objects: KubeObject[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new AntreaError('ERR_PARSE', `${flag} ${typed}: not YAML`, { file: path });
  const many = docs.length > 1;
  docs.forEach((doc, i) => {
    const where = many ? `${typed}: document ${i + 1}` : typed;
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      const line = err?.linePos?.[0]?.line;
      throw new AntreaError('ERR_PARSE', `${typed}${line ? `:${line}` : ''}: ${many ? `document ${i + 1}: ` : ''}malformed YAML: ${err ? yamlErrorText(err) : 'unreadable'}`, { file: path });
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new AntreaError('ERR_PARSE', `${where}: expected an object with apiVersion, kind and metadata.name, not ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`, { file: path });
    }
    const isList = (value as { kind?: unknown }).kind === 'List';
    const items: unknown[] = isList ? ((value as { items?: unknown }).items as unknown[] | undefined) ?? [] : [value];
    if (!Array.isArray(items)) throw new AntreaError('ERR_PARSE', `${where}: items of a List must be a list`, { file: path, field: 'items' });
    items.forEach((item, j) => {
      const o = item as Partial<KubeObject> | null;
      const at = isList ? `${where}: items[${j}]` : where;
      const missing = typeof o !== 'object' || o === null ? ['apiVersion', 'kind', 'metadata.name'] : [!o.apiVersion && 'apiVersion', !o.kind && 'kind', !o.metadata?.name && 'metadata.name'].filter((m): m is string => Boolean(m));
      if (missing.length > 0) throw new AntreaError('ERR_PARSE', `${at}: missing ${missing.join(', ')}`, { file: path, field: missing[0] });
      objects.push(o as KubeObject);
    });
  });
  if (objects.length === 0) throw new AntreaError('ERR_PARSE', `${typed}: no objects to apply`, { file: path });
  return objects;
}

/** Creates or updates each object; every kind is resolved first, so an unknown kind changes nothing. */
async function applyObjects(client: HttpClient, server: string, objects: readonly KubeObject[]): Promise<string[]> {
  const resources = await discover(server);
  const resolved = objects.map((obj) => ({ obj, r: resolveObjectKind(resources, obj.apiVersion as string, obj.kind as string) }));
  const lines: string[] = [];
  for (const { obj, r } of resolved) {
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
  if (!values.filename) throw new UsageError('local apply needs -f FILE', { field: 'filename' });
  noMoreArgs(positionals, 0, 'local apply takes the file as -f FILE');
  const objects = readObjects(resolve(io.cwd, values.filename), values.filename, '-f');
  const { client, server } = connect(io, values.kubeconfig);
  try {
    for (const line of await applyObjects(client, server, objects)) io.stdout(`${line}\n`);
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
  if (!kind) throw new UsageError('local get needs a KIND (e.g. pods, services, nodes)', { field: 'KIND' });
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}: local get takes KIND and at most one NAME`, { field: 'arguments' });
  const output = oneOf(values.output, ['table', 'json', 'yaml', 'wide'] as const, '-o', 'table');
  checkName('NAME', name);
  checkNamespace('-n', values.namespace);
  if (values['all-namespaces'] && values.namespace !== undefined) throw new UsageError('-n and -A cannot be used together', { field: 'namespace' });
  if (values['all-namespaces'] && name !== undefined) throw new UsageError('a resource cannot be retrieved by NAME across all namespaces: give -n NS instead of -A', { field: 'all-namespaces' });
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
  if (!kind || !name) throw new UsageError(`local delete needs a KIND and a NAME${kind ? ` after ${JSON.stringify(kind)}` : ''}`, { field: kind ? 'NAME' : 'KIND' });
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}: local delete takes one KIND and one NAME`, { field: 'arguments' });
  checkName('NAME', name);
  checkNamespace('-n', values.namespace);
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

/**
 * A request to the running cluster's control endpoint. A refused connection (the process went away without
 * cleaning up, or its pid was reused) and an answer that is not JSON become one line that says so.
 */
async function callControl<T>(url: string, path: string, init: RequestInit, timeoutMs: number): Promise<{ res: Response; out: T & { error?: string; code?: string } }> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : cause?.code === 'ECONNREFUSED' ? 'connection refused' : describeError(cause ?? err);
    throw new AntreaError('ERR_NOT_RUNNING', `cannot reach the local cluster's control endpoint at ${url}: ${why} (is \`antrea local up\` still running?)`, { cause: err });
  }
  const text = await res.text();
  try {
    return { res, out: JSON.parse(text) as T & { error?: string; code?: string } };
  } catch {
    throw new AntreaError('ERR_API', `the control endpoint at ${url} answered ${res.status} with something that is not JSON: ${text.slice(0, 100)}`);
  }
}

async function postControl<T>(url: string, path: string, body: unknown): Promise<T> {
  const { res, out } = await callControl<T>(url, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, 600_000);
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
  if (!from || !to) throw new UsageError(`local traffic needs FROM and TO (NS/POD, NS/SERVICE, node:NAME or an IP)${from ? `; got only ${JSON.stringify(from)}` : ''}`, { field: from ? 'TO' : 'FROM' });
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}: local traffic takes one FROM and one TO`, { field: 'arguments' });
  const output = oneOf(values.output, ['text', 'json'] as const, '-o', 'text');
  const proto = oneOf(values.proto?.toLowerCase(), ['tcp', 'udp', 'icmp'] as const, '--proto', 'tcp');
  // Both would otherwise be ignored without a word: ICMP has no ports, and only outside traffic enters at a Node.
  if (proto === 'icmp' && values.port !== undefined) throw new UsageError('--port does not apply to --proto icmp (ICMP has no ports)', { field: 'port' });
  if (values.via !== undefined && !isIP(from)) throw new UsageError(`--via applies only when FROM is an IP outside the cluster, not ${JSON.stringify(from)}`, { field: 'via' });
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = decimal(v);
    if (n === undefined || n < 1) throw new UsageError(`--${flag} must be a positive number, not ${JSON.stringify(v)}`, { field: flag });
    return n;
  };
  const port = num('port', values.port);
  if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535, not ${port}`, { field: 'port' });
  // Every flag is checked before the cluster is looked for: a usage error is one whether or not a cluster runs.
  const connections = num('connections', values.connections);
  const packets = num('packets', values.packets);
  const info = readControlInfo(stateDirOf(io, values.state, values.kubeconfig));
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
  const { values, positionals } = parseFlags(args, { state: { type: 'string' }, kubeconfig: { type: 'string' } }, usage);
  noMoreArgs(positionals, 0, 'local status takes only flags');
  const info = readControlInfo(stateDirOf(io, values.state, values.kubeconfig));
  const { res, out } = await callControl<unknown>(info.url, '/status', {}, 10_000);
  if (!res.ok) throw new AntreaError('ERR_API', out.error ?? `/status answered ${res.status}`);
  io.stdout(`${JSON.stringify(out, null, 2)}\n`);
  return EXIT_OK;
}

/** The command as a process: what `bin/antrea.js` runs. */
export async function main(): Promise<void> {
  process.exitCode = await antrea(process.argv.slice(2), processIO());
}
