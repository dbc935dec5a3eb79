/**
 * The agent's modules, in start order. Each names its gate once; this list reads like the feature table.
 */
import type { ModuleDefinition } from '../features/modules.js';
import type { AgentContext } from './context.js';
import { egressAgent } from './egress/index.js';
import { flowExporter } from './flowexporter/index.js';
import { agentMonitor } from './monitor/index.js';
import { networkPolicyAgent } from './networkpolicy/index.js';
import { networkPolicyStatsAgent } from './stats/index.js';
import { nodeRoute } from './noderoute/index.js';
import { nodePortLocal } from './nodeportlocal/index.js';
import { podNetwork } from './podnetwork/index.js';
import { proxyModules } from './proxy/index.js';
import { traceflowAgent } from './traceflow/index.js';

export const agentModules: readonly ModuleDefinition<AgentContext>[] = [nodeRoute, podNetwork, ...proxyModules, networkPolicyAgent, networkPolicyStatsAgent, flowExporter, traceflowAgent, nodePortLocal, egressAgent, agentMonitor];

export { startAgent, type Agent, type AgentOptions } from './agent.js';
