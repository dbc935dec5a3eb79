/**
 * Layer 7: the datapath. Agent feature modules publish desired state to one `Datapath` per Node; the pipeline
 * compiler turns it, incrementally, into Antrea 1.5's OpenFlow tables; executors run those flows (the simulator
 * here, Open vSwitch later). See ./README.md.
 */
export type {
  Datapath, DesiredStateChange, FlowDiff, NodeConfig, PodInterface, PeerNode, ServiceFrontend, ServiceEndpoint,
  PolicyRule, PolicyPeer, PolicyService, RuleAction, RuleDirection, HostNatRule, NodePortLocalMapping, MulticastGroup,
  TrafficEncapMode, TunnelType, L4Protocol, ObjectKind,
} from './types.js';
export { podKey, serviceKey } from './types.js';
export type {
  DatapathExecutor, Endpoint, SendRequest, ConnectRequest, PacketResult, ConnectionResult, Delivery, Protocol,
} from './traffic.js';
export { datapathConformance, type ConformanceOptions } from './conformance.js';

// Pipeline: flow model, compiler, rendering
export { PipelineCompiler, diffSize, emptyDiff, type CompilerOptions } from './pipeline/compiler.js';
export { Table, TABLES, tableName, tableInfo, type TableInfo } from './pipeline/tables.js';
export * as fields from './pipeline/fields.js';
export { match, act, flow, MatchBuilder, type Flow, type Group, type Bucket, type Action, type Match, type FieldMatch } from './pipeline/flow.js';
export { renderFlow, renderFlowStrict, renderGroup, renderMatch, renderActions, renderBundle, flowIdentity } from './pipeline/render.js';

// Simulator
export { SimCluster, TUNNEL_OVERHEAD, type SimClusterOptions, type UnderlayStats } from './sim/cluster.js';
export { SimNode } from './sim/node.js';
export { SimBridge } from './sim/bridge.js';
export { Conntrack, type ConntrackEntry, type Connection, type TcpState } from './sim/conntrack.js';
export { ManualClock, systemClock, type Clock } from './sim/clock.js';
export type { TraceStep, DropInfo } from './sim/trace.js';
export { traceflowObservations, type Observation, type NodeResult, type TraceflowAction, type TraceflowComponent } from './sim/traceflow.js';
export type { Packet } from './sim/packet.js';
