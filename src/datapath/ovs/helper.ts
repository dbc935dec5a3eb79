/**
 * Drives pod-helper.mjs in one namespace: a long-lived child (`ip netns exec NS node pod-helper.mjs`) that opens
 * real sockets on request. One per Pod or Node namespace, started on first use, killed by id at close.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { AntreaError } from '../../util/errors.js';
import { netnsName } from './validate.js';

// Next to this module when run from src/ (tsx); from dist/ (tsc does not copy .mjs files) the source copy is used.
const SCRIPT = [new URL('./pod-helper.mjs', import.meta.url), new URL('../../../src/datapath/ovs/pod-helper.mjs', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('./pod-helper.mjs', import.meta.url));

export interface HelperReply {
  established?: boolean;
  exchanges?: number;
  replies?: number;
  error?: string;
  ok?: boolean;
}

export class PodHelper {
  private child?: ChildProcessWithoutNullStreams;
  private ready?: Promise<void>;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: HelperReply) => void>();

  constructor(readonly netns: string) {
    netnsName(netns);
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const child = spawn('ip', ['netns', 'exec', this.netns, process.execPath, SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => {
        for (const w of this.waiting.values()) w({ error: `helper in ${this.netns} exited (${code})` });
        this.waiting.clear();
        reject(new AntreaError('ERR_OVS_HELPER', `traffic helper in ${this.netns} exited with ${code}`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        const msg = JSON.parse(line) as HelperReply & { id?: number; ready?: boolean };
        if (msg.ready) resolve();
        else if (msg.id !== undefined) {
          this.waiting.get(msg.id)?.(msg);
          this.waiting.delete(msg.id);
        }
      });
      child.stderr.resume();
      child.stdin.on('error', () => undefined); // a helper that died is reported by its exit, not by EPIPE
    });
    return this.ready;
  }

  async call(req: Record<string, unknown>): Promise<HelperReply> {
    await this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child?.stdin.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  stop(): void {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null) {
      c.stdin.end();
      c.kill('SIGKILL');
    }
  }
}
