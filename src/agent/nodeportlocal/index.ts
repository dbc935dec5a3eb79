/**
 * NodePortLocal, the agent module (Antrea 1.5's NPL agent): each port of a Pod selected by a Service annotated
 * `nodeportlocal.antrea.io/enabled: "true"` becomes reachable at nodeIP:nodePort, with the mapping published in the
 * Pod's `nodeportlocal.antrea.io` annotation for external load balancers. It watches the Services of the cluster
 * and the Pods of this Node only; Service events re-sync the Pods their old and new selectors match.
 *
 * As in Antrea 1.5 it runs only when the gate and `nodePortLocal.enable` are both on: with the gate on and the
 * setting off the module starts, logs once that it does nothing, and watches nothing.
 */
import type { Pod, Service } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { cacheKey } from '../../client/cache.js';
import { isApiError } from '../../client/types.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import { defineModule } from '../../features/modules.js';
import { AntreaError, describeError } from '../../util/errors.js';
import type { AgentContext } from '../context.js';
import { NPL_ANNOTATION_KEY } from './annotation.js';
import { NodePortLocalController, type NodePortLocalState } from './controller.js';
import { isNplService, nplServiceSelects } from './desired.js';

export { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, decodeAnnotation, encodeAnnotation, type NplAnnotationEntry } from './annotation.js';
export type { NodePortLocalState } from './controller.js';

/** Delay between attempts to restore the mappings when the datapath refuses them. */
const RESTORE_RETRY_MS = 1000;

export const nodePortLocal = defineModule<AgentContext>({
  name: 'nodeportlocal',
  gate: 'NodePortLocal',
  start(ctx) {
    const log = ctx.logger.child({ module: 'nodeportlocal' });
    if (!ctx.config.nodePortLocal.enable) {
      log.info('NodePortLocal is not enabled (nodePortLocal.enable is false): no Node port is mapped');
      ctx.expose('/nodeportlocal', (): NodePortLocalState => ({ enabled: false, ready: true, mappings: [], waiting: [] }));
      return { stop: () => undefined };
    }
    const range = ctx.derived.nodePortLocalRange;
    if (!range) {
      throw new AntreaError('ERR_INVALID_CONFIG', 'NodePortLocal is enabled but nodePortLocal.portRange did not give a valid range', { field: 'nodePortLocal.portRange', gate: 'NodePortLocal' });
    }
    const pods = ctx.informers.informerFor<Pod>(gvr.pods, { fieldSelector: `spec.nodeName=${ctx.nodeName}` });
    const services = ctx.informers.informerFor<Service>(gvr.services);
    const queue = new WorkQueue<string>({ name: 'nodeportlocal' });
    const podsClient = ctx.client.resource<Pod>(gvr.pods);

    const controller = new NodePortLocalController({
      nodeIP: ctx.nodeConfig.nodeIP,
      range,
      getPod: (key) => pods.get(key),
      listPods: () => pods.list(),
      servicesIn: (namespace) => services.list(namespace),
      datapath: ctx.datapath,
      async patchAnnotation(namespace, name, value) {
        try {
          await podsClient.inNamespace(namespace).mergePatch(name, { metadata: { annotations: { [NPL_ANNOTATION_KEY]: value } } });
        } catch (err) {
          if (!isApiError(err, 'NotFound')) throw err;
        }
      },
      enqueue: (key) => queue.add(key),
      logger: log,
    });
    ctx.expose('/nodeportlocal', () => controller.state());
    ctx.addReadinessCheck('nodeportlocal', () => controller.isReady);

    const enqueuePod = (pod: Pod) => queue.add(cacheKey(pod.metadata.namespace, pod.metadata.name ?? ''));
    pods.addEventHandler({ onAdd: enqueuePod, onUpdate: (_o, n) => enqueuePod(n), onDelete: enqueuePod });
    // A Service change matters to the Pods its old or its new form selects, and only if either asks for NPL.
    const enqueueSelected = (...svcs: Service[]) => {
      const npl = svcs.filter(isNplService);
      if (npl.length === 0) return;
      for (const pod of pods.list(npl[0]?.metadata.namespace)) if (npl.some((s) => nplServiceSelects(s, pod))) enqueuePod(pod);
    };
    services.addEventHandler({
      onAdd: (s) => enqueueSelected(s),
      onUpdate: (o, n) => {
        if (o !== n) enqueueSelected(o, n);
      },
      onDelete: (s) => enqueueSelected(s),
    });
    ctx.informers.start();

    // Nothing is allocated before every Pod of this Node is known and the table is rebuilt from their annotations.
    let stopped = false;
    void (async () => {
      await Promise.all([pods.waitForSync(), services.waitForSync()]);
      while (!stopped) {
        try {
          await controller.restore();
          return;
        } catch (err) {
          log.error('NodePortLocal could not restore its mappings; retrying', { error: describeError(err) });
          await new Promise((r) => setTimeout(r, RESTORE_RETRY_MS));
        }
      }
    })().catch((err: unknown) => log.error('NodePortLocal did not start', { error: describeError(err) }));
    const workers = runWorkers(queue, 2, (key) => controller.sync(key), { logger: log });
    log.info('NodePortLocal started', { portRange: `${range.start}-${range.end}` });
    return {
      async stop() {
        stopped = true;
        queue.shutDown();
        await workers.catch((err: unknown) => log.error('workers ended with an error', { error: describeError(err) }));
      },
    };
  },
});
