/**
 * Antrea's conf files: typed schemas with Antrea 1.5's defaults, validation that collects every problem, loading
 * from a conf file or from the Antrea ConfigMap of a manifest, and comment-preserving feature-gate edits.
 *
 * Problem codes (stable; each problem also names its file, component, key and gate where they apply):
 * - reading: ERR_FILE_UNREADABLE, ERR_MALFORMED_YAML, ERR_NO_ANTREA_CONFIGMAP, ERR_MULTIPLE_CONFIGMAPS,
 *   WARN_CONFIGMAP_NAMESPACE, ERR_CONF_MISSING, ERR_CONF_NOT_STRING, ERR_CONF_NOT_MAPPING
 * - keys: ERR_UNKNOWN_KEY, ERR_INVALID_TYPE, ERR_INVALID_VALUE, WARN_KEY_NOT_USED, WARN_DEPRECATED_KEY,
 *   WARN_VALUE_ADJUSTED, WARN_SETTING_NO_EFFECT, WARN_ANTREA_TS_KEY
 * - gates (from the engine): ERR_UNKNOWN_GATE, ERR_LOCKED_GATE, ERR_INVALID_GATE_VALUE, ERR_GATE_NOT_IMPLEMENTED,
 *   WARN_DEPRECATED_GATE, WARN_GA_GATE
 * - requirements: ERR_/WARN_GATE_REQUIRED, ERR_UNSUPPORTED_OS, ERR_REQUIRED_ON_WINDOWS, ERR_UNSUPPORTED_ON_WINDOWS,
 *   ERR_/WARN_UNSUPPORTED_TRAFFIC_MODE, ERR_/WARN_REQUIRES_NO_SNAT, ERR_/WARN_UNSUPPORTED_DATAPATH,
 *   ERR_/WARN_UNSUPPORTED_IP_FAMILY, WARN_PARTIAL_IP_FAMILY, ERR_/WARN_KERNEL_TOO_OLD, WARN_SETTING_REQUIRED
 *   (ERR_ when the conf turns the feature on explicitly, WARN_ when it is merely on by default)
 * - across the confs: ERR_GATE_INCONSISTENT (WARN_GATE_INCONSISTENT from set), WARN_GATE_NO_EFFECT
 * - editing: ERR_EDIT_FAILED
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
