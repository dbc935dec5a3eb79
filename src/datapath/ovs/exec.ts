/**
 * The command layer: runs ip, ovs-vsctl, ovs-ofctl, ovs-appctl, nft, ethtool, sysctl with argument arrays (never a
 * shell string), optionally inside a network namespace (`ip netns exec NS ...`), with a timeout, optional stdin and
 * environment. A failure is an AntreaError (ERR_OVS_COMMAND or ERR_OVS_TIMEOUT) carrying the command line, exit code
 * and stderr, so the caller's log says exactly what OVS or the kernel refused.
 */
import { spawn } from 'node:child_process';
import { AntreaError } from '../../util/errors.js';
import { netnsName } from './validate.js';

export interface RunOptions {
  /** Run inside this network namespace. */
  netns?: string;
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Exit codes that are not failures (default [0]). */
  okCodes?: number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The programs this module may run. Anything else is a programming error. */
const PROGRAMS = new Set(['ip', 'ovs-vsctl', 'ovs-ofctl', 'ovs-appctl', 'ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'nft', 'ethtool', 'sysctl', 'kill', 'ping', process.execPath]);

export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[A-Za-z0-9_./:=,+@%-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (!PROGRAMS.has(cmd)) throw new AntreaError('ERR_OVS_COMMAND', `refusing to run ${cmd}: not a datapath program`);
  const [file, argv] = opts.netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', netnsName(opts.netns), cmd, ...args]];
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ok = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new AntreaError('ERR_OVS_COMMAND', `${commandLine(file, argv)}: ${e.message}`, { command: commandLine(file, argv), cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const line = commandLine(file, argv);
      if (timedOut) {
        reject(new AntreaError('ERR_OVS_TIMEOUT', `${line}: timed out after ${timeoutMs} ms`, { command: line, stderr }));
      } else if (code === null || !ok.includes(code)) {
        reject(new AntreaError('ERR_OVS_COMMAND', `${line}: exit ${code ?? signal}: ${stderr.trim().slice(0, 2000)}`, { command: line, stderr, exitCode: code }));
      } else resolve({ stdout, stderr, code });
    });
    child.stdin.on('error', () => undefined); // the command may exit before reading all input; its exit code says why
    child.stdin.end(opts.input ?? '');
  });
}

/** True when we are root and the OVS and iproute2 binaries are installed: the root-only tests run only then. */
export async function ovsAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'not root: the OVS datapath tests need root' };
  for (const [cmd, args] of [['ovs-vswitchd', ['--version']], ['ovsdb-server', ['--version']], ['ovs-ofctl', ['--version']], ['ip', ['-V']]] as const) {
    try {
      await run(cmd, args, { timeoutMs: 5000 });
    } catch {
      return { ok: false, reason: `${cmd} is missing (apt-get install openvswitch-switch iproute2)` };
    }
  }
  return { ok: true };
}
