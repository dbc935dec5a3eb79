/**
 * OF port numbers and host-side interface names for Pod interfaces. Ports 1 and 2 belong to the tunnel and the
 * gateway; Pods take the lowest free number from 3, and keep theirs across agent restarts (restored from the
 * datapath, as Antrea restores them from OVSDB).
 */
import { createHash } from 'node:crypto';
import { AntreaError } from '../../util/errors.js';

export const FIRST_POD_OFPORT = 3;
const MAX_OFPORT = 0xfeff;

export class OfPortAllocator {
  readonly #used = new Map<number, string>();
  readonly #byOwner = new Map<string, number>();
  #next = FIRST_POD_OFPORT;

  restore(owner: string, port: number): void {
    this.#used.set(port, owner);
    this.#byOwner.set(owner, port);
  }

  allocate(owner: string): number {
    const existing = this.#byOwner.get(owner);
    if (existing !== undefined) return existing;
    for (let i = 0; i <= MAX_OFPORT - FIRST_POD_OFPORT; i++) {
      const port = this.#next;
      this.#next = port >= MAX_OFPORT ? FIRST_POD_OFPORT : port + 1;
      if (!this.#used.has(port)) {
        this.restore(owner, port);
        return port;
      }
    }
    throw new AntreaError('ERR_OFPORTS_EXHAUSTED', `no OF port left for ${owner}`);
  }

  release(owner: string): void {
    const port = this.#byOwner.get(owner);
    if (port === undefined) return;
    this.#byOwner.delete(owner);
    this.#used.delete(port);
  }

  owned(owner: string): number | undefined {
    return this.#byOwner.get(owner);
  }
}

/**
 * The host-side interface name of a Pod, as Antrea forms it: up to 15 characters (Linux's limit), the Pod name's
 * start and a hash of the namespace and name, so two Pods never share one.
 */
export function podInterfaceName(namespace: string, name: string): string {
  const hash = createHash('sha1').update(`${namespace}/${name}`).digest('hex').slice(0, 8);
  const prefix = name.replace(/[^a-zA-Z0-9]/g, '').slice(0, 6) || 'pod';
  return `${prefix}-${hash}`;
}

/** A locally administered MAC for a Pod interface, derived from its first IPv4 address. */
export function podMac(ip: string): string {
  const octets = ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  return ['02', '00', ...octets].join(':');
}
