/** What every agent module is given when it starts. */
import type { AgentConfig, AgentDerived } from '../config/types.js';
import type { BaseContext } from '../process/component.js';

export interface AgentContext extends BaseContext {
  nodeName: string;
  config: AgentConfig;
  derived: AgentDerived;
}
