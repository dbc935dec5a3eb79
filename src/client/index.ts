/**
 * The client side of the API machinery: one client interface, two clients, informers and work queues.
 *
 * A module watches through the process's shared factory and reconciles keys with workers:
 * ```ts
 * const pods = factory.informerFor<Pod>(gvr.pods, { fieldSelector: `spec.nodeName=${nodeName}` });
 * const queue = new WorkQueue<string>({ name: 'pods' });
 * pods.addEventHandler({ onAdd: (p) => queue.add(objectKey(p)), onUpdate: (_o, p) => queue.add(objectKey(p)), onDelete: (p) => queue.add(objectKey(p)) });
 * factory.start(); await factory.waitForCacheSync();
 * void runWorkers(queue, 2, (key) => reconcile(key, pods.get(key)), { logger });   // queue.shutDown() to stop
 * ```
 */
export type { ApiClient, ResourceClient } from './types.js';
export { ApiError, isApiError } from './types.js';
export { InProcessClient } from './inprocess.js';
export { HttpClient, collectionPath, objectPath } from './http.js';
export type { HttpClientOptions } from './http.js';
export { loadKubeConfig, kubeConfigForServer, isLoopbackUrl } from './kubeconfig.js';
export type { KubeConfigSource } from './kubeconfig.js';
export { toApiError, statusForCode } from './http-errors.js';
export { Informer } from './informer.js';
export type { EventHandlers, InformerOptions, InformerStats } from './informer.js';
export { SharedInformerFactory } from './factory.js';
export type { InformerScope, SharedInformerDefaults } from './factory.js';
export { ObjectCache, NAMESPACE_INDEX, NODE_NAME_INDEX, cacheKey, objectKey, splitKey, namespaceIndexFunc, nodeNameIndexFunc } from './cache.js';
export type { IndexFunc } from './cache.js';
export { WorkQueue } from './workqueue.js';
export type { WorkQueueOptions } from './workqueue.js';
export { runWorkers } from './workers.js';
export type { WorkerOptions } from './workers.js';
export { BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from './ratelimit.js';
export type { RateLimiter } from './ratelimit.js';
export { Backoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
