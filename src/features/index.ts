/**
 * The catalog as of a release: which features exist, at which stage and default, and a FeatureGate holding them.
 * antrea-ts implements Antrea v1.5.0's gates; `--release` answers for other releases from the same history.
 */
import { FeatureGate, type FeatureSpec, type Stage } from '../featuregate/index.js';
import { AntreaError } from '../util/errors.js';
import { FEATURES, NOT_IMPLEMENTED, type Component, type FeatureDefinition, type Requirement } from './catalog.js';
import { compareReleases, formatRelease, parseRelease, type Release } from './release.js';

export * from './catalog.js';
export { parseRelease, compareReleases, formatRelease, type Release } from './release.js';

/** The Antrea release whose feature gates antrea-ts implements. */
export const IMPLEMENTED_RELEASE = 'v1.5.0';

export interface FeatureAtRelease {
  name: string;
  /** False for a feature of Antrea's page that antrea-ts does not provide yet: it stays off. */
  implemented: boolean;
  components: Component[];
  default: boolean;
  stage: Stage;
  lockToDefault: boolean;
  /** The releases in which the feature reached each stage (at or before the release asked about), or null. */
  alpha: string | null;
  beta: string | null;
  ga: string | null;
  requirements: Requirement[];
  note: string;
  description: string;
}

function notAfter(change: string, release: Release): boolean {
  return compareReleases(parseRelease(change), release) <= 0;
}

/** Features treated as implemented although the catalog says not yet: only for tests of their (future) rules. */
const assumedImplemented = new Set<string>();

/**
 * Makes every feature count as implemented until the returned function is called. For unit tests of the checks
 * that belong to features antrea-ts does not provide yet (their rules are Antrea's and are kept ready).
 */
export function assumeAllImplementedForTests(): () => void {
  for (const def of FEATURES) if (!def.implemented) assumedImplemented.add(def.name);
  return () => assumedImplemented.clear();
}

function atRelease(def: FeatureDefinition, release: Release): FeatureAtRelease | undefined {
  const changes = def.history.filter((c) => notAfter(c.release, release));
  const current = changes.at(-1);
  if (!current) return undefined;
  const firstAt = (stage: Stage) => changes.find((c) => c.stage === stage)?.release ?? null;
  const components = [...changes].reverse().find((c) => c.components)?.components ?? def.components;
  return {
    name: def.name,
    implemented: def.implemented || assumedImplemented.has(def.name),
    components: [...components],
    default: current.default,
    stage: current.stage,
    lockToDefault: current.lockToDefault ?? false,
    alpha: firstAt('Alpha'),
    beta: firstAt('Beta'),
    ga: firstAt('GA'),
    requirements: def.requirements,
    note: def.note,
    description: def.description,
  };
}

/** Every implemented feature known at a release (default: the implemented one), in catalog order. */
export function featuresAt(release: string = IMPLEMENTED_RELEASE): FeatureAtRelease[] {
  const r = parseRelease(release);
  return FEATURES.map((def) => atRelease(def, r)).filter((f): f is FeatureAtRelease => f !== undefined);
}

export function featureAt(name: string, release: string = IMPLEMENTED_RELEASE): FeatureAtRelease | undefined {
  return featuresAt(release).find((f) => f.name === name);
}

/** Antrea gates present at a release that antrea-ts does not implement, with the reason given to users. */
export function notImplementedAt(release: string = IMPLEMENTED_RELEASE): Record<string, string> {
  const r = parseRelease(release);
  const out: Record<string, string> = {};
  for (const g of NOT_IMPLEMENTED) {
    if (!notAfter(g.since, r) || (g.until !== undefined && notAfter(g.until, r))) continue;
    out[g.name] = `${g.name} is an Antrea feature gate (since ${g.since}) that antrea-ts does not implement; remove it from featureGates`;
  }
  return out;
}

export interface NewFeatureGateOptions {
  release?: string;
}

/**
 * A FeatureGate holding every implemented feature of the release. Each process fills its own from its conf file;
 * both know every feature, so the controller can ask about agent features (as Antrea's shared gate does).
 */
export function newFeatureGate(opts: NewFeatureGateOptions = {}): FeatureGate {
  const release = opts.release ?? IMPLEMENTED_RELEASE;
  const specs: Record<string, FeatureSpec> = {};
  for (const f of featuresAt(release)) {
    specs[f.name] = {
      default: f.default,
      stage: f.stage,
      lockToDefault: f.lockToDefault,
      ...(f.implemented ? {} : { unavailable: `${f.name} is not implemented by antrea-ts yet: it stays disabled, so it cannot be turned on` }),
    };
  }
  return new FeatureGate(specs, { notImplemented: notImplementedAt(release) });
}

/** The features that belong to a component at a release. */
export function componentFeatures(component: Component, release: string = IMPLEMENTED_RELEASE): FeatureAtRelease[] {
  return featuresAt(release).filter((f) => f.components.includes(component));
}

/** Throws a clear error for a release string that does not parse; returns it normalised (`v1.5.0`). */
export function normaliseRelease(text: string): string {
  return formatRelease(parseRelease(text));
}

/** The stage name as Antrea's `/featuregates` endpoint and `antctl get featuregates` print it. */
export function stageLabel(stage: Stage): string {
  return stage.toUpperCase();
}

export function assertKnownFeature(name: string, release: string = IMPLEMENTED_RELEASE): FeatureAtRelease {
  const f = featureAt(name, release);
  if (!f) throw new AntreaError('ERR_UNKNOWN_GATE', `unrecognized feature gate: ${name}`, { gate: name });
  return f;
}

/** One entry of the `/featuregates` endpoint, in Antrea's wire format. */
export interface FeatureGateStatus {
  component: Component;
  name: string;
  status: 'Enabled' | 'Disabled';
  version: string;
}

/**
 * A component's gates as its `/featuregates` endpoint reports them: only the features of that component (as Antrea
 * does since it split AgentGates and ControllerGates), sorted by name, version `ALPHA`, `BETA` or `GA`.
 */
export function featureGateStatuses(component: Component, gate: FeatureGate, release: string = IMPLEMENTED_RELEASE): FeatureGateStatus[] {
  return componentFeatures(component, release)
    .map((f) => ({
      component,
      name: f.name,
      status: gate.enabled(f.name) ? ('Enabled' as const) : ('Disabled' as const),
      version: stageLabel(f.stage),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
