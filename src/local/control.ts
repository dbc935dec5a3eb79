/**
 * The local cluster's control endpoint: what only the running `antrea local up` process can do (send traffic
 * through its simulated datapath, report its processes), served on loopback and advertised in the state directory
 * so that `antrea local traffic` in another terminal finds it.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startComponentServer, type ComponentServer } from '../util/component-server.js';
import { AntreaError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { LocalCluster } from './cluster.js';
import type { TrafficRequest } from './traffic.js';
import { processAlive } from '../util/process.js';

export const CONTROL_FILE = 'control.json';

export interface ControlInfo {
  url: string;
  pid: number;
  api?: string;
}

export async function startControlServer(cluster: LocalCluster, stateDir: string | undefined, logger: Logger): Promise<ComponentServer> {
  const server = await startComponentServer({
    logger,
    routes: {
      '/status': () => ({
        api: cluster.url,
        nodes: cluster.nodeNames,
        controller: { url: cluster.controller.url, ready: cluster.controller.ready() },
        agents: [...cluster.agents.values()].map((a) => ({ node: a.nodeName, url: a.url, ready: a.ready() })),
      }),
    },
    post: { '/traffic': (body) => cluster.traffic(body as TrafficRequest) },
  });
  if (stateDir) {
    const info: ControlInfo = { url: server.url, pid: process.pid, ...(cluster.url ? { api: cluster.url } : {}) };
    const file = join(stateDir, CONTROL_FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify(info));
    renameSync(`${file}.tmp`, file);
  }
  return {
    ...server,
    async close() {
      if (stateDir) rmSync(join(stateDir, CONTROL_FILE), { force: true });
      await server.close();
    },
  };
}

/** The running cluster's control endpoint, from its state directory. */
export function readControlInfo(stateDir: string): ControlInfo {
  let info: ControlInfo;
  try {
    info = JSON.parse(readFileSync(join(stateDir, CONTROL_FILE), 'utf8')) as ControlInfo;
  } catch {
    throw new AntreaError('ERR_NOT_RUNNING', `no local cluster is running with state directory ${stateDir} (start one with \`antrea local up\`)`);
  }
  if (!processAlive(info.pid)) {
    throw new AntreaError('ERR_NOT_RUNNING', `the local cluster of ${stateDir} (pid ${info.pid}) is not running any more`);
  }
  return info;
}
