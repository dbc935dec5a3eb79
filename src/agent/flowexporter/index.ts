/**
 * FlowExporter (Alpha, agent): polls the Node's conntrack, keeps a store of Pod connections, and exports IPFIX
 * records in Antrea's template (37 IEs) to the configured collector, enriched with Pods, Nodes, Services and the
 * NetworkPolicy rules that allowed the flow (as installed by the agent's NetworkPolicy module, policies.ts).
 * State on the agent API at `/flowexporter`.
 */
import type { Pod, Service } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { defineModule } from '../../features/modules.js';
import { AntreaError } from '../../util/errors.js';
import type { AgentContext } from '../context.js';
import { ClusterIndex } from './enrich.js';
import { FlowExporter } from './exporter.js';
import { InstalledRuleLookup } from './policies.js';

export { ClusterIndex } from './enrich.js';
export { FlowExporter, observationDomainId, type FlowExporterOptions, type FlowExporterStats } from './exporter.js';
export { InstalledRuleLookup, policyRefOf, type PolicyLookup, type RuleInfo } from './policies.js';
export { buildRecord, flowTemplates, flowTypeOf, TEMPLATE_ID_V4, TEMPLATE_ID_V6 } from './record.js';
export { ConnectionStore, type PollResult, type StoreOptions } from './store.js';
export { FlowEndReason, FlowType, PolicyTypeCode, RuleActionCode, type Connection, type Enricher } from './types.js';

const NS_PER_MS = 1e6;

export const flowExporter = defineModule<AgentContext>({
  name: 'flowexporter',
  gate: 'FlowExporter',
  start(ctx) {
    const settings = ctx.derived.flowExporter;
    if (!settings) {
      throw new AntreaError(
        'ERR_FLOW_EXPORTER_CONFIG',
        `FlowExporter is on but its settings are not valid (flowCollectorAddr ${JSON.stringify(ctx.config.flowCollectorAddr)}, flowPollInterval ${JSON.stringify(ctx.config.flowPollInterval)})`,
        { field: 'flowCollectorAddr' },
      );
    }
    const { collector } = settings;
    if (collector.proto !== 'tcp' && collector.proto !== 'udp') {
      // Sending flow records in clear text to a collector that expects TLS would be a silent downgrade: refuse.
      throw new AntreaError(
        'ERR_FLOW_EXPORTER_TLS',
        `flowCollectorAddr ${JSON.stringify(ctx.config.flowCollectorAddr)} asks for proto ${collector.proto}, which antrea-ts does not support; use ${collector.host}:${collector.port}:tcp or :udp`,
        { field: 'flowCollectorAddr' },
      );
    }
    const log = ctx.logger.child({ module: 'flowexporter' });
    const index = new ClusterIndex(new InstalledRuleLookup(ctx.nodeName));
    const pods = ctx.informers.informerFor<Pod>(gvr.pods);
    const services = ctx.informers.informerFor<Service>(gvr.services);
    const unfollow = index.follow(pods, services);
    ctx.informers.start();
    const exporter = new FlowExporter({
      nodeName: ctx.nodeName,
      collector: { host: collector.host, port: collector.port, proto: collector.proto },
      pollIntervalMs: settings.pollIntervalNs / NS_PER_MS,
      activeTimeoutMs: settings.activeFlowTimeoutNs / NS_PER_MS,
      idleTimeoutMs: settings.idleFlowTimeoutNs / NS_PER_MS,
      conntrack: () => ctx.node.conntrack(),
      enricher: index,
      logger: log,
    });
    exporter.start();
    ctx.expose('/flowexporter', () => exporter.stats());
    log.info('flow exporter started', { collector: collector.address, proto: collector.proto, pollIntervalMs: settings.pollIntervalNs / NS_PER_MS });
    return {
      async stop() {
        unfollow();
        await exporter.stop();
      },
    };
  },
});
