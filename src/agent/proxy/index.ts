/**
 * AntreaProxy, the agent module: informer adapters for Services and for Endpoints or EndpointSlices (the
 * EndpointSlice gate, asked once here) feed the proxier's change trackers; a bounded-frequency runner (Antrea's
 * 1 s / 30 s / burst 2) runs its sync; a full re-check every few minutes repairs drift. `/proxy` on the agent's API
 * shows what is programmed.
 *
 * With AntreaProxy off nothing here runs and no Service flow exists: traffic to a ClusterIP is not load-balanced.
 */
import type { Endpoints, Service } from '../../apis/core.js';
import type { EndpointSlice } from '../../apis/discovery.js';
import { gvr } from '../../apiserver/registry.js';
import type { Informer } from '../../client/informer.js';
import type { KubeObject } from '../../apis/meta.js';
import { defineModule, type ModuleDefinition } from '../../features/modules.js';
import { describeError } from '../../util/errors.js';
import type { AgentContext } from '../context.js';
import { Proxier, type InstalledFrontend, type ProxierStats } from './proxier.js';
import { BoundedFrequencyRunner } from './runner.js';
import { servedEndpointSliceVersion } from './sliceversion.js';

export { Proxier } from './proxier.js';
export { BoundedFrequencyRunner } from './runner.js';
export { resolveServiceTarget, type ServiceTarget } from './target.js';

export interface AntreaProxyOptions {
  /** Least time between syncs once the burst is spent (default 1000 ms, as Antrea). */
  minIntervalMs?: number;
  /** Most time between syncs (default 30000 ms). */
  maxIntervalMs?: number;
  /** Syncs allowed back to back (default 2). */
  burst?: number;
  /** Period of the full re-check of every ServicePort (default 5 min). */
  fullSyncPeriodMs?: number;
}

/** What `/proxy` answers. */
export interface ProxyState {
  source: 'Endpoints' | 'EndpointSlices';
  synced: boolean;
  stats: ProxierStats;
  frontends: InstalledFrontend[];
}

export const ENDPOINTSLICE_WITHOUT_PROXY_WARNING =
  'the EndpointSlice feature gate is enabled but has no effect: only AntreaProxy reads EndpointSlices, and AntreaProxy is disabled';

/** The AntreaProxy module with its runner's timing (tests shorten it). */
export function antreaProxyModule(opts: AntreaProxyOptions = {}): ModuleDefinition<AgentContext> {
  return defineModule<AgentContext>({
    name: 'antreaproxy',
    gate: 'AntreaProxy',
    async start(ctx) {
      const useEndpointSlices = ctx.gateEnabled('EndpointSlice');
      const log = ctx.logger.child({ module: 'antreaproxy' });
      const cfg = ctx.config.antreaProxy;
      const fullSyncPeriodMs = opts.fullSyncPeriodMs ?? 5 * 60_000;
      let lastFull = Date.now();
      const runner: BoundedFrequencyRunner = new BoundedFrequencyRunner(
        async () => {
          const full = Date.now() - lastFull >= fullSyncPeriodMs;
          if (full) lastFull = Date.now();
          await proxier.sync({ full });
        },
        { name: 'antrea-agent-proxy', minIntervalMs: opts.minIntervalMs ?? 1000, maxIntervalMs: opts.maxIntervalMs ?? 30_000, burst: opts.burst ?? 2, logger: log },
      );
      // The datapath's Service frontends, so Services deleted while the agent was down are removed after a restart.
      const serviceKeys = () => ctx.node.serviceKeys();
      const proxier = new Proxier({
        nodeName: ctx.nodeName,
        datapath: ctx.datapath,
        useEndpointSlices,
        logger: log,
        skipServices: cfg.skipServices,
        proxyLoadBalancerIPs: cfg.proxyLoadBalancerIPs,
        proxyAll: cfg.proxyAll,
        onChange: () => runner.run(),
        onRetry: (ms) => runner.retryAfter(ms),
        restore: serviceKeys,
      });

      const services = ctx.informers.informerFor<Service>(gvr.services);
      const unsubscribe: (() => void)[] = [];
      unsubscribe.push(
        services.addEventHandler({
          onAdd: (s) => proxier.onServiceAdd(s),
          onUpdate: (o, s) => proxier.onServiceUpdate(o, s),
          onDelete: (s) => proxier.onServiceDelete(s),
        }),
      );
      let endpointsInformer: Informer<KubeObject>;
      if (useEndpointSlices) {
        const version = await servedEndpointSliceVersion((r) => ctx.client.resource(r).list({ limit: 1 }));
        if (version.version !== 'v1') log.info('the API server does not serve discovery.k8s.io/v1: reading EndpointSlices v1beta1');
        const slices = ctx.informers.informerFor<EndpointSlice>(version);
        unsubscribe.push(
          slices.addEventHandler({
            onAdd: (s) => proxier.onEndpointSliceAdd(s),
            onUpdate: (o, s) => proxier.onEndpointSliceUpdate(o, s),
            onDelete: (s) => proxier.onEndpointSliceDelete(s),
          }),
        );
        endpointsInformer = slices as unknown as Informer<KubeObject>;
      } else {
        const endpoints = ctx.informers.informerFor<Endpoints>(gvr.endpoints);
        unsubscribe.push(
          endpoints.addEventHandler({
            onAdd: (e) => proxier.onEndpointsAdd(e),
            onUpdate: (o, e) => proxier.onEndpointsUpdate(o, e),
            onDelete: (e) => proxier.onEndpointsDelete(e),
          }),
        );
        endpointsInformer = endpoints as unknown as Informer<KubeObject>;
      }
      ctx.informers.start();
      const fail = (what: string) => (err: unknown) => log.error(`${what} did not sync`, { error: describeError(err) });
      void services.waitForSync().then(() => proxier.onServicesSynced(), fail('Services'));
      void endpointsInformer.waitForSync().then(() => proxier.onEndpointsSynced(), fail(useEndpointSlices ? 'EndpointSlices' : 'Endpoints'));
      runner.start();

      ctx.expose('/proxy', (): ProxyState => ({
        source: useEndpointSlices ? 'EndpointSlices' : 'Endpoints',
        synced: proxier.synced,
        stats: { ...proxier.stats },
        frontends: proxier.frontends(),
      }));
      ctx.addReadinessCheck('antreaproxy', () => proxier.synced);
      log.info('AntreaProxy started', { source: useEndpointSlices ? 'EndpointSlices' : 'Endpoints' });
      return {
        async stop() {
          for (const u of unsubscribe) u();
          await runner.stop();
        },
      };
    },
  });
}

export const antreaProxy = antreaProxyModule();

/**
 * The EndpointSlice gate only changes what AntreaProxy reads, and AntreaProxy asks for it itself. This module exists
 * for the one case the proxy cannot report, being absent: the gate on with AntreaProxy off. It then logs one
 * warning at start (Antrea's docs: the gate has no effect without AntreaProxy) and does nothing else.
 */
export const endpointSliceWithoutProxy = defineModule<AgentContext>({
  name: 'endpointslice',
  gate: 'EndpointSlice',
  start(ctx) {
    if (!ctx.gateEnabled('AntreaProxy')) ctx.logger.warn(ENDPOINTSLICE_WITHOUT_PROXY_WARNING, { gate: 'EndpointSlice' });
    return { stop() {} };
  },
});

/** The proxy's modules, in start order, for `agentModules`. */
export const proxyModules: readonly ModuleDefinition<AgentContext>[] = [antreaProxy, endpointSliceWithoutProxy];
