/**
 * Feature requirements, driven by the catalog's `requirements` data: another gate, the OS, the traffic mode, noSNAT,
 * the OVS datapath, the IP family, the kernel, and conf settings a gate needs. A requirement is checked only for an
 * enabled feature of the component whose conf is checked. Severity: a feature the conf turns on explicitly that
 * cannot work is an error; one that is merely on by default is a warning (Antrea itself only checks explicit
 * entries, e.g. for Windows).
 */
import type { FeatureGate } from '../featuregate/index.js';
import type { FeatureAtRelease, IpFamily, Os, Requirement } from '../features/index.js';
import { error, warning, type Issue } from './problems.js';
import type { ComponentName } from './schema.js';
import type { AgentConfig, AgentDerived, ControllerConfig } from './types.js';

export interface RequirementContext {
  component: ComponentName;
  features: readonly FeatureAtRelease[];
  gates: FeatureGate;
  /** The gates the conf sets explicitly. */
  explicit: Readonly<Record<string, boolean>>;
  /** The component's effective conf (agent or controller). */
  config: AgentConfig | ControllerConfig;
  derived?: AgentDerived;
  os?: Os;
  /** `X.Y` of the Nodes' Linux kernel. */
  kernel?: string;
  /** The cluster's IP families, when known. */
  ipFamilies?: readonly IpFamily[];
}

const AGENT_ONLY_KINDS: ReadonlySet<Requirement['kind']> = new Set(['os', 'requiredOnWindows', 'trafficMode', 'noSNAT', 'ovsDatapath', 'kernel']);

export function parseKernel(text: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

function older(a: { major: number; minor: number }, b: { major: number; minor: number }): boolean {
  return a.major < b.major || (a.major === b.major && a.minor < b.minor);
}

/** Reads a dotted key of a conf object. */
export function valueAt(config: object, key: string): unknown {
  let v: unknown = config;
  for (const part of key.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const FAMILY_LABEL: Readonly<Record<IpFamily, string>> = { ipv4: 'IPv4', ipv6: 'IPv6' };

export function checkRequirements(ctx: RequirementContext): Issue[] {
  const issues: Issue[] = [];
  const byName = new Map(ctx.features.map((f) => [f.name, f]));
  const belongs = (name: string) => byName.get(name)?.components.includes(ctx.component) ?? false;
  const on = (name: string) => ctx.gates.isKnown(name) && ctx.gates.enabled(name);
  for (const f of ctx.features) {
    if (!f.components.includes(ctx.component)) continue;
    const key = `featureGates.${f.name}`;
    const explicit = ctx.explicit[f.name] === true;
    // An explicit `true` that cannot work is an error; a default-on feature that cannot work is a warning.
    const fail = (code: string, message: string) =>
      issues.push(explicit ? error(`ERR_${code}`, message, { key, gate: f.name }) : warning(`WARN_${code}`, `${message} (it is on by default; set it to false)`, { key, gate: f.name }));
    // A default-on feature whose conf settings keep it from running (NodePortLocal without nodePortLocal.enable)
    // cannot fail; only the Windows rule still applies.
    const dormant =
      !explicit &&
      f.requirements.some((r) => r.kind === 'setting' && r.component === ctx.component && valueAt(ctx.config, r.key) !== r.equals);
    for (const req of f.requirements) {
      if (ctx.component !== 'agent' && AGENT_ONLY_KINDS.has(req.kind)) continue;
      // The IP family is the cluster's: a feature of both components is reported once, by the agent's conf.
      if (req.kind === 'ipFamily' && ctx.component === 'controller' && f.components.includes('agent')) continue;
      if (dormant && req.kind !== 'requiredOnWindows') continue;
      if (req.kind === 'requiredOnWindows') {
        if (ctx.os === 'windows' && !on(f.name)) {
          issues.push(error('ERR_REQUIRED_ON_WINDOWS', req.message, { key, gate: f.name }));
        }
        continue;
      }
      if (!on(f.name)) continue;
      const agent = ctx.config as AgentConfig;
      switch (req.kind) {
        case 'gate':
          if (belongs(req.gate) && ctx.gates.isKnown(req.gate) && !on(req.gate)) {
            issues.push(
              req.severity === 'error'
                ? error('ERR_GATE_REQUIRED', req.message, { key, gate: f.name })
                : warning('WARN_GATE_REQUIRED', req.message, { key, gate: f.name }),
            );
          }
          break;
        case 'os':
          // Like Antrea's checkUnsupportedFeatures: only features the conf turns on count.
          if (ctx.os !== undefined && !req.os.includes(ctx.os) && explicit) {
            issues.push(error('ERR_UNSUPPORTED_OS', `${f.name} is not supported on ${osLabel(ctx.os)} (supported: ${req.os.map(osLabel).join(', ')})`, { key, gate: f.name }));
          }
          break;
        case 'trafficMode': {
          const mode = ctx.derived?.trafficMode;
          if (mode !== undefined && !req.modes.includes(mode)) {
            fail('UNSUPPORTED_TRAFFIC_MODE', `${f.name} requires '${req.modes.join("' or '")}' TrafficEncapMode, current: ${agent.trafficEncapMode}`);
          }
          break;
        }
        case 'noSNAT':
          if (!agent.noSNAT) fail('REQUIRES_NO_SNAT', `${f.name} requires noSNAT`);
          break;
        case 'ovsDatapath':
          if (!(req.types as readonly string[]).includes(agent.ovsDatapathType)) {
            fail('UNSUPPORTED_DATAPATH', `${f.name} requires '${req.types.join("' or '")}' OVSDatapathType, current: ${agent.ovsDatapathType}`);
          }
          break;
        case 'ipFamily': {
          const families = ctx.ipFamilies;
          if (!families || families.length === 0) break;
          const supported = families.filter((fam) => req.families.includes(fam));
          const list = req.families.map((x) => FAMILY_LABEL[x]).join(' and ');
          if (supported.length === 0) {
            fail('UNSUPPORTED_IP_FAMILY', `${f.name} supports ${list} only; the cluster is ${families.map((x) => FAMILY_LABEL[x]).join('/')}`);
          } else if (supported.length < families.length) {
            issues.push(warning('WARN_PARTIAL_IP_FAMILY', `${f.name} supports ${list} only; in this dual-stack cluster it works for ${list} traffic only`, { key, gate: f.name }));
          }
          break;
        }
        case 'kernel': {
          const have = ctx.kernel === undefined ? undefined : parseKernel(ctx.kernel);
          const need = parseKernel(req.min);
          if (ctx.os === 'windows' || !have || !need || !older(have, need)) break;
          fail('KERNEL_TOO_OLD', `${f.name} needs Linux kernel ${req.min} or newer${req.note ? ` (${req.note})` : ''}; the Nodes run ${ctx.kernel}`);
          break;
        }
        case 'setting':
          if (req.component === ctx.component && explicit && valueAt(ctx.config, req.key) !== req.equals) {
            issues.push(warning('WARN_SETTING_REQUIRED', `${req.message} (${req.key} is ${JSON.stringify(valueAt(ctx.config, req.key))})`, { key, gate: f.name }));
          }
          break;
      }
    }
  }
  return issues;
}

function osLabel(os: Os): string {
  return os === 'windows' ? 'Windows' : 'Linux';
}
