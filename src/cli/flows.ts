/**
 * `antctl flows collect`: an IPFIX collector in the terminal. It prints each data record as one JSON object keyed
 * by information element name (`sourcePodName`, `octetDeltaCount`, `flowEndReason`, ...), so a user sees the flows
 * an agent exports with no other tool. Progress and problems go to stderr; stdout carries records only.
 */
import { createWriteStream } from 'node:fs';
import { isIP } from 'node:net';
import { AntreaError, describeError } from '../util/errors.js';
import { IpfixCollector, recordToJsonLine, type CollectorOptions, type DataRecord } from '../ipfix/index.js';
import { EXIT_OK, noMoreArgs, parseFlags, unknownCommand, UsageError, type CliIO } from './io.js';

export const flowsUsage = `usage: antctl flows collect --listen HOST:PORT[:tcp|udp] [--count N]
      receives IPFIX (both tcp and udp unless one is named) and prints one JSON object per flow record;
      stops after N records, or on Ctrl-C`;

export interface ListenAddr {
  host: string;
  port: number;
  /** Undefined: both. */
  proto: 'tcp' | 'udp' | undefined;
}

/** `HOST:PORT[:tcp|udp]`; an IPv6 host in brackets (`[::1]:4739:udp`); port 0 picks a free one. */
export function parseListen(text: string): ListenAddr {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})(?::([a-z]+))?$/.exec(text);
  if (!m) throw new UsageError(`--listen ${JSON.stringify(text)} is not HOST:PORT[:tcp|udp]`);
  const host = (m[1] ?? m[2]) as string;
  if (m[1] !== undefined && isIP(host) !== 6) throw new UsageError(`--listen: ${JSON.stringify(host)} in brackets is not an IPv6 address`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--listen: port ${port} is not in 0..65535`);
  const proto = m[4];
  if (proto === 'tls') throw new UsageError('--listen: tls is not supported by antctl flows collect; use tcp or udp');
  if (proto !== undefined && proto !== 'tcp' && proto !== 'udp') throw new UsageError(`--listen: proto ${JSON.stringify(proto)} is not tcp or udp`);
  return { host, port, proto };
}

export async function flowsCommand(io: CliIO, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.stdout(`${flowsUsage}\n`);
    return EXIT_OK;
  }
  if (sub !== 'collect') throw unknownCommand('flows command', sub, ['collect']);
  return collect(io, rest);
}

async function collect(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { listen: { type: 'string' }, count: { type: 'string' } }, flowsUsage);
  noMoreArgs(positionals, 0, 'flows collect takes only flags');
  if (values.listen === undefined) throw new UsageError('--listen HOST:PORT is required', { field: 'listen' });
  const listen = parseListen(values.listen);
  let count = Infinity;
  if (values.count !== undefined) {
    if (!/^\d+$/.test(values.count) || Number(values.count) < 1 || !Number.isSafeInteger(Number(values.count))) throw new UsageError(`--count must be a positive integer, not ${JSON.stringify(values.count)}`);
    count = Number(values.count);
  }
  if (io.stopSignal?.aborted) return EXIT_OK;
  const where = { host: listen.host, port: listen.port };
  const opts: CollectorOptions = {
    ...(listen.proto !== 'udp' ? { tcp: where } : {}),
    ...(listen.proto !== 'tcp' ? { udp: where } : {}),
  };
  const collector = new IpfixCollector(opts);
  let printed = 0;
  const warned = new Set<string>();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  collector.on('record', (r: DataRecord) => {
    if (printed >= count || r.options) return;
    io.stdout(`${recordToJsonLine(r.fields, r.template)}\n`);
    printed++;
    if (printed >= count) finish();
  });
  collector.on('decodeError', (err, session) => {
    // One line per kind of problem: a broken exporter would otherwise flood the terminal.
    if (warned.has(err.code)) return;
    warned.add(err.code);
    io.stderr(`warning: dropped a malformed IPFIX message from ${session.remoteAddress}:${session.remotePort} (${session.protocol}): ${err.message}\n`);
  });
  const onStop = () => finish();
  io.stopSignal?.addEventListener('abort', onStop, { once: true });
  try {
    await collector.start().catch((err: unknown) => {
      throw listenError(values.listen as string, err);
    });
    const addr = collector.address();
    const bound = [addr.tcp ? `tcp ${fmt(addr.tcp.address, addr.tcp.port)}` : '', addr.udp ? `udp ${fmt(addr.udp.address, addr.udp.port)}` : ''].filter(Boolean).join(', ');
    io.stderr(`listening for IPFIX on ${bound}\n`);
    await done;
  } finally {
    io.stopSignal?.removeEventListener('abort', onStop);
    await collector.close();
  }
  return EXIT_OK;
}

/** Why a listener could not be opened, in one line naming the flag; the system code stays for searching. */
function listenError(listen: string, err: unknown): AntreaError {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    EADDRINUSE: 'the port is in use',
    EADDRNOTAVAIL: 'the address is not one of this host',
    EACCES: 'permission denied (ports below 1024 need root)',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name does not resolve',
  };
  const reason = code && why[code] ? `${why[code]} (${code})` : describeError(err);
  return new AntreaError('ERR_LISTEN', `--listen ${listen}: cannot listen: ${reason}`, { field: 'listen', cause: err });
}

function fmt(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The manifest with its antrea-agent.conf `flowCollectorAddr` line (set or commented out) set to `addr`. The key
 * exists only in the agent's conf, so the first such line is the one.
 */
export function pointManifestAtCollector(manifestText: string, addr: string): string {
  const re = /^(\s*)#?\s*flowCollectorAddr:.*$/m;
  if (!re.test(manifestText)) {
    throw new UsageError('the manifest\'s antrea-agent.conf has no flowCollectorAddr line (set or commented out) to point at the collector');
  }
  return manifestText.replace(re, (_line, indent: string) => `${indent}flowCollectorAddr: "${addr}"`);
}

export interface FlowSink {
  /** `127.0.0.1:PORT:tcp`, what the agents export to. */
  address: string;
  /** The manifest pointed at the collector. */
  manifestText: string;
  records(): number;
  close(): Promise<void>;
}

/**
 * For `antrea local up --flows FILE|-`: a collector on loopback writing one JSON line per record, and the manifest
 * pointed at it. FILE is appended to; `-` is stdout.
 */
export async function startFlowSink(manifestText: string, target: string, io: CliIO): Promise<FlowSink> {
  const collector = new IpfixCollector({ tcp: { host: '127.0.0.1', port: 0 } });
  await collector.start();
  const file = target === '-' ? undefined : createWriteStream(target, { flags: 'a' });
  const write = file ? (line: string) => void file.write(line) : (line: string) => io.stdout(line);
  let n = 0;
  collector.on('record', (r: DataRecord) => {
    if (r.options) return;
    write(`${recordToJsonLine(r.fields, r.template)}\n`);
    n++;
  });
  const address = `127.0.0.1:${collector.address().tcp?.port ?? 0}:tcp`;
  return {
    address,
    manifestText: pointManifestAtCollector(manifestText, address),
    records: () => n,
    async close() {
      await collector.close();
      if (file) await new Promise<void>((r) => file.end(() => r()));
    },
  };
}
