/** The local Kubernetes-style API machinery: registry, store, HTTP server. See docs/apiserver.md. */
export { createStore, type Store, type StoreOptions, type StoreStats, qualifiedResource } from './store.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './http.js';
export {
  Registry,
  defineResource,
  defaultResources,
  col,
  ageColumn,
  pick,
  gvr,
  grKey,
  apiVersionOf,
  type ResourceDef,
  type ResourceSpec,
  type ColumnDef,
  type FieldGetter,
  type Verb,
} from './registry.js';
export { serviceAllocator, type ServiceAllocatorOptions } from './allocators.js';
export { StoreCorruptError } from './persist.js';
export { parseFieldSelector, type FieldSelector } from './fields.js';
export { mergePatch, jsonPatch, strategicMergePatch } from './patch.js';
export { humanDuration, toTable, type Table } from './table.js';
export * from './types.js';
