/**
 * Feature modules: each gated feature of a process is one module that names its gate once. The registry constructs
 * the modules whose gates are on, in order, and reports the others as Disabled; nothing else in the code asks
 * "is gate X on?" to decide whether a feature exists.
 */
import type { FeatureGate } from '../featuregate/index.js';
import { describeError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface Stoppable {
  stop(): Promise<void> | void;
}

export interface ModuleDefinition<Ctx> {
  /** Stable name, shown in logs and status. */
  name: string;
  /** The feature gate that decides whether the module exists. Omitted: the module is core and always runs. */
  gate?: string;
  /** Extra gates that must all be on too (e.g. a module serving AntreaPolicy stats needs NetworkPolicyStats). */
  alsoRequires?: readonly string[];
  start(ctx: Ctx): Promise<Stoppable> | Stoppable;
}

export function defineModule<Ctx>(def: ModuleDefinition<Ctx>): ModuleDefinition<Ctx> {
  return def;
}

export type ModuleState = 'Running' | 'Disabled' | 'Failed' | 'Stopped';

export interface ModuleReport {
  name: string;
  gate?: string;
  state: ModuleState;
  error?: string;
}

export interface RunningModules {
  reports(): ModuleReport[];
  isRunning(name: string): boolean;
  /** Stops the running modules in reverse start order. */
  stop(): Promise<void>;
}

/**
 * Starts the modules whose gates are on. A module that fails to start stops those already started and rethrows:
 * a process with half its features is worse than one that refuses to start with a clear reason.
 */
export async function startModules<Ctx>(
  modules: readonly ModuleDefinition<Ctx>[],
  gate: FeatureGate,
  ctx: Ctx,
  logger: Logger,
): Promise<RunningModules> {
  const reports: ModuleReport[] = [];
  const running: Array<{ name: string; handle: Stoppable }> = [];
  const stopAll = async () => {
    for (const { name, handle } of running.splice(0).reverse()) {
      try {
        await handle.stop();
      } catch (err) {
        logger.error('module failed to stop', { module: name, error: describeError(err) });
      }
      const report = reports.find((r) => r.name === name);
      if (report) report.state = 'Stopped';
    }
  };
  for (const m of modules) {
    const gates = [...(m.gate ? [m.gate] : []), ...(m.alsoRequires ?? [])];
    const off = gates.filter((g) => !gate.enabled(g));
    const base = { name: m.name, ...(m.gate ? { gate: m.gate } : {}) };
    if (off.length > 0) {
      reports.push({ ...base, state: 'Disabled' });
      logger.debug('module disabled', { module: m.name, gatesOff: off });
      continue;
    }
    try {
      const handle = await m.start(ctx);
      running.push({ name: m.name, handle });
      reports.push({ ...base, state: 'Running' });
      logger.debug('module started', { module: m.name });
    } catch (err) {
      reports.push({ ...base, state: 'Failed', error: describeError(err) });
      logger.error('module failed to start', { module: m.name, error: describeError(err) });
      await stopAll();
      throw err;
    }
  }
  return {
    reports: () => reports.map((r) => ({ ...r })),
    isRunning: (name) => reports.some((r) => r.name === name && r.state === 'Running'),
    stop: stopAll,
  };
}
