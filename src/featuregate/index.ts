/**
 * A generic feature-gate engine with Kubernetes semantics (k8s.io/component-base/featuregate): known features with a
 * stage and a default, Alpha off and Beta on by default, GA and locked features pinned to their default, `Name=bool`
 * maps and `--feature-gates=A=true,B=false` strings, the AllAlpha/AllBeta meta-gates. It knows nothing of Antrea.
 *
 * Unlike component-base, setting collects every problem before it reports (so a user fixes a file in one pass), and
 * it stays all-or-nothing: when any error is found, no value is applied.
 */
import { AntreaError, type Problem } from '../util/errors.js';

export type Stage = 'Alpha' | 'Beta' | 'GA' | 'Deprecated';

export const STAGES: readonly Stage[] = ['Alpha', 'Beta', 'GA', 'Deprecated'];

export interface FeatureSpec {
  default: boolean;
  stage: Stage;
  /** A locked feature cannot be set to anything but its default. */
  lockToDefault?: boolean;
  /**
   * Set when this build cannot provide the feature, with the reason shown to users: the feature is off whatever
   * its default, turning it on is an ERR_GATE_NOT_IMPLEMENTED error, and turning it off is accepted.
   */
  unavailable?: string;
}

/** The Kubernetes meta-gates: setting one sets every not-explicitly-set feature of that stage. */
export const ALL_ALPHA = 'AllAlpha';
export const ALL_BETA = 'AllBeta';
const metaGates: Record<string, Stage> = { [ALL_ALPHA]: 'Alpha', [ALL_BETA]: 'Beta' };

export interface FeatureGateOptions {
  /** Names this gate knows of but cannot honour, with the reason; setting one is an ERR_GATE_NOT_IMPLEMENTED error. */
  notImplemented?: Readonly<Record<string, string>>;
  /** Offered in "unknown gate" errors: the closest known names. Default true. */
  suggest?: boolean;
}

export interface GateState {
  name: string;
  enabled: boolean;
  spec: Readonly<FeatureSpec>;
  /** True when the value comes from configuration rather than the default. */
  explicit: boolean;
}

/** Go's strconv.ParseBool, which Kubernetes uses for `--feature-gates` values. */
export function parseBool(text: string): boolean | undefined {
  switch (text) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      return undefined;
  }
}

/**
 * Parses `A=true,B=false` the way component-base does: empty items skipped, keys and values trimmed. Returns the
 * values and the problems (a missing `=`, a value that is not a boolean), each naming the gate.
 */
export function parseGateString(text: string): { values: Record<string, boolean>; problems: Problem[] } {
  const values: Record<string, boolean> = {};
  const problems: Problem[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq === -1) {
      problems.push({ severity: 'error', code: 'ERR_INVALID_GATE_VALUE', gate: item, message: `missing bool value for ${item}` });
      continue;
    }
    const name = item.slice(0, eq).trim();
    const valueText = item.slice(eq + 1).trim();
    if (name === '') {
      problems.push({ severity: 'error', code: 'ERR_INVALID_GATE_VALUE', message: `missing gate name before "=${valueText}"` });
      continue;
    }
    const value = parseBool(valueText);
    if (value === undefined) {
      problems.push({
        severity: 'error',
        code: 'ERR_INVALID_GATE_VALUE',
        gate: name,
        message: `invalid value of ${name}=${valueText}: must be true or false`,
      });
      continue;
    }
    values[name] = value;
  }
  return { values, problems };
}

export class FeatureGate {
  readonly #known: ReadonlyMap<string, Readonly<FeatureSpec>>;
  readonly #notImplemented: Readonly<Record<string, string>>;
  readonly #suggest: boolean;
  #explicit = new Map<string, boolean>();

  constructor(specs: Readonly<Record<string, FeatureSpec>> | ReadonlyMap<string, FeatureSpec>, opts: FeatureGateOptions = {}) {
    const entries = specs instanceof Map ? [...specs.entries()] : Object.entries(specs as Record<string, FeatureSpec>);
    const known = new Map<string, Readonly<FeatureSpec>>();
    for (const [name, spec] of entries) {
      if (name in metaGates) {
        throw new AntreaError('ERR_RESERVED_GATE', `feature gate ${name} is reserved by the feature-gate engine`, { gate: name });
      }
      if (spec.lockToDefault === undefined) known.set(name, Object.freeze({ ...spec, lockToDefault: false }));
      else known.set(name, Object.freeze({ ...spec }));
    }
    this.#known = known;
    this.#notImplemented = opts.notImplemented ?? {};
    this.#suggest = opts.suggest ?? true;
  }

  /** Whether a feature is on. Asking about a feature that was never registered is a programming error. */
  enabled(name: string): boolean {
    const spec = this.#known.get(name);
    if (!spec) {
      throw new AntreaError('ERR_UNREGISTERED_GATE', `feature ${JSON.stringify(name)} is not registered in this feature gate`, { gate: name });
    }
    if (spec.unavailable !== undefined) return false;
    return this.#explicit.get(name) ?? spec.default;
  }

  isKnown(name: string): boolean {
    return this.#known.has(name);
  }

  spec(name: string): Readonly<FeatureSpec> | undefined {
    return this.#known.get(name);
  }

  names(): string[] {
    return [...this.#known.keys()].sort();
  }

  /** The values set explicitly (not the defaults), sorted by name. */
  explicit(): Record<string, boolean> {
    return Object.fromEntries([...this.#explicit.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  states(): GateState[] {
    return this.names().map((name) => ({
      name,
      enabled: this.enabled(name),
      spec: this.#known.get(name) as Readonly<FeatureSpec>,
      explicit: this.#explicit.has(name),
    }));
  }

  /**
   * Applies a `featureGates:` map. Values must be booleans (a YAML `yes` or `"true"` is an error, as in Antrea's
   * strict parsing). Returns every problem found; if any is an error, nothing is applied.
   */
  setFromMap(values: Readonly<Record<string, unknown>>): Problem[] {
    const problems: Problem[] = [];
    const next = new Map(this.#explicit);
    const metaSettings: Array<[Stage, boolean]> = [];
    for (const [name, value] of Object.entries(values)) {
      if (typeof value !== 'boolean') {
        problems.push({
          severity: 'error',
          code: 'ERR_INVALID_GATE_VALUE',
          gate: name,
          message: `feature gate ${name} must be true or false, not ${describeValue(value)}`,
        });
        continue;
      }
      const metaStage = metaGates[name];
      if (metaStage) {
        metaSettings.push([metaStage, value]);
        continue;
      }
      const reason = this.#notImplemented[name];
      if (reason !== undefined && !this.#known.has(name)) {
        problems.push({ severity: 'error', code: 'ERR_GATE_NOT_IMPLEMENTED', gate: name, message: reason });
        continue;
      }
      const spec = this.#known.get(name);
      if (!spec) {
        problems.push({ severity: 'error', code: 'ERR_UNKNOWN_GATE', gate: name, message: this.#unknownMessage(name) });
        continue;
      }
      if (spec.unavailable !== undefined) {
        if (value) problems.push({ severity: 'error', code: 'ERR_GATE_NOT_IMPLEMENTED', gate: name, message: spec.unavailable });
        continue;
      }
      if (spec.lockToDefault && value !== spec.default) {
        problems.push({
          severity: 'error',
          code: 'ERR_LOCKED_GATE',
          gate: name,
          message: `cannot set feature gate ${name} to ${value}, feature is locked to ${spec.default}`,
        });
        continue;
      }
      if (spec.stage === 'Deprecated') {
        problems.push({
          severity: 'warning',
          code: 'WARN_DEPRECATED_GATE',
          gate: name,
          message: `setting deprecated feature gate ${name}=${value}; it will be removed in a future release`,
        });
      } else if (spec.stage === 'GA') {
        problems.push({
          severity: 'warning',
          code: 'WARN_GA_GATE',
          gate: name,
          message: `setting GA feature gate ${name}=${value}; it will be removed in a future release`,
        });
      }
      next.set(name, value);
    }
    // Explicit names win over AllAlpha/AllBeta whatever their order in the map: only unset features follow them.
    for (const [stage, value] of metaSettings) {
      for (const [name, spec] of this.#known) {
        if (spec.stage === stage && !(name in values) && !spec.lockToDefault && spec.unavailable === undefined) next.set(name, value);
      }
    }
    if (problems.some((p) => p.severity === 'error')) return problems;
    this.#explicit = next;
    return problems;
  }

  /** Applies a `--feature-gates=A=true,B=false` string; same rules as setFromMap. */
  setFromString(text: string): Problem[] {
    const { values, problems } = parseGateString(text);
    if (problems.length > 0) return problems;
    return this.setFromMap(values);
  }

  /** An independent copy (same known features, same explicit values). */
  copy(): FeatureGate {
    const copy = new FeatureGate(new Map(this.#known), { notImplemented: this.#notImplemented, suggest: this.#suggest });
    copy.#explicit = new Map(this.#explicit);
    return copy;
  }

  /** `Name=true|false (STAGE - default=bool)` lines for help text, GA and Deprecated hidden as in Kubernetes. */
  knownFeatures(): string[] {
    const lines = Object.entries(metaGates).map(([name, stage]) => `${name}=true|false (${stage.toUpperCase()} - default=false)`);
    for (const [name, spec] of this.#known) {
      if (spec.stage === 'GA' || spec.stage === 'Deprecated') continue;
      lines.push(`${name}=true|false (${spec.stage.toUpperCase()} - default=${spec.default})`);
    }
    return lines.sort();
  }

  #unknownMessage(name: string): string {
    const base = `unrecognized feature gate: ${name}`;
    if (!this.#suggest) return base;
    const closest = closestName(name, [...this.#known.keys()]);
    return closest ? `${base} (did you mean ${closest}?)` : base;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** The known name closest to a typo (case-insensitive equality, or edit distance of at most a third of its length). */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.toLowerCase() === lower) return candidate;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
