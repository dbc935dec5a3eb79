/** The effective gates per component, as `antctl get featuregates --manifest` shows them. */
import type { FeatureGate, Stage } from '../featuregate/index.js';
import { featuresAt, IMPLEMENTED_RELEASE, newFeatureGate } from '../features/index.js';
import type { LoadedManifest } from './load.js';
import type { ComponentName } from './schema.js';

export interface EffectiveGate {
  name: string;
  enabled: boolean;
  /** Set in the conf (rather than the default). */
  explicit: boolean;
  default: boolean;
  stage: Stage;
}

export type EffectiveGates = Record<ComponentName, EffectiveGate[]>;

/**
 * The features of each component (by the catalog of the release) with their value: from the conf when it was loaded,
 * else the defaults. The confs' featureGates are applied as Antrea does (all-or-nothing), keeping the valid
 * entries when some are wrong.
 */
export function effectiveGates(loaded: Pick<LoadedManifest, 'agent' | 'controller'>, release: string = IMPLEMENTED_RELEASE): EffectiveGates {
  const features = featuresAt(release);
  const rows = (component: ComponentName, gates: FeatureGate | undefined, explicit: Readonly<Record<string, boolean>>) => {
    const g = gates ?? newFeatureGate({ release });
    return features
      .filter((f) => f.components.includes(component))
      .map((f) => ({ name: f.name, enabled: g.enabled(f.name), explicit: f.name in explicit, default: f.default, stage: f.stage }));
  };
  return {
    agent: rows('agent', loaded.agent?.gates, loaded.agent?.explicitGates ?? {}),
    controller: rows('controller', loaded.controller?.gates, loaded.controller?.explicitGates ?? {}),
  };
}
