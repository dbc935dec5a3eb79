/**
 * Table output (`application/json;as=Table;v=v1;g=meta.k8s.io`): kubectl prints the cells verbatim, so the server
 * renders them, AGE included, from the registry's columns.
 */
import type { KubeObject, ListMeta } from '../apis/meta.js';
import type { CellValue, ResourceDef } from './registry.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: CellValue[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Kubernetes' HumanDuration: `45s`, `3m20s`, `25m`, `5h3m`, `30h`, `3d4h`, `400d`, `2y10d`, `9y`. */
export function humanDuration(ms: number): string {
  const secs = Math.floor(ms / 1000);
  if (secs < 0) return '0s';
  if (secs < 120) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 10) {
    const s = secs % 60;
    return s === 0 ? `${mins}m` : `${mins}m${s}s`;
  }
  if (mins < 180) return `${mins}m`;
  const hours = Math.floor(mins / 60);
  if (hours < 8) {
    const m = mins % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  const days = Math.floor(hours / 24);
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (years < 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

export function columnDefinitions(def: ResourceDef): TableColumnDefinition[] {
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    ...def.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? c.name, priority: c.priority ?? 0 })),
  ];
}

export function tableRow(def: ResourceDef, obj: KubeObject, include: IncludeObject, nowMs: number): TableRow {
  const cells: CellValue[] = [obj.metadata.name ?? ''];
  for (const c of def.columns) {
    let v: CellValue;
    try {
      v = c.cell(obj, nowMs);
    } catch {
      v = '<error>';
    }
    cells.push(v);
  }
  const row: TableRow = { cells };
  if (include === 'Object') row.object = obj;
  else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  return row;
}

export function toTable(def: ResourceDef, objs: readonly KubeObject[], meta: ListMeta, opts: { include?: IncludeObject; withColumns?: boolean; apiVersion?: Table['apiVersion'] } = {}): Table {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: opts.apiVersion ?? 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: opts.withColumns === false ? [] : columnDefinitions(def),
    rows: objs.map((o) => tableRow(def, o, opts.include ?? 'Metadata', now)),
  };
}
