/**
 * A connection as an IPFIX data record in Antrea's template order (`antreaTemplateFields`): 37 values, an array so
 * the encoder writes them without looking names up. Value conventions are Antrea's: an unresolved Pod leaves its
 * name, namespace and Node empty; no Service gives port 0 and a ClusterIP of 0.0.0.0 (or ::).
 */
import { antreaTemplateFields, defineTemplate, type IpfixInputValue, type Template } from '../../ipfix/index.js';
import { FlowType, type Connection } from './types.js';

/** go-ipfix hands out template ids from 256: Antrea's agent gets 256 for IPv4 and 257 for IPv6. */
export const TEMPLATE_ID_V4 = 256;
export const TEMPLATE_ID_V6 = 257;

export function flowTemplates(): { v4: Template; v6: Template } {
  return { v4: defineTemplate(TEMPLATE_ID_V4, antreaTemplateFields(4)), v6: defineTemplate(TEMPLATE_ID_V6, antreaTemplateFields(6)) };
}

/**
 * Antrea's findFlowType, with Pods resolved cluster-wide: Pod to Pod on one Node is IntraNode, on two Nodes (or to
 * a Service whose Endpoint is not known here) InterNode, Pod to anything else ToExternal; a flow whose source is not
 * a Pod is 0 (From-External flows are not supported, as in Antrea).
 */
export function flowTypeOf(c: Connection): number {
  if (c.srcPod === undefined) return FlowType.Unknown;
  if (c.dstPod !== undefined) return c.dstPod.node === c.srcPod.node ? FlowType.IntraNode : FlowType.InterNode;
  return c.service !== undefined ? FlowType.InterNode : FlowType.ToExternal;
}

/** Reuses one array per call site: records are encoded at once, never kept. */
export function buildRecord(c: Connection, reason: number, out: IpfixInputValue[] = new Array<IpfixInputValue>(37)): IpfixInputValue[] {
  const src = c.srcPod;
  const dst = c.dstPod;
  const svc = c.service;
  const ing = c.ingress;
  const egr = c.egress;
  out[0] = Math.floor(c.startMs / 1000);
  out[1] = Math.floor(c.stopMs / 1000);
  out[2] = reason;
  out[3] = c.srcPort;
  out[4] = c.dstPort;
  out[5] = c.proto;
  out[6] = c.packets;
  out[7] = c.bytes;
  out[8] = c.packets - c.prevPackets;
  out[9] = c.bytes - c.prevBytes;
  out[10] = c.srcIP;
  out[11] = c.dstIP;
  out[12] = c.revPackets;
  out[13] = c.revBytes;
  out[14] = c.revPackets - c.prevRevPackets;
  out[15] = c.revBytes - c.prevRevBytes;
  out[16] = src ? src.name : '';
  out[17] = src ? src.namespace : '';
  out[18] = src ? src.node : '';
  out[19] = dst ? dst.name : '';
  out[20] = dst ? dst.namespace : '';
  out[21] = dst ? dst.node : '';
  out[22] = svc ? svc.port : 0;
  out[23] = svc ? svc.portName : '';
  out[24] = ing ? ing.name : '';
  out[25] = ing ? ing.namespace : '';
  out[26] = ing ? ing.type : 0;
  out[27] = ing ? ing.ruleName : '';
  out[28] = ing ? ing.action : 0;
  out[29] = egr ? egr.name : '';
  out[30] = egr ? egr.namespace : '';
  out[31] = egr ? egr.type : 0;
  out[32] = egr ? egr.ruleName : '';
  out[33] = egr ? egr.action : 0;
  out[34] = c.tcpState;
  out[35] = flowTypeOf(c);
  out[36] = svc ? svc.clusterIP : c.ipv6 ? '::' : '0.0.0.0';
  return out;
}
