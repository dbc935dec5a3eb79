/**
 * Just enough of the OpenFlow 1.5 wire protocol (version 0x06) to be a controller that receives packet-ins and
 * answers with packet-outs: the 8-byte header and stream framing, HELLO, ECHO, FEATURES_REQUEST, SET_CONFIG,
 * OFPT_PACKET_IN (decode) and OFPT_PACKET_OUT (encode), OXM TLVs and the OUTPUT / SET_FIELD actions.
 *
 * Layouts follow the OpenFlow 1.5.1 specification and were checked against OVS 3.1 itself (`ovs-ofctl ofp-print` on
 * what this module encodes, and real packet-ins captured from ovs-vswitchd; see openflow.test.ts). Decoding never
 * trusts a length field: anything that does not fit is an AntreaError (ERR_OPENFLOW_MALFORMED), which the connection
 * logs and skips.
 */
import { AntreaError } from '../../util/errors.js';

export const OFP_VERSION = 0x06;
export const OFP_HEADER_LEN = 8;
/** Largest message the 16-bit header length allows. */
export const OFP_MAX_LEN = 0xffff;

export const OFPT = {
  HELLO: 0, ERROR: 1, ECHO_REQUEST: 2, ECHO_REPLY: 3, EXPERIMENTER: 4, FEATURES_REQUEST: 5, FEATURES_REPLY: 6,
  SET_CONFIG: 9, PACKET_IN: 10, PORT_STATUS: 12, PACKET_OUT: 13, BARRIER_REQUEST: 20, BARRIER_REPLY: 21,
} as const;

export const OFP_NO_BUFFER = 0xffffffff;
/** Reserved port numbers (32-bit since OpenFlow 1.1). */
export const OFPP_IN_PORT = 0xfffffff8;
export const OFPP_CONTROLLER = 0xfffffffd;
/** Send whole packets to the controller on a table miss (OFPCML_NO_BUFFER). */
export const OFPCML_NO_BUFFER = 0xffff;

/** OXM classes: OpenFlow basic, and Nicira's NXM_1 (registers, tunnel addresses). */
export const OXM_CLASS_BASIC = 0x8000;
export const OXM_CLASS_NXM1 = 0x0001;
/** OpenFlow 1.5 packet registers (OXM_OF_PKT_REGn, 64 bits = xreg n = reg 2n:2n+1), as OVS may encode them. */
export const OXM_CLASS_PKT_REGS = 0x8001;
export const OXM_CLASS_EXPERIMENTER = 0xffff;

/** The OXM fields this controller reads or writes: [class, field, value length]. */
export const OXM = {
  IN_PORT: [OXM_CLASS_BASIC, 0, 4],
  TUNNEL_ID: [OXM_CLASS_BASIC, 38, 8],
  /** NXM_NX_REG0..15 are field 0..15 of NXM_1. */
  REG0: [OXM_CLASS_NXM1, 0, 4],
  TUN_IPV4_SRC: [OXM_CLASS_NXM1, 31, 4],
  TUN_IPV4_DST: [OXM_CLASS_NXM1, 32, 4],
  CT_STATE: [OXM_CLASS_NXM1, 105, 4],
  CT_NW_SRC: [OXM_CLASS_NXM1, 120, 4],
  CT_NW_DST: [OXM_CLASS_NXM1, 121, 4],
  CT_TP_SRC: [OXM_CLASS_NXM1, 124, 2],
  CT_TP_DST: [OXM_CLASS_NXM1, 125, 2],
} as const satisfies Record<string, readonly [number, number, number]>;

const OFPMT_OXM = 1;
const OFPAT_OUTPUT = 0;
const OFPAT_SET_FIELD = 25;

export interface OfpHeader {
  version: number;
  type: number;
  length: number;
  xid: number;
}

export interface OfpMessage extends OfpHeader {
  /** The bytes after the 8-byte header. */
  body: Buffer;
}

/** One OXM TLV; `experimenter` is set for class 0xffff, whose 4-byte experimenter id precedes the value. */
export interface OxmField {
  cls: number;
  field: number;
  hasMask: boolean;
  value: Buffer;
  mask?: Buffer;
  experimenter?: number;
}

export interface PacketIn {
  xid: number;
  bufferId: number;
  totalLen: number;
  reason: number;
  tableId: number;
  cookie: bigint;
  match: OxmField[];
  /** The Ethernet frame as the pipeline had it at the controller action. */
  data: Buffer;
}

export type OfAction =
  | { type: 'output'; port: number; maxLen?: number }
  | { type: 'setField'; field: readonly [number, number, number]; value: Buffer };

export interface PacketOut {
  xid: number;
  inPort: number;
  actions: OfAction[];
  data: Buffer;
}

function malformed(message: string): AntreaError {
  return new AntreaError('ERR_OPENFLOW_MALFORMED', `OpenFlow: ${message}`, { component: 'openflow' });
}

export function encodeHeader(type: number, length: number, xid: number): Buffer {
  const b = Buffer.alloc(OFP_HEADER_LEN);
  b.writeUInt8(OFP_VERSION, 0);
  b.writeUInt8(type, 1);
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  return b;
}

export function encodeMessage(type: number, xid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const length = OFP_HEADER_LEN + body.length;
  if (length > OFP_MAX_LEN) throw new AntreaError('ERR_OPENFLOW_TOO_LARGE', `OpenFlow: a ${length}-byte message does not fit the 16-bit length`, { component: 'openflow' });
  return Buffer.concat([encodeHeader(type, length, xid), body]);
}

/**
 * HELLO with a version-bitmap element naming only 1.5, so the peer can tell which version we speak
 * (OFPHET_VERSIONBITMAP = 1; bit 6 = version 0x06).
 */
export function encodeHello(xid: number): Buffer {
  const el = Buffer.alloc(8);
  el.writeUInt16BE(1, 0);
  el.writeUInt16BE(8, 2);
  el.writeUInt32BE(1 << OFP_VERSION, 4);
  return encodeMessage(OFPT.HELLO, xid, el);
}

export function encodeEchoReply(request: OfpMessage): Buffer {
  return encodeMessage(OFPT.ECHO_REPLY, request.xid, request.body);
}

export function encodeFeaturesRequest(xid: number): Buffer {
  return encodeMessage(OFPT.FEATURES_REQUEST, xid);
}

/** SET_CONFIG: flags 0 (normal fragment handling), miss_send_len = whole packets. */
export function encodeSetConfig(xid: number, missSendLen = OFPCML_NO_BUFFER): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(0, 0);
  b.writeUInt16BE(missSendLen, 2);
  return encodeMessage(OFPT.SET_CONFIG, xid, b);
}

export function decodeHeader(buf: Buffer, offset = 0): OfpHeader {
  if (buf.length - offset < OFP_HEADER_LEN) throw malformed(`a header needs ${OFP_HEADER_LEN} bytes, ${buf.length - offset} left`);
  return { version: buf.readUInt8(offset), type: buf.readUInt8(offset + 1), length: buf.readUInt16BE(offset + 2), xid: buf.readUInt32BE(offset + 4) };
}

/**
 * Splits a byte stream into messages by the header's length. A length below 8 cannot be skipped safely (the stream
 * has lost its framing), so it is an error and the caller drops the connection; everything else is framed.
 */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): OfpMessage[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: OfpMessage[] = [];
    let off = 0;
    while (this.pending.length - off >= OFP_HEADER_LEN) {
      const h = decodeHeader(this.pending, off);
      if (h.length < OFP_HEADER_LEN) {
        this.pending = Buffer.alloc(0);
        throw malformed(`header length ${h.length} is shorter than the header: the stream lost its framing`);
      }
      if (this.pending.length - off < h.length) break;
      out.push({ ...h, body: Buffer.from(this.pending.subarray(off + OFP_HEADER_LEN, off + h.length)) });
      off += h.length;
    }
    this.pending = this.pending.subarray(off);
    return out;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Decodes the OXM TLVs of `buf` (the bytes after ofp_match's type and length, before its padding). */
export function decodeOxms(buf: Buffer): OxmField[] {
  const out: OxmField[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 4) throw malformed(`an OXM header needs 4 bytes, ${buf.length - off} left`);
    const cls = buf.readUInt16BE(off);
    const fh = buf.readUInt8(off + 2);
    const len = buf.readUInt8(off + 3);
    const field = fh >> 1;
    const hasMask = (fh & 1) === 1;
    let start = off + 4;
    let payload = len;
    if (off + 4 + len > buf.length) throw malformed(`OXM ${cls.toString(16)}:${field} claims ${len} bytes, ${buf.length - off - 4} left`);
    let experimenter: number | undefined;
    if (cls === OXM_CLASS_EXPERIMENTER) {
      if (len < 4) throw malformed(`experimenter OXM with length ${len} has no experimenter id`);
      experimenter = buf.readUInt32BE(start);
      start += 4;
      payload -= 4;
    }
    if (hasMask && payload % 2 !== 0) throw malformed(`masked OXM ${cls.toString(16)}:${field} has odd length ${payload}`);
    const vlen = hasMask ? payload / 2 : payload;
    const f: OxmField = { cls, field, hasMask, value: Buffer.from(buf.subarray(start, start + vlen)) };
    if (hasMask) f.mask = Buffer.from(buf.subarray(start + vlen, start + payload));
    if (experimenter !== undefined) f.experimenter = experimenter;
    out.push(f);
    off += 4 + len;
  }
  return out;
}

export function encodeOxm(field: readonly [number, number, number], value: Buffer): Buffer {
  const [cls, id, len] = field;
  if (value.length !== len) throw new AntreaError('ERR_OPENFLOW_INVALID', `OpenFlow: OXM ${cls.toString(16)}:${id} takes ${len} bytes, got ${value.length}`, { component: 'openflow' });
  const h = Buffer.alloc(4);
  h.writeUInt16BE(cls, 0);
  h.writeUInt8(id << 1, 2);
  h.writeUInt8(len, 3);
  return Buffer.concat([h, value]);
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** ofp_match of type OXM holding `oxms`, padded to a multiple of 8 (the length field excludes the padding). */
export function encodeMatch(oxms: Buffer[]): Buffer {
  const fields = Buffer.concat(oxms);
  const h = Buffer.alloc(4);
  h.writeUInt16BE(OFPMT_OXM, 0);
  h.writeUInt16BE(4 + fields.length, 2);
  return Buffer.concat([h, fields, Buffer.alloc(pad8(4 + fields.length))]);
}

/** Reads an ofp_match at `off`; returns its fields and the offset just past its padding. */
export function decodeMatch(buf: Buffer, off: number): { fields: OxmField[]; end: number } {
  if (buf.length - off < 4) throw malformed('the match header does not fit');
  const type = buf.readUInt16BE(off);
  const len = buf.readUInt16BE(off + 2);
  if (type !== OFPMT_OXM) throw malformed(`match type ${type} is not OXM (1)`);
  if (len < 4) throw malformed(`match length ${len} is shorter than its header`);
  const end = off + len + pad8(len);
  if (end > buf.length) throw malformed(`match of ${len} bytes (padded to ${len + pad8(len)}) runs past the message`);
  return { fields: decodeOxms(buf.subarray(off + 4, off + len)), end };
}

/** OFPT_PACKET_IN (OpenFlow 1.5): buffer_id, total_len, reason, table_id, cookie, match, 2 pad bytes, frame. */
export function decodePacketIn(msg: OfpMessage): PacketIn {
  if (msg.type !== OFPT.PACKET_IN) throw malformed(`message type ${msg.type} is not PACKET_IN`);
  if (msg.version !== OFP_VERSION) throw malformed(`PACKET_IN of version ${msg.version}, expected ${OFP_VERSION}`);
  const b = msg.body;
  if (b.length < 16) throw malformed(`PACKET_IN body of ${b.length} bytes is shorter than its fixed part`);
  const { fields, end } = decodeMatch(b, 16);
  if (end + 2 > b.length) throw malformed('PACKET_IN has no room for the pad before its data');
  return {
    xid: msg.xid,
    bufferId: b.readUInt32BE(0),
    totalLen: b.readUInt16BE(4),
    reason: b.readUInt8(6),
    tableId: b.readUInt8(7),
    cookie: b.readBigUInt64BE(8),
    match: fields,
    data: Buffer.from(b.subarray(end + 2)),
  };
}

function encodeAction(a: OfAction): Buffer {
  if (a.type === 'output') {
    const b = Buffer.alloc(16);
    b.writeUInt16BE(OFPAT_OUTPUT, 0);
    b.writeUInt16BE(16, 2);
    b.writeUInt32BE(a.port >>> 0, 4);
    b.writeUInt16BE(a.maxLen ?? 0, 8);
    return b;
  }
  const oxm = encodeOxm(a.field, a.value);
  const len = 4 + oxm.length + pad8(4 + oxm.length);
  const h = Buffer.alloc(4);
  h.writeUInt16BE(OFPAT_SET_FIELD, 0);
  h.writeUInt16BE(len, 2);
  return Buffer.concat([h, oxm, Buffer.alloc(len - 4 - oxm.length)]);
}

/** OFPT_PACKET_OUT (OpenFlow 1.5): buffer_id = NO_BUFFER, actions_len, pad, match (in_port), actions, frame. */
export function encodePacketOut(p: PacketOut): Buffer {
  const inPort = Buffer.alloc(4);
  inPort.writeUInt32BE(p.inPort >>> 0, 0);
  const match = encodeMatch([encodeOxm(OXM.IN_PORT, inPort)]);
  const actions = Buffer.concat(p.actions.map(encodeAction));
  const fixed = Buffer.alloc(8);
  fixed.writeUInt32BE(OFP_NO_BUFFER, 0);
  fixed.writeUInt16BE(actions.length, 4);
  return encodeMessage(OFPT.PACKET_OUT, p.xid, Buffer.concat([fixed, match, actions, p.data]));
}

/** The first field of the match with this class and field id, or undefined. */
export function oxmValue(match: readonly OxmField[], field: readonly [number, number, number]): Buffer | undefined {
  return match.find((f) => f.cls === field[0] && f.field === field[1] && f.experimenter === undefined)?.value;
}

/** A 32-bit field as a number (undefined when absent or not 4 bytes). */
export function oxmU32(match: readonly OxmField[], field: readonly [number, number, number]): number | undefined {
  const v = oxmValue(match, field);
  return v && v.length === 4 ? v.readUInt32BE(0) : undefined;
}

/**
 * Register n of the packet-in: NXM_NX_REGn, or the half of OXM_OF_PKT_REG(n/2) (xreg, high word = even register)
 * when OVS packs them that way.
 */
export function packetInReg(match: readonly OxmField[], n: number): number | undefined {
  const direct = oxmU32(match, [OXM_CLASS_NXM1, n, 4]);
  if (direct !== undefined) return direct;
  const x = match.find((f) => f.cls === OXM_CLASS_PKT_REGS && f.field === n >> 1 && f.value.length === 8);
  return x ? x.value.readUInt32BE(n % 2 === 0 ? 0 : 4) : undefined;
}
