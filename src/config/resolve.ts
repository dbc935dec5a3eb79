/**
 * One conf from parsed YAML to an effective configuration, the way Antrea's `complete()` and `validate()` do it:
 * strict decoding, feature gates (set before the agent's defaults, since those depend on them), defaults,
 * validation; plus the notices about deprecated and unused keys. Problems are collected and placed (file, key, line).
 */
import type { FeatureGate } from '../featuregate/index.js';
import { featuresAt, IMPLEMENTED_RELEASE, newFeatureGate, type IpFamily, type Os } from '../features/index.js';
import type { ParsedConf } from './conf.js';
import { decode } from './decode.js';
import { agentDefaults, controllerDefaults } from './defaults.js';
import { place, type ConfigProblem, type Issue, type Location } from './problems.js';
import { checkRequirements } from './requirements.js';
import { schemaOf, type ComponentName } from './schema.js';
import type { AgentConfig, AgentDerived, ControllerConfig } from './types.js';
import { keyNotices } from './unused.js';
import { validateAgent } from './validate-agent.js';
import { validateController } from './validate-controller.js';

export interface CheckOptions {
  /** The Antrea release whose feature catalog applies; default the one antrea-ts implements (v1.5.0). */
  release?: string;
  /** The Nodes' OS, for the agent conf: Linux-only features and Windows-unsupported settings. */
  os?: Os;
  /** The Nodes' Linux kernel, `X.Y`. */
  kernel?: string;
  /** The cluster's IP families; inferred from the confs when absent (and unknown when they say nothing). */
  ipFamilies?: IpFamily[];
}

interface ResolvedBase {
  /** Effective gates (all-or-nothing as Antrea: when featureGates has an error, the valid entries are kept here so
   * that the other checks still make sense). */
  gates: FeatureGate;
  /** The featureGates entries of the conf that are booleans. */
  explicitGates: Record<string, boolean>;
  problems: ConfigProblem[];
  loc: Location;
}

export interface ResolvedAgent extends ResolvedBase {
  component: 'agent';
  config: AgentConfig;
  derived: AgentDerived;
}

export interface ResolvedController extends ResolvedBase {
  component: 'controller';
  config: ControllerConfig;
}

export type Resolved = ResolvedAgent | ResolvedController;

function gateIssues(values: Readonly<Record<string, unknown>>, release: string): { gates: FeatureGate; issues: Issue[] } {
  const gates = newFeatureGate({ release });
  const problems = gates.setFromMap(values);
  const issues: Issue[] = problems.map((p) => ({
    severity: p.severity,
    code: p.code,
    message: p.message,
    ...(p.gate !== undefined ? { key: `featureGates.${p.gate}`, gate: p.gate } : { key: 'featureGates' }),
  }));
  if (problems.some((p) => p.severity === 'error')) {
    const bad = new Set(problems.filter((p) => p.severity === 'error').map((p) => p.gate));
    const good = Object.fromEntries(Object.entries(values).filter(([k]) => !bad.has(k)));
    const fallback = newFeatureGate({ release });
    fallback.setFromMap(good);
    return { gates: fallback, issues };
  }
  return { gates, issues };
}

export function resolveConf(parsed: ParsedConf, component: ComponentName, loc: Location, opts: CheckOptions = {}): Resolved | undefined {
  if (!parsed.raw) return undefined;
  const release = opts.release ?? IMPLEMENTED_RELEASE;
  const where: Location = { ...loc, component, lineOf: (k) => parsed.keyLines.get(k) };
  const issues: Issue[] = [];
  const decoded = decode(parsed.raw, schemaOf(component));
  issues.push(...decoded.issues);
  const gateValues = (decoded.values.featureGates ?? {}) as Record<string, unknown>;
  const { gates, issues: gi } = gateIssues(gateValues, release);
  issues.push(...gi);
  const explicitGates = Object.fromEntries(Object.entries(gateValues).filter((e): e is [string, boolean] => typeof e[1] === 'boolean'));
  issues.push(...keyNotices(decoded.values, schemaOf(component)));
  if (component === 'agent') {
    const config = agentDefaults(decoded.values, gates);
    config.featureGates = explicitGates;
    const { derived, issues: vi } = validateAgent(config, gates, opts.os ? { os: opts.os } : {});
    issues.push(...vi);
    return { component, config, derived, gates, explicitGates, problems: issues.map((i) => place(i, where)), loc: where };
  }
  const config = controllerDefaults(decoded.values);
  config.featureGates = explicitGates;
  issues.push(...validateController(config, gates));
  return { component, config, gates, explicitGates, problems: issues.map((i) => place(i, where)), loc: where };
}

/** The catalog's requirement checks for a resolved conf (run once the cluster's IP families are known). */
export function requirementProblems(r: Resolved, opts: CheckOptions = {}): ConfigProblem[] {
  const issues = checkRequirements({
    component: r.component,
    features: featuresAt(opts.release ?? IMPLEMENTED_RELEASE),
    gates: r.gates,
    explicit: r.explicitGates,
    config: r.config,
    ...(r.component === 'agent' ? { derived: r.derived } : {}),
    ...(opts.os !== undefined ? { os: opts.os } : {}),
    ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
    ...(opts.ipFamilies !== undefined ? { ipFamilies: opts.ipFamilies } : {}),
  });
  return issues.map((i) => place(i, r.loc));
}
