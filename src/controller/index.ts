/** The controller's modules, in start order. Each names its gate once; this list reads like the feature table. */
import type { ModuleDefinition } from '../features/modules.js';
import type { ControllerContext } from './context.js';
import { controllerMonitor } from './monitor/index.js';
import { egressController } from './egress/index.js';
import { networkPolicyController } from './networkpolicy/index.js';
import { networkPolicyStatsController } from './stats/index.js';
import { nodeIpamController } from './nodeipam/index.js';
import { traceflowController } from './traceflow/index.js';

export const controllerModules: readonly ModuleDefinition<ControllerContext>[] = [controllerMonitor, nodeIpamController, networkPolicyController, networkPolicyStatsController, traceflowController, egressController];

export { startController, type Controller, type ControllerOptions } from './controller.js';
