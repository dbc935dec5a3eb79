/** What every agent module is given when it starts. */
import type { AgentConfig, AgentDerived } from '../config/types.js';
import type { Datapath, NodeConfig } from '../datapath/types.js';
import type { BaseContext } from '../process/component.js';
import type { NodeDatapath } from './nodedatapath.js';

export interface AgentContext extends BaseContext {
  nodeName: string;
  config: AgentConfig;
  derived: AgentDerived;
  /** The Node as the datapath was set up for it: Pod CIDR, gateway, Node IP, traffic mode. */
  nodeConfig: NodeConfig;
  /** Where modules publish desired state. */
  datapath: Datapath;
  /** What the agent reads back from its datapath. */
  node: NodeDatapath;
}
