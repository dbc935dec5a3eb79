/**
 * Network namespaces and links with iproute2. Every namespace we create is named `ats-<owner pid base36>-...`, so a
 * crashed run's leftovers are found by that marker (the owner pid no longer alive) and never by a broad name.
 */
import { readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run } from './exec.js';
import { killPidFile } from './daemons.js';
import { netnsName } from './validate.js';
import { processAlive } from '../../util/process.js';

export const NS_PREFIX = 'ats-';

export function ownerTag(pid = process.pid): string {
  return pid.toString(36);
}

/** Where instance directories live: one per run, named like its namespaces. */
export function runRoot(): string {
  return join(tmpdir(), 'ats-ovs');
}

export async function listNetns(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith(NS_PREFIX));
}

export async function addNetns(name: string): Promise<void> {
  netnsName(name);
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function delNetns(name: string): Promise<void> {
  netnsName(name);
  await run('ip', ['netns', 'del', name], { okCodes: [0, 1] });
}

/**
 * Removes what a crashed run of ours left: OVS daemons in run directories and `ats-<pid>-...` namespaces whose
 * owner pid is gone. Another live test process's namespaces are left alone.
 */
export async function cleanupStale(): Promise<string[]> {
  const removed: string[] = [];
  const root = runRoot();
  const isStale = (name: string): boolean => {
    const owner = /^ats-([0-9a-z]+)-/.exec(name)?.[1];
    return owner !== undefined && !processAlive(parseInt(owner, 36));
  };
  if (existsSync(root)) {
    for (const run of readdirSync(root)) {
      if (!isStale(run)) continue;
      const dir = join(root, run);
      for (const node of readdirSync(dir)) {
        for (const daemon of ['ovs-vswitchd', 'ovsdb-server']) killPidFile(join(dir, node, `${daemon}.pid`), join(dir, node));
      }
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  for (const ns of await listNetns()) {
    if (isStale(ns)) {
      await delNetns(ns);
      removed.push(ns);
    }
  }
  return removed;
}

export async function sysctl(netns: string, settings: Record<string, string>): Promise<void> {
  const args = ['-qw', ...Object.entries(settings).map(([k, v]) => {
    if (!/^[a-z0-9_.-]+$/i.test(k) || !/^[0-9]+$/.test(v)) throw new Error(`bad sysctl ${k}=${v}`);
    return `${k}=${v}`;
  })];
  await run('sysctl', args, { netns });
}

/** `ip -n NS ...` */
export function ipIn(netns: string, args: readonly string[], okCodes?: number[]): Promise<unknown> {
  return run('ip', ['-n', netnsName(netns), ...args], okCodes ? { okCodes } : {});
}

/** TX checksum offload off: OVS's userspace datapath would forward partial checksums the receiver drops. */
export async function txOff(netns: string, ifname: string): Promise<void> {
  await run('ethtool', ['-K', ifname, 'tx', 'off'], { netns, okCodes: [0, 1] });
}
