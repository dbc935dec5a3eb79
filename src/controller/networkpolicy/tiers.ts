/**
 * Tiers: the system Tiers exist from controller start (created with retries backing off from 1 s to 8 s, as
 * Antrea's tier.go). Deleting a system Tier, or one that policies still reference, is refused by the API's admission
 * hook for Tiers (apiserver/resources/policy.ts), as Antrea's webhook refuses it, so the controller has nothing to undo.
 */
import { policyGvr, systemTierObject, systemTiers, type Tier } from '../../apis/crd/policy.js';
import { isApiError } from '../../apiserver/types.js';
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
