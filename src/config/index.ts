/**
 * Antrea's conf files: typed schemas with Antrea 1.5's defaults, validation that collects every problem, loading
 * from a conf file or from the Antrea ConfigMap of a manifest, and comment-preserving feature-gate edits.
 */
export {
  checkManifest,
  inferIpFamilies,
  loadAgentConfig,
  loadConf,
  loadConfFile,
  loadControllerConfig,
  loadManifest,
  loadManifestFile,
  readText,
  type LoadedConf,
  type LoadedManifest,
  type LoadOptions,
} from './load.js';
export { setFeatureGates, gatesByComponent, type GateChanges, type SetOptions, type SetResult } from './edit.js';
export { editConfGates, type ConfEdit, type LineSplice } from './edit-conf.js';
export { effectiveGates, type EffectiveGate, type EffectiveGates } from './effective.js';
export { findAntreaConfigMap, CONFIGMAP_NAME, CONFIGMAP_NAMESPACE, type AntreaConfigMap, type ConfSource } from './manifest.js';
export { type CheckOptions, type Resolved, type ResolvedAgent, type ResolvedController } from './resolve.js';
export { formatConfigProblem, type ConfigProblem } from './problems.js';
export { AGENT_SCHEMA, CONTROLLER_SCHEMA, CONF_FILE, keyPaths, type ComponentName, type KeySpec, type Schema } from './schema.js';
export type { AgentConfig, AgentDerived, ControllerConfig, EncryptionMode, TunnelType } from './types.js';
export { DEFAULT_NPL_PORT_RANGE, DEFAULT_SERVICE_CIDR, FLOW_EXPORTER_DEFAULTS } from './defaults.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseFlowCollectorAddr, type FlowCollector } from './flowexport.js';
export { parsePortRange } from './portrange.js';
