/**
 * The antrea-agent process, minus its command line. Like Antrea's initializer, it first waits for its Node to have
 * a Pod CIDR and an address, sets up the Node's datapath from them, and then starts the modules whose gates are
 * on, with its API on loopback.
 */
import type { Node } from '../apis/core.js';
import { gvr } from '../apiserver/registry.js';
import type { FeatureGate } from '../featuregate/index.js';
import { featureGateStatuses, type FeatureGateStatus } from '../features/index.js';
import type { ModuleDefinition } from '../features/modules.js';
import type { ApiClient } from '../client/types.js';
import type { AgentConfig, AgentDerived } from '../config/types.js';
import type { Logger } from '../util/log.js';
import { AntreaError, describeError, isAntreaError } from '../util/errors.js';
import { startComponent, type Component } from '../process/component.js';
import type { AgentContext } from './context.js';
import { nodeConfigFor, type DatapathProvider } from './nodedatapath.js';

export interface AgentOptions {
  nodeName: string;
  client: ApiClient;
  gate: FeatureGate;
  config: AgentConfig;
  derived: AgentDerived;
  logger: Logger;
  modules: readonly ModuleDefinition<AgentContext>[];
  datapath: DatapathProvider;
  /** The agent API's port; 0 picks a free one (several agents on one machine). Default: the conf's apiPort. */
  apiPort?: number;
  /** Give up waiting for the Node's Pod CIDR after this long (default: wait for ever, as Antrea does). */
  nodeWaitMs?: number;
  signal?: AbortSignal;
}

export interface Agent extends Component {
  nodeName: string;
  featureGates(): FeatureGateStatus[];
}

/** Waits until the Node exists with a Pod CIDR and an InternalIP (NodeIPAM or kube-controller-manager sets them). */
async function waitForNode(opts: AgentOptions, logger: Logger): Promise<Node> {
  const deadline = opts.nodeWaitMs === undefined ? Infinity : Date.now() + opts.nodeWaitMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 2000)) {
    let reason: string;
    try {
      const node = await opts.client.resource<Node>(gvr.nodes).get(opts.nodeName);
      nodeConfigFor(node, opts.config, opts.derived);
      return node;
    } catch (err) {
      if (isAntreaError(err) && (err.code === 'ERR_UNSUPPORTED_TRAFFIC_MODE' || err.code === 'ERR_UNSUPPORTED_TUNNEL')) throw err;
      reason = describeError(err);
    }
    if (opts.signal?.aborted) throw new AntreaError('ERR_ABORTED', `the agent of ${opts.nodeName} stopped before its Node was ready`);
    if (Date.now() > deadline) throw new AntreaError('ERR_NODE_NOT_READY', `Node ${opts.nodeName} is not ready for the agent: ${reason}`);
    logger.warnOnce(`wait-node:${reason}`, 'waiting for the Node to be ready', { reason });
    await new Promise((r) => setTimeout(r, delay));
  }
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const logger = opts.logger.child({ component: 'agent', node: opts.nodeName });
  const node = await waitForNode(opts, logger);
  const nodeConfig = nodeConfigFor(node, opts.config, opts.derived);
  const nodeDatapath = await opts.datapath(nodeConfig);
  const featureGates = () => featureGateStatuses('agent', opts.gate);
  const component = await startComponent<AgentContext>({
    name: 'agent',
    client: opts.client,
    gate: opts.gate,
    logger,
    modules: opts.modules,
    context: (base) => ({
      ...base,
      nodeName: opts.nodeName,
      config: opts.config,
      derived: opts.derived,
      nodeConfig,
      datapath: nodeDatapath.datapath,
      node: nodeDatapath,
    }),
    featureGates,
    apiPort: opts.apiPort ?? opts.config.apiPort,
  });
  return { ...component, nodeName: opts.nodeName, featureGates };
}
