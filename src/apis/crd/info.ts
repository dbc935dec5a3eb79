/**
 * `crd.antrea.io/v1beta1` AntreaControllerInfo and AntreaAgentInfo (cluster-scoped): what the controller and each
 * agent publish about themselves, and how antctl finds their APIs (`apiPort`).
 */
import type { GroupVersionResource, KubeObject } from '../meta.js';

export interface ObjectRef {
  kind?: string;
  namespace?: string;
  name?: string;
}

export interface ComponentCondition {
  type: 'ControllerHealthy' | 'AgentHealthy' | 'ControllerConnectionUp' | string;
  status: 'True' | 'False' | 'Unknown';
  lastHeartbeatTime?: string;
  reason?: string;
  message?: string;
}

export interface AntreaControllerInfo extends KubeObject {
  version?: string;
  podRef?: ObjectRef;
  nodeRef?: ObjectRef;
  serviceRef?: ObjectRef;
  connectedAgentNum?: number;
  controllerConditions?: ComponentCondition[];
  apiPort: number;
}

export interface AntreaAgentInfo extends KubeObject {
  version?: string;
  podRef?: ObjectRef;
  nodeRef?: ObjectRef;
  nodeSubnets?: string[];
  localPodNum?: number;
  agentConditions?: ComponentCondition[];
  apiPort: number;
}

export const ANTREA_CONTROLLER_INFO_NAME = 'antrea-controller';

export const antreaGvr = {
  antreacontrollerinfos: { group: 'crd.antrea.io', version: 'v1beta1', resource: 'antreacontrollerinfos' },
  antreaagentinfos: { group: 'crd.antrea.io', version: 'v1beta1', resource: 'antreaagentinfos' },
} as const satisfies Record<string, GroupVersionResource>;
