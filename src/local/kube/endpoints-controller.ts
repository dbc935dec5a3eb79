/**
 * Plays kube-controller-manager's endpoints and endpointslice controllers for the local cluster: keeps each
 * selector Service's Endpoints and EndpointSlices in step with its Pods. Services without a selector are left to
 * their users, as in Kubernetes.
 */
import type { Endpoints, Pod, Service } from '../../apis/core.js';
import type { EndpointSlice } from '../../apis/discovery.js';
import { serviceNameLabel } from '../../apis/discovery.js';
import { selectorFromSet } from '../../apis/labels.js';
import { gvr } from '../../apiserver/registry.js';
import { isApiError } from '../../apiserver/types.js';
import { cacheKey, splitKey } from '../../client/cache.js';
import type { SharedInformerFactory } from '../../client/factory.js';
import type { ApiClient } from '../../client/types.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { Stoppable } from '../../features/modules.js';
import type { Logger } from '../../util/log.js';
import { MANAGED_BY, MANAGED_BY_LABEL, desiredEndpointSlices, desiredEndpoints } from './endpoints-compute.js';

export interface EndpointsControllerOptions {
  maxEndpointsPerSlice?: number;
}

export function startEndpointsController(client: ApiClient, informers: SharedInformerFactory, logger: Logger, opts: EndpointsControllerOptions = {}): Stoppable {
  const log = logger.child({ controller: 'endpoints' });
  const services = informers.informerFor<Service>(gvr.services);
  const pods = informers.informerFor<Pod>(gvr.pods);
  const endpoints = informers.informerFor<Endpoints>(gvr.endpoints);
  const slices = informers.informerFor<EndpointSlice>(gvr.endpointslices, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` });
  slices.addIndexer('service', (s) => {
    const name = s.metadata.labels?.[serviceNameLabel];
    return name ? [cacheKey(s.metadata.namespace, name)] : [];
  });
  const queue = new WorkQueue<string>({ name: 'endpoints' });
  const keyOf = (o: { metadata: { namespace?: string; name?: string } }) => cacheKey(o.metadata.namespace, o.metadata.name ?? '');

  const enqueueServicesOf = (pod: Pod, old?: Pod) => {
    for (const svc of services.list(pod.metadata.namespace)) {
      const selector = svc.spec.selector;
      if (!selector || Object.keys(selector).length === 0) continue;
      const match = selectorFromSet(selector);
      if (match.matches(pod.metadata.labels ?? {}) || (old && match.matches(old.metadata.labels ?? {}))) queue.add(keyOf(svc));
    }
  };
  services.addEventHandler({ onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_o, s) => queue.add(keyOf(s)), onDelete: (s) => queue.add(keyOf(s)) });
  pods.addEventHandler({ onAdd: (p) => enqueueServicesOf(p), onUpdate: (o, p) => enqueueServicesOf(p, o), onDelete: (p) => enqueueServicesOf(p) });
  // Repair drift: a managed object changed or removed by someone else is recomputed.
  endpoints.addEventHandler({ onUpdate: (_o, e) => queue.add(keyOf(e)), onDelete: (e) => queue.add(keyOf(e)) });
  const sliceOwner = (s: EndpointSlice) => {
    const name = s.metadata.labels?.[serviceNameLabel];
    if (name) queue.add(cacheKey(s.metadata.namespace, name));
  };
  slices.addEventHandler({ onUpdate: (_o, s) => sliceOwner(s), onDelete: sliceOwner });

  const sync = async (key: string): Promise<void> => {
    const { namespace, name } = splitKey(key);
    if (!namespace) return;
    const svc = services.get(key);
    const managed = Boolean(svc?.spec.selector && Object.keys(svc.spec.selector).length > 0);
    const epClient = client.resource<Endpoints>(gvr.endpoints).inNamespace(namespace);
    const sliceClient = client.resource<EndpointSlice>(gvr.endpointslices).inNamespace(namespace);
    const existingSlices = slices.byIndex('service', key);
    if (!svc || !managed) {
      for (const s of existingSlices) await sliceClient.tryDelete(s.metadata.name ?? '');
      // Endpoints of a deleted Service go with it; a selector-less Service's Endpoints belong to its user.
      if (!svc && endpoints.get(key)) await epClient.tryDelete(name);
      return;
    }
    const candidates = pods.list(namespace);
    const wantEp = desiredEndpoints(svc, candidates);
    const haveEp = endpoints.get(key);
    if (!haveEp) await createOrUpdate(() => epClient.create(wantEp), () => epClient.retryUpdate(name, (cur) => ({ ...cur, subsets: wantEp.subsets ?? [] })));
    else if (JSON.stringify(haveEp.subsets ?? []) !== JSON.stringify(wantEp.subsets ?? [])) {
      await epClient.retryUpdate(name, (cur) => ({ ...cur, subsets: wantEp.subsets ?? [] }));
    }
    const wantSlices = desiredEndpointSlices(svc, candidates, opts.maxEndpointsPerSlice);
    const wantNames = new Set(wantSlices.map((s) => s.metadata.name));
    for (const want of wantSlices) {
      const have = existingSlices.find((s) => s.metadata.name === want.metadata.name);
      if (!have) {
        await createOrUpdate(() => sliceClient.create(want), () => sliceClient.retryUpdate(want.metadata.name ?? '', (cur) => ({ ...cur, endpoints: want.endpoints, ports: want.ports ?? [] })));
      } else if (JSON.stringify([have.endpoints, have.ports ?? []]) !== JSON.stringify([want.endpoints, want.ports ?? []])) {
        await sliceClient.retryUpdate(want.metadata.name ?? '', (cur) => ({ ...cur, endpoints: want.endpoints, ports: want.ports ?? [] }));
      }
    }
    for (const s of existingSlices) if (!wantNames.has(s.metadata.name)) await sliceClient.tryDelete(s.metadata.name ?? '');
  };

  informers.start();
  const workers = runWorkers(queue, 2, sync, { logger: log });
  return {
    async stop() {
      queue.shutDown();
      await workers;
    },
  };
}

/** Create; if the object appeared meanwhile (a cache lagging behind), update it instead. */
async function createOrUpdate(create: () => Promise<unknown>, update: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!isApiError(err, 'AlreadyExists')) throw err;
    await update();
  }
}
