/** Publishes this agent's AntreaAgentInfo: its API port, its Node and its Pod count. */
import { antreaGvr, type AntreaAgentInfo } from '../../apis/crd/info.js';
import type { Node, Pod } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { nowTimestamp } from '../../apiserver/objects.js';
import { defineModule } from '../../features/modules.js';
import { ANTREA_TS_VERSION, publishInfo } from '../../process/info.js';
import type { AgentContext } from '../context.js';

export const agentMonitor = defineModule<AgentContext>({
  name: 'monitor',
  async start(ctx) {
    const pods = ctx.informers.informerFor<Pod>(gvr.pods, { fieldSelector: `spec.nodeName=${ctx.nodeName}` });
    const nodes = ctx.informers.informerFor<Node>(gvr.nodes, { fieldSelector: `metadata.name=${ctx.nodeName}` });
    ctx.informers.start();
    return publishInfo<AntreaAgentInfo>(
      ctx.client,
      antreaGvr.antreaagentinfos,
      () => {
        const node = nodes.getByName(undefined, ctx.nodeName);
        return {
          apiVersion: 'crd.antrea.io/v1beta1',
          kind: 'AntreaAgentInfo',
          metadata: { name: ctx.nodeName },
          version: ANTREA_TS_VERSION,
          apiPort: ctx.apiPort,
          nodeRef: { kind: 'Node', name: ctx.nodeName },
          nodeSubnets: node?.spec?.podCIDRs ?? (node?.spec?.podCIDR ? [node.spec.podCIDR] : []),
          localPodNum: pods.list().filter((p) => !p.spec.hostNetwork).length,
          agentConditions: [{ type: 'AgentHealthy', status: 'True', lastHeartbeatTime: nowTimestamp() }],
        };
      },
      ctx.logger,
    );
  },
});
