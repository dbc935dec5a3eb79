/**
 * The antrea-controller process, minus its command line: its modules whose gates are on, and its API on loopback.
 * Its `/featuregates` lists the agents' gates as the antrea ConfigMap sets them, then its own, as Antrea's does.
 */
import type { FeatureGate } from '../featuregate/index.js';
import { featureGateStatuses, type FeatureGateStatus } from '../features/index.js';
import type { ModuleDefinition } from '../features/modules.js';
import type { ApiClient } from '../client/types.js';
import type { ControllerConfig } from '../config/types.js';
import type { Logger } from '../util/log.js';
import { startComponent, type Component } from '../process/component.js';
import type { ControllerContext } from './context.js';

export interface ControllerOptions {
  client: ApiClient;
  gate: FeatureGate;
  config: ControllerConfig;
  logger: Logger;
  modules: readonly ModuleDefinition<ControllerContext>[];
  /** The agents' gates as the cluster configures them now, read on each `/featuregates` request. */
  agentGate: () => Promise<FeatureGate>;
  /** Default: the conf's apiPort; 0 picks a free port. */
  apiPort?: number;
}

export interface Controller extends Component {
  featureGates(): Promise<FeatureGateStatus[]>;
}

export async function startController(opts: ControllerOptions): Promise<Controller> {
  const featureGates = async () => [...featureGateStatuses('agent', await opts.agentGate()), ...featureGateStatuses('controller', opts.gate)];
  const component = await startComponent<ControllerContext>({
    name: 'controller',
    client: opts.client,
    gate: opts.gate,
    logger: opts.logger.child({ component: 'controller' }),
    modules: opts.modules,
    context: (base) => ({ ...base, config: opts.config }),
    featureGates,
    apiPort: opts.apiPort ?? opts.config.apiPort,
  });
  return { ...component, featureGates };
}
