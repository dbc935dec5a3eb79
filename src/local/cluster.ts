/**
 * `antrea local`: the whole system in one process. An API store (optionally persisted in a state directory and
 * served over HTTP on loopback), the antrea ConfigMap loaded from a manifest, N Nodes, the controller, one agent per
 * Node, and the parts of Kubernetes a real cluster would run (scheduler, kubelets, endpoints controllers).
 */
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigMap, Node } from '../apis/core.js';
import type { KubeObject } from '../apis/meta.js';
import { gvr } from '../apiserver/registry.js';
import { createStore, type Store } from '../apiserver/store.js';
import { isApiError } from '../apiserver/types.js';
import { SharedInformerFactory } from '../client/factory.js';
import { InProcessClient } from '../client/inprocess.js';
import type { ApiClient } from '../client/types.js';
import {
  CONFIGMAP_NAMESPACE,
  formatConfigProblem,
  gatesByComponent,
  loadConf,
  loadManifest,
  setFeatureGates,
  type ResolvedAgent,
  type ResolvedController,
} from '../config/index.js';
import type { FeatureGate } from '../featuregate/index.js';
import type { ModuleDefinition, Stoppable } from '../features/modules.js';
import { agentModules as defaultAgentModules, startAgent, type Agent } from '../agent/index.js';
import type { AgentContext } from '../agent/context.js';
import { controllerModules as defaultControllerModules, startController, type Controller } from '../controller/index.js';
import type { ControllerContext } from '../controller/context.js';
import { AntreaError } from '../util/errors.js';
import { SimCluster } from '../datapath/sim/cluster.js';
import type { NodeDatapath, RuleCounters } from '../agent/nodedatapath.js';
import { ruleStatsFromConjMetrics, ruleStatsFromFlowCounters } from '../agent/stats/counters.js';
import { simTraceflowDatapath } from '../agent/traceflow/simdatapath.js';
import { isOvsTracer, ovsTraceflowDatapath } from '../agent/traceflow/ovsdatapath.js';
import type { Datapath, NodeConfig } from '../datapath/types.js';
import type { DatapathExecutor } from '../datapath/traffic.js';
import type { PipelineCompiler } from '../datapath/pipeline/compiler.js';
import { silentLogger, type Logger } from '../util/log.js';
import { startEndpointsController } from './kube/endpoints-controller.js';
import { startKubelets } from './kube/kubelet.js';
import { startScheduler } from './kube/scheduler.js';
import { localNodes } from './nodes.js';
import { lockStateDir, type StateLock } from './lock.js';
import { runTraffic, type TrafficRequest, type TrafficSummary } from './traffic.js';
import { serveLocalApi } from './api.js';
import type { ApiServer } from '../apiserver/http.js';
import { kubeconfigPath } from './paths.js';
import { writeKubeconfig } from './kubeconfig.js';
import { servedResources } from '../apiserver/resources/index.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_MANIFEST = join(packageRoot, 'build', 'yamls', 'antrea.yml');

export interface LocalClusterOptions {
  /** Number of Nodes (default 2). A restarted cluster keeps the Nodes it has and adds missing ones. */
  nodes?: number;
  /** The manifest holding the antrea ConfigMap (default: ours). */
  manifestPath?: string;
  manifestText?: string;
  /** Gate overrides, each set on the components it belongs to, on top of the manifest's. */
  gates?: Readonly<Record<string, boolean>>;
  /** Keep the API state here; a later start with the same directory comes back with nothing lost. */
  stateDir?: string;
  /** Serve the API over HTTP on loopback (default: port 0, a free port); false: in-process only. */
  http?: { port?: number; host?: string } | false;
  logger?: Logger;
  agentModules?: readonly ModuleDefinition<AgentContext>[];
  controllerModules?: readonly ModuleDefinition<ControllerContext>[];
  /** The datapath: the software simulator (default), or Open vSwitch in network namespaces (root, Linux). */
  datapath?: LocalDatapathKind;
  /** Called with progress lines during start-up (for a terminal). */
  progress?: (line: string) => void;
}

interface ResolvedConfigs {
  agent: ResolvedAgent;
  controller: ResolvedController;
  configMap: ConfigMap;
}

/** Loads the manifest (with overrides) into effective configs; every error is reported at once. */
export function resolveLocalConfig(opts: Pick<LocalClusterOptions, 'manifestPath' | 'manifestText' | 'gates'>): ResolvedConfigs {
  const path = opts.manifestPath ?? (opts.manifestText === undefined ? DEFAULT_MANIFEST : undefined);
  let text = opts.manifestText ?? readFileSync(path as string, 'utf8');
  const fail = (lines: string[]) => {
    // One problem reads as one line (the CLI prefixes `error: ` itself); several stay one per line, each complete.
    const text = lines.length === 1 ? ` ${(lines[0] as string).replace(/^error: /, '')}` : `\n${lines.join('\n')}`;
    throw new AntreaError('ERR_INVALID_CONFIG', `the antrea configuration is not valid:${text}`, path ? { file: path } : {});
  };
  if (opts.gates && Object.keys(opts.gates).length > 0) {
    const edited = setFeatureGates(text, gatesByComponent(opts.gates), path ? { path } : {});
    const errors = edited.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0) fail(errors.map(formatConfigProblem));
    text = edited.text;
  }
  const loaded = loadManifest(text, path ? { path } : {});
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) fail(errors.map(formatConfigProblem));
  if (!loaded.agent || !loaded.controller || !loaded.configMap) fail(['the antrea ConfigMap must hold both antrea-agent.conf and antrea-controller.conf']);
  const confs = loaded.configMap?.confs ?? {};
  const configMap: ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: loaded.configMap?.name ?? 'antrea-config', namespace: CONFIGMAP_NAMESPACE, labels: { app: 'antrea' } },
    data: { 'antrea-agent.conf': confs.agent?.value ?? '', 'antrea-controller.conf': confs.controller?.value ?? '' },
  };
  return { agent: loaded.agent as ResolvedAgent, controller: loaded.controller as ResolvedController, configMap };
}

export type LocalDatapathKind = 'sim' | 'ovs';

/** What the local cluster needs of an executor beyond the traffic API: its Nodes, with their compilers. */
type LocalNode = Datapath & { nodeName: string; compiler: PipelineCompiler };
type LocalExecutor = Omit<DatapathExecutor, 'addNode'> & {
  nodeList(): LocalNode[];
  addNode(cfg: NodeConfig): Promise<LocalNode>;
};

async function createExecutor(kind: LocalDatapathKind, logger: Logger): Promise<LocalExecutor> {
  if (kind === 'sim') return new SimCluster({ logger });
  // Loaded only when asked for: the OVS executor shells out to ip, ovs-vsctl and friends, as root.
  const { ovsAvailable } = await import('../datapath/ovs/exec.js');
  const available = await ovsAvailable();
  if (!available.ok) throw new AntreaError('ERR_OVS_UNAVAILABLE', `the ovs datapath cannot run here: ${available.reason}`, { field: 'datapath' });
  const { OvsCluster } = await import('../datapath/ovs/cluster.js');
  return OvsCluster.create({ logger });
}

export class LocalCluster {
  readonly agents = new Map<string, Agent>();
  #kube: Stoppable[] = [];
  #kubeInformers: SharedInformerFactory | undefined;
  #api: ApiServer | undefined;
  #controller: Controller | undefined;
  #lock: StateLock | undefined;

  #executor: LocalExecutor;

  private constructor(
    readonly store: Store,
    readonly config: ResolvedConfigs,
    readonly nodeNames: readonly string[],
    private readonly opts: LocalClusterOptions,
    private readonly logger: Logger,
    executor: LocalExecutor,
  ) {
    this.#executor = executor;
  }

  /** The datapath executor every Node's datapath is part of: the simulator, or Open vSwitch in namespaces. */
  get executor(): Omit<DatapathExecutor, 'addNode'> {
    return this.#executor;
  }

  /** The simulated network (the default datapath); an error on a cluster running the OVS datapath. */
  get sim(): SimCluster {
    if (!(this.#executor instanceof SimCluster)) throw new AntreaError('ERR_NOT_SIMULATED', 'this local cluster runs the ovs datapath, not the simulator');
    return this.#executor;
  }

  static async start(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
    const logger = opts.logger ?? silentLogger;
    const progress = opts.progress ?? (() => undefined);
    const config = resolveLocalConfig(opts);
    // With the controller's NodeIPAM active, Nodes start without Pod CIDRs and the controller allocates them (as
    // kube-controller-manager would otherwise); the agents wait for theirs.
    const nodeIpam = config.controller.gates.enabled('NodeIPAM') && config.controller.config.nodeIPAM.enableNodeIPAM;
    const nodes = localNodes(opts.nodes ?? 2, { assignPodCidrs: !nodeIpam });
    const lock = opts.stateDir ? lockStateDir(opts.stateDir) : undefined;
    progress('loading the API state');
    let store: Store;
    try {
      store = createStore({ resources: servedResources((name) => config.controller.gates.enabled(name)), ...(opts.stateDir ? { dataDir: join(opts.stateDir, 'store') } : {}), logger: logger.child({ component: 'apiserver' }) });
    } catch (err) {
      lock?.release();
      throw err;
    }
    let executor: LocalExecutor;
    try {
      executor = await createExecutor(opts.datapath ?? 'sim', logger.child({ component: 'datapath' }));
    } catch (err) {
      await store.close();
      lock?.release();
      throw err;
    }
    const cluster = new LocalCluster(store, config, nodes.map((n) => n.metadata.name as string), opts, logger, executor);
    cluster.#lock = lock;
    try {
      await cluster.#bootstrap(nodes);
      if (opts.http !== false) {
        progress('starting the API server');
        cluster.#api = await serveLocalApi(store, { ...(opts.http ?? {}), logger });
        if (opts.stateDir) writeKubeconfig(kubeconfigPath(opts.stateDir), cluster.#api.url);
      }
      progress('starting the Kubernetes parts (scheduler, kubelets, endpoints)');
      cluster.#startKube();
      progress('starting antrea-controller');
      cluster.#controller = await cluster.#startController();
      for (const name of cluster.nodeNames) {
        progress(`starting antrea-agent on ${name}`);
        await cluster.startAgent(name);
      }
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The API's URL when served over HTTP. */
  get url(): string | undefined {
    return this.#api?.url;
  }

  get kubeconfig(): string | undefined {
    return this.opts.stateDir && this.#api ? kubeconfigPath(this.opts.stateDir) : undefined;
  }

  get controller(): Controller {
    if (!this.#controller) throw new AntreaError('ERR_NOT_RUNNING', 'the controller is not running');
    return this.#controller;
  }

  /** A new in-process client of the cluster's API. */
  client(): ApiClient {
    return new InProcessClient(this.store);
  }

  agent(node: string): Agent {
    const agent = this.agents.get(node);
    if (!agent) throw new AntreaError('ERR_NOT_RUNNING', `no agent is running on ${node}`);
    return agent;
  }

  async startAgent(node: string): Promise<Agent> {
    if (!this.nodeNames.includes(node)) throw new AntreaError('ERR_UNKNOWN_NODE', `${node} is not a Node of this cluster`);
    const existing = this.agents.get(node);
    if (existing) return existing;
    const { agent } = this.config;
    const started = await startAgent({
      nodeName: node,
      client: this.client(),
      gate: agent.gates.copy(),
      config: agent.config,
      derived: agent.derived,
      logger: this.logger,
      modules: this.opts.agentModules ?? defaultAgentModules,
      datapath: (cfg) => this.#nodeDatapath(cfg),
      apiPort: 0,
    });
    this.agents.set(node, started);
    return started;
  }

  async stopAgent(node: string): Promise<void> {
    const agent = this.agents.get(node);
    if (!agent) return;
    this.agents.delete(node);
    await agent.stop();
  }

  async restartAgent(node: string): Promise<Agent> {
    await this.stopAgent(node);
    return this.startAgent(node);
  }

  /** Sends traffic through the cluster's datapath (see `antrea local traffic`). */
  traffic(req: TrafficRequest): Promise<TrafficSummary> {
    return runTraffic(this.client(), this.#executor, this.nodeNames[0] as string, req);
  }

  /** Stops everything; the state directory keeps the API state for the next start. */
  async stop(): Promise<void> {
    for (const node of [...this.agents.keys()]) await this.stopAgent(node);
    await this.#controller?.stop();
    this.#controller = undefined;
    for (const k of this.#kube.splice(0).reverse()) await k.stop();
    await this.#kubeInformers?.stop();
    await this.#api?.close();
    this.#api = undefined;
    await this.#executor.close();
    await this.store.close();
    this.#lock?.release();
    this.#lock = undefined;
  }

  /** A Node's datapath: created on the agent's first start, the same one after an agent restart (as OVS outlives it). */
  async #nodeDatapath(cfg: NodeConfig): Promise<NodeDatapath> {
    const executor = this.#executor;
    const existing = executor.nodeList().find((n) => n.nodeName === cfg.nodeName);
    const node = existing ?? (await executor.addNode(cfg));
    if (existing) await node.setNodeConfig(cfg);
    return {
      datapath: node,
      pods: async () => [...node.compiler.podsByKey().values()],
      serviceKeys: async () => node.compiler.serviceKeys(),
      policyRuleIDs: async () => node.compiler.policyRuleIDs(),
      conntrack: () => executor.conntrack(cfg.nodeName),
      policyRuleStats: async () => {
        // The simulator counts by conjunction; OVS's own flow counters are read back (dump-flows) and matched to the
        // rules' metric flows by identity.
        if (hasRuleMetrics(node)) return ruleStatsFromConjMetrics(node.ruleMetrics(), (id) => node.compiler.ruleIDOf(id));
        if (hasOvsFlowDump(node)) {
          const byIdentity = new Map((await node.dumpOvsFlows()).map((f) => [f.identity, f]));
          return ruleStatsFromFlowCounters(node.compiler.policyRuleIDs(), (id) => node.compiler.flowsOf(`policyRule/${id}`), byIdentity);
        }
        return new Map();
      },
      // Traceflow's packet-out and packet-ins: modelled by the simulator; on OVS, ofproto/trace through the bridges.
      ...(executor instanceof SimCluster
        ? { traceflow: simTraceflowDatapath(executor, cfg.nodeName) }
        : isOvsTracer(executor) ? { traceflow: ovsTraceflowDatapath(executor, cfg.nodeName, this.logger.child({ node: cfg.nodeName, module: 'traceflow' })) } : {}),
    };
  }

  async #bootstrap(nodes: Node[]): Promise<void> {
    const client = this.client();
    await upsert(client, gvr.configmaps, CONFIGMAP_NAMESPACE, this.config.configMap);
    for (const node of nodes) {
      const existing = await client.resource<Node>(gvr.nodes).tryGet(node.metadata.name as string);
      if (!existing) await client.resource<Node>(gvr.nodes).create(node);
    }
  }

  #startKube(): void {
    const client = this.client();
    const informers = new SharedInformerFactory(client, { logger: this.logger });
    this.#kubeInformers = informers;
    const log = this.logger.child({ component: 'local-kube' });
    this.#kube.push(startScheduler(client, informers, log), startKubelets(client, informers, log), startEndpointsController(client, informers, log));
  }

  async #startController(): Promise<Controller> {
    const { controller } = this.config;
    const client = this.client();
    const cmName = this.config.configMap.metadata.name as string;
    const agentGate = async (): Promise<FeatureGate> => {
      const cm = await client.resource<ConfigMap>(gvr.configmaps).inNamespace(CONFIGMAP_NAMESPACE).get(cmName);
      const loaded = loadConf(cm.data?.['antrea-agent.conf'] ?? '', 'agent');
      if (!loaded.resolved) throw new AntreaError('ERR_INVALID_CONFIG', `the ${cmName} ConfigMap's antrea-agent.conf does not load: ${loaded.problems.map((p) => p.message).join('; ')}`);
      return loaded.resolved.gates;
    };
    return startController({
      client,
      gate: controller.gates.copy(),
      config: controller.config,
      logger: this.logger,
      modules: this.opts.controllerModules ?? defaultControllerModules,
      agentGate,
      apiPort: 0,
    });
  }
}

function hasRuleMetrics(n: object): n is { ruleMetrics(): Map<number, RuleCounters> } {
  return typeof (n as { ruleMetrics?: unknown }).ruleMetrics === 'function';
}

function hasOvsFlowDump(n: object): n is { dumpOvsFlows(): Promise<{ identity: string; packets: number; bytes: number }[]> } {
  return typeof (n as { dumpOvsFlows?: unknown }).dumpOvsFlows === 'function';
}

async function upsert<T extends KubeObject>(client: ApiClient, resource: typeof gvr.configmaps, namespace: string, obj: T): Promise<void> {
  const r = client.resource<T>(resource).inNamespace(namespace);
  try {
    await r.create(obj);
  } catch (err) {
    if (!isApiError(err, 'AlreadyExists')) throw err;
    await r.retryUpdate(obj.metadata.name as string, (cur) => ({ ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata.resourceVersion } }));
  }
}
