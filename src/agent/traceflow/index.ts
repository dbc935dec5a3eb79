/** Traceflow in the agent: injects the tagged packet from a local source Pod and reports this Node's observations. */
import { defineModule } from '../../features/modules.js';
import type { AgentContext } from '../context.js';
import { TraceflowAgent } from './agent.js';

export const traceflowAgent = defineModule<AgentContext>({
  name: 'traceflow',
  gate: 'Traceflow',
  start(ctx) {
    const agent = new TraceflowAgent(ctx);
    ctx.expose('/traceflow', () => agent.state());
    agent.start();
    return agent;
  },
});
