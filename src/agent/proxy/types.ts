/**
 * The value types AntreaProxy's change trackers hold (kube-proxy's `serviceport.go` and `endpoint.go`): one
 * ServicePort's frontend as the Service describes it, and one endpoint as Endpoints or an EndpointSlice describes it.
 * Both are keyed by the ServicePort name `namespace/name:portName/PROTOCOL`, which is also the datapath's
 * `serviceKey`, so the key a tracker reports is the key the datapath is told to upsert or remove.
 */
import type { L4Protocol, ServiceFrontend } from '../../datapath/types.js';

/** `namespace/name`: the key of a Service, of its Endpoints, and of the slices labelled with its name. */
export type ServiceName = string;
/** `namespace/name:portName/PROTOCOL` (datapath `serviceKey`). */
export type ServicePortKey = string;

export function servicePortKey(service: ServiceName, portName: string, protocol: L4Protocol): ServicePortKey {
  return `${service}:${portName}/${protocol}`;
}

/** The Service half of a frontend: everything the datapath needs but the endpoints. */
export type ServicePortInfo = Omit<ServiceFrontend, 'endpoints'>;

/**
 * One endpoint of one ServicePort, with the EndpointSlice conditions (Endpoints objects give ready=serving=true,
 * terminating=false for `addresses`; `notReadyAddresses` are never endpoints).
 */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** The Node the endpoint runs on, when known; isLocal is decided against the agent's Node. */
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** A Service's endpoints, per ServicePort key. Lists are sorted by `ip:port` and hold no duplicates. */
export type EndpointsByPort = ReadonlyMap<ServicePortKey, readonly EndpointInfo[]>;
/** A Service's ports, per ServicePort key. */
export type PortsByKey = ReadonlyMap<ServicePortKey, ServicePortInfo>;

export const endpointId = (e: Pick<EndpointInfo, 'ip' | 'port'>): string => `${e.ip}:${e.port}`;
