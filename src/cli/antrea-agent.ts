/**
 * antrea-agent for a cluster: reads its conf file, talks to the kube-apiserver through a kubeconfig (or the
 * in-cluster service account) as Node `--node-name` (default: NODE_NAME, else the host name), and runs until SIGTERM.
 *
 * `--datapath sim` runs the Node's pipeline in the software executor: Antrea's "agent simulator" use, many agents
 * on one machine exercising a real control plane at scale. Driving the host's own Open vSwitch (the `system`
 * datapath of a real Node) is not available yet: `--datapath ovs` says so and exits.
 */
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { agentModules, startAgent } from '../agent/index.js';
import type { NodeDatapath } from '../agent/nodedatapath.js';
import { ruleStatsFromConjMetrics } from '../agent/stats/counters.js';
import { HttpClient } from '../client/http.js';
import { SimCluster } from '../datapath/sim/cluster.js';
import { simTraceflowDatapath } from '../agent/traceflow/simdatapath.js';
import { AntreaError } from '../util/errors.js';
import { EXIT_OK, noMoreArgs, oneOf, parseFlags, processIO, runCommand, type CliIO } from './io.js';
import { loadConfOrFail, processLogger, untilStopped } from './process-common.js';

const usage = 'usage: antrea-agent --datapath sim|ovs [--config FILE] [--kubeconfig FILE] [--node-name NAME] [--log-level error|warn|info|debug]';

export async function antreaAgent(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    const { values, positionals } = parseFlags(
      argv,
      { config: { type: 'string' }, kubeconfig: { type: 'string' }, 'node-name': { type: 'string' }, datapath: { type: 'string' }, 'log-level': { type: 'string', short: 'v' } },
      usage,
    );
    noMoreArgs(positionals, 0, 'antrea-agent takes only flags');
    const datapath = oneOf(values.datapath, ['sim', 'ovs'] as const, '--datapath', 'ovs');
    if (datapath === 'ovs') {
      throw new AntreaError(
        'ERR_OVS_UNAVAILABLE',
        "driving this host's Open vSwitch is not available in antrea-ts yet; run the whole system with `antrea local up --datapath ovs`, or this agent with --datapath sim",
        { field: 'datapath' },
      );
    }
    const resolved = loadConfOrFail(io, resolve(io.cwd, values.config ?? '/etc/antrea/antrea-agent.conf'), 'agent');
    if (resolved.component !== 'agent') throw new AntreaError('ERR_INTERNAL', 'loaded the wrong conf');
    const nodeName = values['node-name'] ?? io.env.NODE_NAME ?? hostname();
    const logger = processLogger(io, values['log-level']);
    const client = new HttpClient({ ...(values.kubeconfig ? { kubeconfig: resolve(io.cwd, values.kubeconfig) } : {}), logger });
    const sim = new SimCluster({ logger: logger.child({ component: 'datapath' }) });
    const controller = new AbortController();
    io.stopSignal?.addEventListener('abort', () => controller.abort(), { once: true });
    // Ctrl-C or SIGTERM while the agent still waits for its Node (an unreachable API server, say) is a stop the
    // user asked for, not a failure: it exits 0 without an error line, as it does once running.
    const agent = await startAgent({
      nodeName,
      client,
      gate: resolved.gates,
      config: resolved.config,
      derived: resolved.derived,
      logger,
      modules: agentModules,
      signal: controller.signal,
      datapath: async (cfg): Promise<NodeDatapath> => {
        const node = sim.nodeList().find((n) => n.nodeName === cfg.nodeName) ?? (await sim.addNode(cfg));
        return {
          datapath: node,
          pods: async () => [...node.compiler.podsByKey().values()],
          serviceKeys: async () => node.compiler.serviceKeys(),
          policyRuleIDs: async () => node.compiler.policyRuleIDs(),
          conntrack: () => sim.conntrack(cfg.nodeName),
          policyRuleStats: async () => ruleStatsFromConjMetrics(node.ruleMetrics(), (id) => node.compiler.ruleIDOf(id)),
          // Without it the Traceflow module would run with its gate on and fail every Traceflow from this Node.
          traceflow: simTraceflowDatapath(sim, cfg.nodeName),
        };
      },
    }).catch(async (err: unknown) => {
      if (!controller.signal.aborted) throw err;
      await sim.close();
      await client.close();
      return undefined;
    });
    if (!agent) return EXIT_OK;
    await untilStopped(io);
    await agent.stop();
    await sim.close();
    await client.close();
    return EXIT_OK;
  });
}

/** The command as a process: what `bin/antrea-agent.js` runs. */
export async function main(): Promise<void> {
  process.exitCode = await antreaAgent(process.argv.slice(2), processIO());
}
