/** What a packet went through, step by step: the raw material for Traceflow, tests and `antctl trace-packet`. */
export type TraceStep =
  | {
      kind: 'flow';
      node: string;
      table: number;
      tableName: string;
      priority: number;
      cookie: string;
      match: string;
      actions: string;
      /** 0 for the top-level pipeline, deeper for resubmits and group buckets. */
      depth: number;
    }
  | { kind: 'miss'; node: string; table: number; tableName: string; depth: number }
  | { kind: 'ct'; node: string; zone: number; state: string; commit: boolean; nat?: string; connId?: number }
  | { kind: 'group'; node: string; groupId: number; bucketId: number }
  | { kind: 'output'; node: string; port: number; portName: string }
  | { kind: 'tunnel'; from: string; to: string; tunnelType: string; vni: number; outerBytes: number }
  | { kind: 'host'; node: string; action: 'received' | 'routed' | 'delivered' | 'underlay' | 'external' | 'dropped'; detail: string }
  | { kind: 'endpoint'; node: string; endpoint: string; action: 'sent' | 'received' | 'rejected'; detail: string }
  | { kind: 'drop'; node: string; table?: number; tableName?: string; reason: string };

/** Where and why a packet was dropped. */
export interface DropInfo {
  node: string;
  /** Set when the drop happened in the OVS pipeline. */
  table?: number;
  tableName?: string;
  /** The flow that dropped it, rendered; absent for a table miss without a miss flow. */
  flow?: string;
  reason: string;
}
