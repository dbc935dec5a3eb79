/**
 * Tiers: the system Tiers exist from controller start (created with retries backing off from 1 s to 8 s, as
 * Antrea's tier.go), and a Tier that Antrea's webhook would refuse to delete (a system Tier, or one that policies
 * still reference) is put back. The local API server has no cross-type admission hook, so the refusal becomes a
 * restore plus a warning naming Antrea's reason; on a real cluster the webhook refuses it upfront.
 */
import { policyGvr, systemTierObject, systemTiers, tierDeleteProblem, type AntreaNetworkPolicy, type ClusterNetworkPolicy, type Tier } from '../../apis/crd/policy.js';
import { isApiError } from '../../apiserver/types.js';
import type { Informer } from '../../client/informer.js';
import type { ApiClient } from '../../client/types.js';
import { describeError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

export async function ensureSystemTiers(client: ApiClient, log: Logger, opts: { maxDelayMs?: number; attempts?: number } = {}): Promise<void> {
  const r = client.resource<Tier>(policyGvr.tiers);
  for (const t of systemTiers) {
    let delay = 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await r.tryGet(t.name))) await r.create(systemTierObject(t));
        break;
      } catch (err) {
        if (isApiError(err, 'AlreadyExists')) break;
        if (attempt >= (opts.attempts ?? 10)) throw err;
        log.warn('creating a system Tier failed; retrying', { tier: t.name, error: describeError(err), delayMs: delay });
        await new Promise((res) => setTimeout(res, delay));
        delay = Math.min(delay * 2, opts.maxDelayMs ?? 8000);
      }
    }
  }
}

export class TierGuard {
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly tiers: Informer<Tier>,
    private readonly acnps: Informer<ClusterNetworkPolicy>,
    private readonly anps: Informer<AntreaNetworkPolicy>,
    private readonly log: Logger,
  ) {}

  tierDeleted(t: Tier): void {
    const name = t.metadata.name ?? '';
    const problem = tierDeleteProblem(name, this.acnps.list(), this.anps.list());
    if (!problem || this.stopped) return;
    this.log.warn(`Tier deletion refused: ${problem}; restoring it`, { tier: name });
    const restored: Tier = { apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Tier', metadata: { name, ...(t.metadata.labels ? { labels: t.metadata.labels } : {}) }, spec: t.spec };
    void this.client
      .resource<Tier>(policyGvr.tiers)
      .create(restored)
      .catch((err: unknown) => {
        if (!isApiError(err, 'AlreadyExists')) this.log.error('restoring a Tier failed', { tier: name, error: describeError(err) });
      });
    void this.tiers;
  }

  stop(): void {
    this.stopped = true;
  }
}
