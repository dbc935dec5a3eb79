/**
 * One Open vSwitch instance per Node: its own ovsdb-server and ovs-vswitchd, started inside the Node's network
 * namespace (ovs-vswitchd must run there: the userspace datapath reads that namespace's routes for tunnels and
 * creates the bridge taps there), with a private run/db/log directory so many instances live on one machine.
 * `--monitor` makes each daemon's monitor restart it if it crashes; stop() asks both to exit and kills by pidfile
 * as a last resort.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from './exec.js';
import { netnsName } from './validate.js';
import { processAlive } from '../../util/process.js';

const SCHEMA_CANDIDATES = ['/usr/share/openvswitch/vswitch.ovsschema', '/usr/local/share/openvswitch/vswitch.ovsschema'];

export class OvsInstance {
  readonly dbSock: string;
  readonly vswitchdCtl: string;
  readonly ovsdbCtl: string;

  constructor(
    readonly netns: string,
    readonly dir: string,
  ) {
    netnsName(netns);
    this.dbSock = join(dir, 'db.sock');
    this.vswitchdCtl = join(dir, 'ovs-vswitchd.ctl');
    this.ovsdbCtl = join(dir, 'ovsdb-server.ctl');
  }

  get env(): Record<string, string> {
    return { OVS_RUNDIR: this.dir, OVS_LOGDIR: this.dir, OVS_DBDIR: this.dir, OVS_SYSCONFDIR: this.dir };
  }

  /** True when this directory already holds a running instance (a restarted agent attaches to it). */
  running(): boolean {
    return existsSync(this.vswitchdCtl) && pidAlive(join(this.dir, 'ovs-vswitchd.pid'));
  }

  async start(): Promise<void> {
    if (this.running()) return;
    mkdirSync(this.dir, { recursive: true });
    const db = join(this.dir, 'conf.db');
    if (!existsSync(db)) {
      const schema = SCHEMA_CANDIDATES.find((p) => existsSync(p)) ?? SCHEMA_CANDIDATES[0] as string;
      await run('ovsdb-tool', ['create', db, schema], { env: this.env });
    }
    const common = (name: string) => [`--pidfile=${join(this.dir, `${name}.pid`)}`, `--unixctl=${join(this.dir, `${name}.ctl`)}`,
      `--log-file=${join(this.dir, `${name}.log`)}`, '--detach', '--monitor', '--no-chdir'];
    await run('ovsdb-server', [db, `--remote=punix:${this.dbSock}`, ...common('ovsdb-server')], { netns: this.netns, env: this.env, timeoutMs: 15_000 });
    await this.vsctl(['--no-wait', 'init']);
    await run('ovs-vswitchd', [`unix:${this.dbSock}`, ...common('ovs-vswitchd')], { netns: this.netns, env: this.env, timeoutMs: 15_000 });
  }

  vsctl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('ovs-vsctl', [`--db=unix:${this.dbSock}`, '--timeout=20', ...args], { env: this.env, timeoutMs: 25_000, ...opts });
  }

  /** ovs-ofctl on a bridge of this instance, OpenFlow 1.5, through the bridge's management socket. */
  ofctl(cmd: string, bridge: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    return run('ovs-ofctl', ['-O', 'OpenFlow15', ...(opts.input !== undefined ? ['--bundle'] : []), cmd, `unix:${join(this.dir, `${bridge}.mgmt`)}`, ...args], { env: this.env, timeoutMs: 120_000, ...opts });
  }

  /** ovs-ofctl without --bundle (for reads and commands that do not take one). */
  ofctlPlain(cmd: string, bridge: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    return run('ovs-ofctl', ['-O', 'OpenFlow15', cmd, `unix:${join(this.dir, `${bridge}.mgmt`)}`, ...args], { env: this.env, timeoutMs: 120_000, ...opts });
  }

  appctl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('ovs-appctl', ['-t', this.vswitchdCtl, ...args], { env: this.env, timeoutMs: 30_000, ...opts });
  }

  async stop(): Promise<void> {
    for (const [ctl, pidName] of [[this.vswitchdCtl, 'ovs-vswitchd'], [this.ovsdbCtl, 'ovsdb-server']] as const) {
      const pidFile = join(this.dir, `${pidName}.pid`);
      try {
        if (existsSync(ctl)) await run('ovs-appctl', ['-t', ctl, 'exit'], { timeoutMs: 5000 });
      } catch {
        // fall through to the pidfile
      }
      killPidFile(pidFile, this.dir);
    }
  }
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pidFile: string): boolean {
  const pid = readPid(pidFile);
  if (pid === undefined) return false;
  return processAlive(pid);
}

/**
 * Kills the process named by a pidfile, and its --monitor parent, only if its command line mentions our directory:
 * a stale pidfile must never make us kill someone else's process that reused the pid.
 */
export function killPidFile(pidFile: string, marker: string): void {
  const pid = readPid(pidFile);
  if (pid === undefined) return;
  for (const p of [parentOf(pid), pid]) {
    if (p === undefined || p <= 1) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}
