/**
 * The agent side of Reject on one OVS Node: a packet-in whose CustomReasonField (reg0[24..28]) has the reject bit
 * (set by a policy Reject rule, or by ServiceLB for a Service without Endpoints, told apart by the packet-in's
 * table) is answered with a PACKET_OUT of the frame reject.ts builds, sent back the way the packet came:
 * - from a Pod port or antrea-gw0: straight out of that port (the sender's Pod, or the host, which routes it on:
 *   the Node itself, or a peer Node over the underlay in noEncap mode);
 * - from antrea-tun0: back into the tunnel with tun_dst = the packet-in's tun_src (and its VNI), so the sender's
 *   Node runs it through its own pipeline (conntrack un-DNATs it there) to the sender.
 * Antrea instead re-injects some answers into its pipeline (reject-bypass flows); sending them straight out reaches
 * the same sender without depending on those flows. Each answer is recorded (recent()) so the traffic API can say
 * which Node rejected what, as the simulator does.
 *
 * The packet-in holds the frame as the pipeline had it, so a routed packet already carries L3Forwarding's MACs
 * (gateway → destination Pod); swapping those would address the answer to the gateway. The answer is therefore
 * addressed as the pipeline would address a reply: to the sender Pod's own MAC from the gateway's when it was
 * routed (from the destination's MAC when it was switched), to the gateway's MAC on antrea-gw0, and to the global
 * virtual MAC in the tunnel (the receiving Node's L3Forwarding rewrites tunnelled packets for its Pods).
 */
import type { Logger } from '../../util/log.js';
import { parseMac } from '../net/addr.js';
import { CustomReasonField, CustomReasonReject, GATEWAY_OFPORT, GLOBAL_VIRTUAL_MAC, TUNNEL_OFPORT } from '../pipeline/fields.js';
import { Table } from '../pipeline/tables.js';
import { OFPP_CONTROLLER, OXM, oxmU32, oxmValue, packetInReg, type OfAction, type PacketIn, type PacketOut } from './openflow.js';
import { buildRejectAnswer, type RejectKind, type RejectReply } from './reject.js';

const KEEP = 256;

export interface RejectRecord {
  at: number;
  table: number;
  kind: RejectKind;
  reply: RejectReply;
  /** The rejected packet as the sender addressed it. */
  protocol: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** Where the answer went: the port the packet came in on, or the tunnel towards `tunDst`. */
  via: { port: number; tunDst?: string };
  /** False when the PACKET_OUT could not be sent (no switch connected). */
  sent: boolean;
}

export type PacketOutSender = (p: Omit<PacketOut, 'xid'>) => void;

/** What the rejecter needs to know of its Node: the gateway's MAC and the MAC of the Pod on an OF port. */
export interface RejectNode {
  gatewayMAC(): string | undefined;
  podMAC(ofPort: number): string | undefined;
}

export class Rejecter {
  private readonly records: RejectRecord[] = [];

  constructor(
    private readonly send: PacketOutSender,
    private readonly node: RejectNode,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Handles one packet-in; returns the record of the answer, or undefined when it was not a reject to answer. */
  handle(p: PacketIn): RejectRecord | undefined {
    const f = CustomReasonField;
    const reg = packetInReg(p.match, Number(f.reg.slice(3)));
    const reasons = reg === undefined ? 0 : (reg >>> f.lo) & ((1 << (f.hi - f.lo + 1)) - 1);
    if ((reasons & CustomReasonReject) === 0) {
      this.log.debug('packet-in without the reject reason ignored', { table: p.tableId, reasons });
      return undefined;
    }
    const inPort = oxmU32(p.match, OXM.IN_PORT);
    if (inPort === undefined) {
      this.log.warn('reject packet-in without in_port skipped', { table: p.tableId });
      return undefined;
    }
    const kind: RejectKind = p.tableId === Table.ServiceLB ? 'no-endpoints' : 'policy';
    const answer = buildRejectAnswer(p.data, { kind, ...origDst(p) });
    if (!answer) {
      this.log.debug('reject packet-in for a packet that is not answered (not IPv4, an ICMP error or a reset)', { table: p.tableId });
      return undefined;
    }
    const actions: OfAction[] = [];
    const via: RejectRecord['via'] = { port: inPort };
    if (inPort === TUNNEL_OFPORT) {
      const tunSrc = oxmValue(p.match, OXM.TUN_IPV4_SRC);
      if (!tunSrc || tunSrc.length !== 4) {
        this.log.warn('reject packet-in from the tunnel without tun_src skipped', { table: p.tableId });
        return undefined;
      }
      actions.push({ type: 'setField', field: OXM.TUN_IPV4_DST, value: tunSrc });
      const vni = oxmValue(p.match, OXM.TUNNEL_ID);
      if (vni && vni.length === 8) actions.push({ type: 'setField', field: OXM.TUNNEL_ID, value: vni });
      via.tunDst = [...tunSrc].join('.');
    }
    actions.push({ type: 'output', port: inPort });
    this.address(answer.frame, inPort);
    let sent = true;
    try {
      // in_port CONTROLLER: output may then name the port the packet came in on.
      this.send({ inPort: OFPP_CONTROLLER, actions, data: answer.frame });
    } catch (err) {
      sent = false;
      this.log.warn('reject answer not sent', { error: String(err) });
    }
    const rec: RejectRecord = { at: this.clock(), table: p.tableId, kind, reply: answer.reply, ...answer.request, via, sent };
    this.records.push(rec);
    if (this.records.length > KEEP) this.records.splice(0, this.records.length - KEEP);
    this.log.debug('rejected', { ...rec, via: JSON.stringify(via) });
    return rec;
  }

  /** Sets the answer's MACs for the port it leaves by (see the module comment). */
  private address(frame: Buffer, outPort: number): void {
    const gw = this.node.gatewayMAC();
    const put = (at: number, mac: string | undefined) => {
      if (mac !== undefined) frame.writeUIntBE(parseMac(mac), at, 6);
    };
    if (outPort === TUNNEL_OFPORT) {
      put(0, GLOBAL_VIRTUAL_MAC);
      put(6, gw);
    } else if (outPort === GATEWAY_OFPORT) {
      put(0, gw);
    } else {
      const pod = this.node.podMAC(outPort);
      // The frame came with the MACs swapped: its destination (now bytes 0..5) is the sender's MAC unless routed.
      if (pod !== undefined && frame.readUIntBE(0, 6) !== parseMac(pod)) {
        put(0, pod);
        put(6, gw);
      }
    }
  }

  /** Answers sent since `since` (ms), newest last. */
  recent(since = 0): RejectRecord[] {
    return this.records.filter((r) => r.at >= since);
  }
}

/** Conntrack's original destination when the packet was DNATed (ct_nw_dst differs from the packet's). */
function origDst(p: PacketIn): { origDst?: { ip: number; port?: number } } {
  const ctDst = oxmU32(p.match, OXM.CT_NW_DST);
  const ctSrc = oxmU32(p.match, OXM.CT_NW_SRC);
  if (ctDst === undefined || ctSrc === undefined || p.data.length < 34) return {};
  const ipSrc = p.data.readUInt32BE(26);
  const ipDst = p.data.readUInt32BE(30);
  // Only the sender's own direction: a reply-direction packet's tuple is the other way round.
  if (ctSrc !== ipSrc || ctDst === ipDst) return {};
  const port = oxmValue(p.match, OXM.CT_TP_DST);
  return { origDst: { ip: ctDst, ...(port && port.length === 2 ? { port: port.readUInt16BE(0) } : {}) } };
}
