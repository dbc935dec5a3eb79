/**
 * What the controller and agent processes share: starting the modules whose gates are on with a context of the
 * process's making, collecting the routes and readiness checks they register, and serving them with `/featuregates`,
 * `/modules`, `/healthz`, `/livez` and `/readyz` on loopback.
 */
import type { FeatureGate } from '../featuregate/index.js';
import type { FeatureGateStatus } from '../features/index.js';
import { startModules, type ModuleDefinition, type ModuleReport, type RunningModules } from '../features/modules.js';
import { SharedInformerFactory } from '../client/factory.js';
import type { ApiClient } from '../client/types.js';
import { startComponentServer, type Route } from '../util/component-server.js';
import type { Logger } from '../util/log.js';

/** The part of a module context every process gives. */
export interface BaseContext {
  client: ApiClient;
  informers: SharedInformerFactory;
  logger: Logger;
  /** The port the process's own API listens on (for AntreaControllerInfo / AntreaAgentInfo). */
  apiPort: number;
  /** The state of another gate, asked once at construction: a module's own gate is decided by the registry. */
  gateEnabled(name: string): boolean;
  /** Exposes a module's state on the process's API (e.g. `/podnetwork`), for antctl and tests. */
  expose(path: string, route: () => unknown): void;
  /** The process is ready only once every registered check passes. */
  addReadinessCheck(name: string, check: () => boolean): void;
}

export interface ComponentOptions<Ctx extends BaseContext> {
  name: 'agent' | 'controller';
  client: ApiClient;
  gate: FeatureGate;
  logger: Logger;
  modules: readonly ModuleDefinition<Ctx>[];
  /** Adds the process's own fields to the base context. */
  context: (base: BaseContext) => Ctx;
  featureGates: () => FeatureGateStatus[] | Promise<FeatureGateStatus[]>;
  apiPort: number;
}

export interface Component {
  url: string;
  modules(): ModuleReport[];
  ready(): boolean;
  stop(): Promise<void>;
}

export async function startComponent<Ctx extends BaseContext>(opts: ComponentOptions<Ctx>): Promise<Component> {
  const { logger } = opts;
  const informers = new SharedInformerFactory(opts.client, { logger });
  const readiness = new Map<string, () => boolean>();
  let running: RunningModules | undefined;
  // Routes are looked up per request: modules add theirs while they start, after the server listens (a module may
  // need to publish the server's port, as the controller does in its AntreaControllerInfo).
  const routes: Record<string, Route> = {
    '/featuregates': opts.featureGates,
    '/modules': () => running?.reports() ?? [],
  };
  const ready = () => running !== undefined && [...readiness.values()].every((check) => check());
  const server = await startComponentServer({
    routes,
    checks: { '/healthz': () => true, '/livez': () => true, '/readyz': ready },
    port: opts.apiPort,
    logger,
  });
  const ctx = opts.context({
    client: opts.client,
    informers,
    logger,
    apiPort: server.port,
    gateEnabled: (name) => opts.gate.enabled(name),
    expose: (path, route) => void (routes[path] = route),
    addReadinessCheck: (name, check) => void readiness.set(name, check),
  });
  try {
    running = await startModules(opts.modules, opts.gate, ctx, logger);
  } catch (err) {
    await server.close();
    await informers.stop();
    throw err;
  }
  const modules = running;
  const runningNames = modules.reports().filter((r) => r.state === 'Running').map((r) => r.name);
  logger.info(`${opts.name} started`, { api: server.url, modules: runningNames });
  return {
    url: server.url,
    modules: () => modules.reports(),
    ready,
    async stop() {
      await server.close();
      await modules.stop();
      await informers.stop();
      logger.info(`${opts.name} stopped`);
    },
  };
}
