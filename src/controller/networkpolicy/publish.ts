/**
 * Writes the computed controlplane objects to the API, where agents list and watch them. Desired states are coalesced
 * per object (the latest wins, like a work queue's de-duplication) and written by one loop, so a burst of changes to
 * one group becomes one write. Objects the API holds that are no longer desired (after a controller restart) are
 * deleted by `prune`.
 */
import type { GroupVersionResource, KubeObject } from '../../apis/meta.js';
import { isApiError } from '../../apiserver/types.js';
import type { ApiClient } from '../../client/types.js';
import { describeError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

interface Pending {
  gvr: GroupVersionResource;
  namespace?: string;
  name: string;
  desired: (() => KubeObject | undefined) | null;
}

export class Publisher {
  private readonly pending = new Map<string, Pending>();
  private running: Promise<void> | undefined;
  private stopped = false;
  /** resourceVersions of what we wrote last, so an update needs no read first. */
  private readonly versions = new Map<string, string>();

  constructor(
    private readonly client: ApiClient,
    private readonly log: Logger,
  ) {}

  /** `desired` is read when the write happens (the latest state); null or undefined from it deletes. */
  set(gvr: GroupVersionResource, name: string, desired: (() => KubeObject | undefined) | null, namespace?: string): void {
    this.pending.set(`${gvr.group}/${gvr.resource}/${namespace ?? ''}/${name}`, { gvr, name, desired, ...(namespace ? { namespace } : {}) });
    this.kick();
  }

  /** Resolves once everything set so far is written. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async prune(gvr: GroupVersionResource, keep: (name: string, namespace?: string) => boolean): Promise<void> {
    const list = await this.client.resource(gvr).list();
    for (const o of list.items) if (!keep(o.metadata.name ?? '', o.metadata.namespace)) this.set(gvr, o.metadata.name ?? '', null, o.metadata.namespace);
  }

  stop(): void {
    this.stopped = true;
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.pending.size > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const [key, p] = this.pending.entries().next().value as [string, Pending];
      this.pending.delete(key);
      try {
        await this.write(key, p);
      } catch (err) {
        this.log.warn('writing a controlplane object failed; will retry', { object: key, error: describeError(err) });
        if (!this.pending.has(key)) this.pending.set(key, p);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async write(key: string, p: Pending): Promise<void> {
    const r = p.namespace ? this.client.resource(p.gvr).inNamespace(p.namespace) : this.client.resource(p.gvr);
    const obj = p.desired?.();
    if (!obj) {
      this.versions.delete(key);
      await r.tryDelete(p.name);
      return;
    }
    const rv = this.versions.get(key);
    if (rv) {
      try {
        const out = await r.update({ ...obj, metadata: { ...obj.metadata, resourceVersion: rv } });
        this.versions.set(key, out.metadata.resourceVersion ?? '');
        return;
      } catch (err) {
        if (!isApiError(err, 'Conflict') && !isApiError(err, 'NotFound')) throw err;
      }
    }
    try {
      const out = await r.create(obj);
      this.versions.set(key, out.metadata.resourceVersion ?? '');
    } catch (err) {
      if (!isApiError(err, 'AlreadyExists')) throw err;
      const out = await r.retryUpdate(p.name, (cur) => ({ ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata.resourceVersion } }));
      this.versions.set(key, out.metadata.resourceVersion ?? '');
    }
  }
}
