/**
 * The antrea-agent process, minus its command line: the Node's modules whose gates are on, and its API on loopback.
 */
import type { FeatureGate } from '../featuregate/index.js';
import { featureGateStatuses, type FeatureGateStatus } from '../features/index.js';
import type { ModuleDefinition } from '../features/modules.js';
import type { ApiClient } from '../client/types.js';
import type { AgentConfig, AgentDerived } from '../config/types.js';
import type { Logger } from '../util/log.js';
import { startComponent, type Component } from '../process/component.js';
import type { AgentContext } from './context.js';

export interface AgentOptions {
  nodeName: string;
  client: ApiClient;
  gate: FeatureGate;
  config: AgentConfig;
  derived: AgentDerived;
  logger: Logger;
  modules: readonly ModuleDefinition<AgentContext>[];
  /** The agent API's port; 0 picks a free one (several agents on one machine). Default: the conf's apiPort. */
  apiPort?: number;
}

export interface Agent extends Component {
  nodeName: string;
  featureGates(): FeatureGateStatus[];
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const featureGates = () => featureGateStatuses('agent', opts.gate);
  const component = await startComponent<AgentContext>({
    name: 'agent',
    client: opts.client,
    gate: opts.gate,
    logger: opts.logger.child({ component: 'agent', node: opts.nodeName }),
    modules: opts.modules,
    context: (base) => ({ ...base, nodeName: opts.nodeName, config: opts.config, derived: opts.derived }),
    featureGates,
    apiPort: opts.apiPort ?? opts.config.apiPort,
  });
  return { ...component, nodeName: opts.nodeName, featureGates };
}
