import { writeIpv4, writeIpv6, writeMac } from './addr.js';
import { IpfixError } from './errors.js';
import { type Template, type TemplateField } from './template.js';
import { TypeCode, VARIABLE_LENGTH, type IpfixInputValue } from './types.js';

// Module-local copies of the type codes and helpers used per field (see TypeCode for why).
const {
  U8: T_U8, U16: T_U16, U32: T_U32, U64: T_U64, S8: T_S8, S16: T_S16, S32: T_S32, S64: T_S64, F32: T_F32, F64: T_F64,
  Bool: T_Bool, Mac: T_Mac, Octets: T_Octets, Str: T_Str, DtSec: T_DtSec, DtMilli: T_DtMilli, DtMicro: T_DtMicro,
  DtNano: T_DtNano, Ip4: T_Ip4, Ip6: T_Ip6,
} = TypeCode;
const VARLEN = VARIABLE_LENGTH;
const putIpv4 = writeIpv4;
const putIpv6 = writeIpv6;
const putMac = writeMac;

export const IPFIX_VERSION = 10;
export const MESSAGE_HEADER_LENGTH = 16;
export const SET_HEADER_LENGTH = 4;
export const TEMPLATE_SET_ID = 2;
export const OPTIONS_TEMPLATE_SET_ID = 3;
/**
 * Default largest message: 1400 octets keeps a message plus IPv6 (40) and UDP (8) headers inside a 1500-byte
 * Ethernet MTU with room for tunnel overhead, so UDP export never relies on IP fragmentation.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 1400;
const MIN_MESSAGE_SIZE = 64;
/** Seconds between 1900-01-01 (NTP era 0) and 1970-01-01. */
const NTP_UNIX_OFFSET = 2208988800n;

export interface EncoderOptions {
  observationDomainId?: number;
  /** Largest message in octets, header included (64..65535). Default 1400. */
  maxMessageSize?: number;
  /** Export time source in milliseconds; default Date.now. */
  now?: () => number;
  /** Sequence number of the first message (records already sent in this stream); default 0. */
  initialSequenceNumber?: number;
}

/** A record to encode: keyed by IE name, or the values in template field order. */
export type InputRecord = Readonly<Record<string, IpfixInputValue | undefined>> | readonly (IpfixInputValue | undefined)[];

/** A finished message and the number of data records it carries. */
export interface EncodedMessage {
  readonly bytes: Buffer;
  readonly records: number;
}

const TWO32 = 0x100000000;
/** Exclusive upper bound of an unsigned integer of 0..4 octets. */
const U_LIMIT: readonly number[] = [1, 0x100, 0x10000, 0x1000000, 0x100000000];
/** Largest unsigned value of each octet length 0..8, precomputed: BigInt shifts on the hot path allocate. */
const U64_MAX: readonly bigint[] = Array.from({ length: 9 }, (_, n) => (1n << BigInt(8 * n)) - 1n);

/**
 * Packs template and data records into IPFIX messages no larger than `maxMessageSize`, one observation domain per
 * encoder. Records accumulate into the current message (consecutive records of one template share a set) until a
 * record does not fit; then the message is closed and the record starts the next one. `flush()` closes the current
 * message and hands back everything finished since the last call. Sequence numbers count data records (RFC 7011
 * section 3.1), so template-only messages do not advance them.
 */
export class IpfixEncoder {
  readonly observationDomainId: number;
  readonly maxMessageSize: number;
  private readonly now: () => number;
  private readonly buf: Buffer;
  private readonly dv: DataView;
  private readonly templatesById = new Map<number, Template>();
  private pos = MESSAGE_HEADER_LENGTH;
  private setStart = -1;
  private setId = -1;
  private msgRecords = 0;
  private seq: number;
  private done: EncodedMessage[] = [];

  constructor(opts: EncoderOptions = {}) {
    const domain = opts.observationDomainId ?? 0;
    if (!Number.isInteger(domain) || domain < 0 || domain > 0xffffffff) {
      throw new IpfixError('ERR_IPFIX_BAD_OPTION', `observationDomainId ${domain} is not an unsigned 32-bit integer`);
    }
    const max = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < MIN_MESSAGE_SIZE || max > 0xffff) {
      throw new IpfixError('ERR_IPFIX_BAD_OPTION', `maxMessageSize ${max} is not in ${MIN_MESSAGE_SIZE}..65535`);
    }
    this.observationDomainId = domain;
    this.maxMessageSize = max;
    this.now = opts.now ?? Date.now;
    this.seq = (opts.initialSequenceNumber ?? 0) >>> 0;
    // Room for a full message plus one record of any size that could fit in a message on its own, so a record is
    // always written completely before we decide where it goes.
    this.buf = Buffer.alloc(max + 0x10000);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Data records encoded so far (the sequence number the next message will carry, modulo 2^32). */
  get sequenceNumber(): number {
    return (this.seq + this.msgRecords) >>> 0;
  }

  addTemplate(t: Template): void {
    this.templatesById.set(t.id, t);
  }

  getTemplate(id: number): Template | undefined {
    return this.templatesById.get(id);
  }

  templates(): Template[] {
    return [...this.templatesById.values()];
  }

  removeTemplate(id: number): boolean {
    return this.templatesById.delete(id);
  }

  /** Appends template records for the given templates (default: all) to the current message. */
  writeTemplates(ids?: readonly number[]): void {
    const list = ids ? ids.map((id) => this.requireTemplate(id)) : [...this.templatesById.values()];
    for (const t of list) {
      const setId = t.scopeFieldCount > 0 ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID;
      const opened = this.beginRecord(setId);
      const start = this.pos - (opened ? SET_HEADER_LENGTH : 0);
      this.ensure(t.scopeFieldCount > 0 ? 6 : 4);
      this.dv.setUint16(this.pos, t.id);
      this.dv.setUint16(this.pos + 2, t.fields.length);
      this.pos += 4;
      if (t.scopeFieldCount > 0) {
        this.dv.setUint16(this.pos, t.scopeFieldCount);
        this.pos += 2;
      }
      for (const f of t.fields) {
        this.ensure(8);
        const ent = f.ie.enterprise !== 0;
        this.dv.setUint16(this.pos, ent ? f.ie.id | 0x8000 : f.ie.id);
        this.dv.setUint16(this.pos + 2, f.length);
        if (ent) {
          this.dv.setUint32(this.pos + 4, f.ie.enterprise);
          this.pos += 8;
        } else this.pos += 4;
      }
      this.endRecord(start, opened, false);
    }
  }

  /**
   * Appends a template withdrawal (a template record with no fields; RFC 7011 section 8.1) for `id`, or for every
   * template when `id` is omitted. Withdrawals are for TCP and SCTP; never send them over UDP.
   */
  writeWithdrawal(id?: number, options = false): void {
    const setId = options ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID;
    const opened = this.beginRecord(setId);
    const start = this.pos - (opened ? SET_HEADER_LENGTH : 0);
    this.dv.setUint16(this.pos, id ?? setId);
    this.dv.setUint16(this.pos + 2, 0);
    this.pos += 4;
    this.endRecord(start, opened, false);
    if (id === undefined) this.templatesById.clear();
    else this.templatesById.delete(id);
  }

  /** Appends one data record. Throws an IpfixError (and leaves the encoder as it was) if the record is invalid. */
  writeRecord(template: Template | number, record: InputRecord): void {
    const t = typeof template === 'number' ? this.requireTemplate(template) : template;
    const opened = this.beginRecord(t.id);
    const start = this.pos - (opened ? SET_HEADER_LENGTH : 0);
    try {
      const fields = t.fields;
      if (Array.isArray(record)) {
        const arr = record as readonly (IpfixInputValue | undefined)[];
        for (let i = 0; i < fields.length; i++) this.writeField(fields[i]!, arr[i]);
      } else {
        const obj = record as Readonly<Record<string, IpfixInputValue | undefined>>;
        const names = t.names;
        for (let i = 0; i < fields.length; i++) this.writeField(fields[i]!, obj[names[i]!]);
      }
    } catch (err) {
      this.rollback(start, opened);
      throw err;
    }
    this.endRecord(start, opened, true);
  }

  /** Closes the current message (if it holds anything) and returns every message finished since the last call. */
  flush(): EncodedMessage[] {
    this.finishMessage();
    const out = this.done;
    this.done = [];
    return out;
  }

  /** How many finished messages wait for flush() or takeFinished(). */
  get finishedCount(): number {
    return this.done.length;
  }

  /** Messages finished but not yet taken by flush(), without closing the current one. */
  takeFinished(): EncodedMessage[] {
    const out = this.done;
    this.done = [];
    return out;
  }

  /** Drops the current message and forgets finished ones; the sequence number keeps counting what was encoded. */
  reset(): void {
    this.pos = MESSAGE_HEADER_LENGTH;
    this.setStart = -1;
    this.setId = -1;
    this.msgRecords = 0;
    this.done = [];
  }

  private requireTemplate(id: number): Template {
    const t = this.templatesById.get(id);
    if (!t) throw new IpfixError('ERR_IPFIX_UNKNOWN_TEMPLATE', `template ${id} was not added to this encoder`);
    return t;
  }

  /** Opens a set for `setId` unless the current one has that id; returns whether a set header was written. */
  private beginRecord(setId: number): boolean {
    if (this.setStart >= 0 && this.setId === setId) return false;
    this.closeSet();
    this.setStart = this.pos;
    this.setId = setId;
    this.pos += SET_HEADER_LENGTH;
    return true;
  }

  private closeSet(): void {
    if (this.setStart < 0) return;
    this.dv.setUint16(this.setStart, this.setId);
    this.dv.setUint16(this.setStart + 2, this.pos - this.setStart);
    this.setStart = -1;
    this.setId = -1;
  }

  private rollback(start: number, opened: boolean): void {
    this.pos = start;
    if (opened) {
      this.setStart = -1;
      this.setId = -1;
    }
  }

  /** The record occupies [start, pos) (set header included if `opened`). Moves it to a new message if needed. */
  private endRecord(start: number, opened: boolean, isData: boolean): void {
    if (this.pos <= this.maxMessageSize) {
      if (isData) this.msgRecords++;
      return;
    }
    const recStart = opened ? start + SET_HEADER_LENGTH : start;
    const recLen = this.pos - recStart;
    if (MESSAGE_HEADER_LENGTH + SET_HEADER_LENGTH + recLen > this.maxMessageSize) {
      this.rollback(start, opened);
      throw new IpfixError(
        'ERR_IPFIX_RECORD_TOO_LARGE',
        `a record of ${recLen} octets does not fit in a message of at most ${this.maxMessageSize} octets`,
      );
    }
    const setId = this.setId;
    this.rollback(start, opened);
    this.finishMessage();
    const dst = MESSAGE_HEADER_LENGTH + SET_HEADER_LENGTH;
    this.buf.copyWithin(dst, recStart, recStart + recLen);
    this.setStart = MESSAGE_HEADER_LENGTH;
    this.setId = setId;
    this.pos = dst + recLen;
    if (isData) this.msgRecords++;
  }

  private finishMessage(): void {
    this.closeSet();
    if (this.pos === MESSAGE_HEADER_LENGTH) return;
    const dv = this.dv;
    dv.setUint16(0, IPFIX_VERSION);
    dv.setUint16(2, this.pos);
    dv.setUint32(4, Math.floor(this.now() / 1000) >>> 0);
    dv.setUint32(8, this.seq);
    dv.setUint32(12, this.observationDomainId);
    const bytes = Buffer.allocUnsafe(this.pos);
    this.buf.copy(bytes, 0, 0, this.pos);
    this.done.push({ bytes, records: this.msgRecords });
    this.seq = (this.seq + this.msgRecords) >>> 0;
    this.msgRecords = 0;
    this.pos = MESSAGE_HEADER_LENGTH;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new IpfixError('ERR_IPFIX_RECORD_TOO_LARGE', `a record does not fit in a message of at most ${this.maxMessageSize} octets`);
    }
  }

  private writeField(f: TemplateField, v: IpfixInputValue | undefined): void {
    if (v === undefined || v === null) {
      throw new IpfixError('ERR_IPFIX_MISSING_VALUE', `no value for field ${f.ie.name}`, { field: f.ie.name });
    }
    const len = f.length;
    if (len !== VARLEN) this.ensure(len);
    const dv = this.dv;
    const p = this.pos;
    switch (f.code) {
      case T_U8:
      case T_U16:
      case T_U32:
        this.writeUnsignedSmall(f, v, p, len);
        break;
      case T_U64:
        this.writeUnsigned64(f, v, p, len);
        break;
      case T_S8:
      case T_S16:
      case T_S32:
      case T_S64:
        this.writeSigned(f, v, p, len);
        break;
      case T_F32:
      case T_F64: {
        if (typeof v !== 'number') throw badValue(f, v, 'a number');
        if (len === 8) dv.setFloat64(p, v);
        else dv.setFloat32(p, v);
        break;
      }
      case T_Bool:
        if (typeof v !== 'boolean') throw badValue(f, v, 'a boolean');
        this.buf[p] = v ? 1 : 2;
        break;
      case T_Mac:
        if (typeof v !== 'string' || !putMac(v, this.buf, p)) throw badValue(f, v, 'a MAC address aa:bb:cc:dd:ee:ff');
        break;
      case T_Ip4:
        if (typeof v !== 'string' || !putIpv4(v, this.buf, p)) throw badValue(f, v, 'an IPv4 address');
        break;
      case T_Ip6:
        if (typeof v !== 'string' || !putIpv6(v, this.buf, p)) throw badValue(f, v, 'an IPv6 address');
        break;
      case T_DtSec: {
        const s = v instanceof Date ? Math.floor(v.getTime() / 1000) : v;
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s >= TWO32) throw badValue(f, v, 'Unix seconds (u32) or a Date');
        dv.setUint32(p, s);
        break;
      }
      case T_DtMilli: {
        const ms = v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v) : v;
        if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) throw badValue(f, v, 'Unix milliseconds or a Date');
        dv.setUint32(p, Math.floor(ms / TWO32));
        dv.setUint32(p + 4, ms >>> 0);
        break;
      }
      case T_DtMicro:
      case T_DtNano:
        this.writeNtp(f, v, p);
        break;
      case T_Str:
        if (typeof v !== 'string') throw badValue(f, v, 'a string');
        this.writeString(f, v, len);
        return;
      case T_Octets:
        if (!(v instanceof Uint8Array)) throw badValue(f, v, 'a Uint8Array');
        this.writeOctets(f, v, len);
        return;
    }
    this.pos = p + len;
  }

  private writeUnsignedSmall(f: TemplateField, v: IpfixInputValue, p: number, len: number): void {
    const n = typeof v === 'number' ? v : typeof v === 'bigint' && v >= 0n && v < 0x100000000n ? Number(v) : NaN;
    // (n >>> 0) === n holds exactly for integers in 0..2^32-1.
    if (n >>> 0 !== n || n >= U_LIMIT[len]!) {
      throw badValue(f, v, `an unsigned integer below 2^${8 * len}`);
    }
    if (len === 1) this.buf[p] = n;
    else if (len === 2) this.dv.setUint16(p, n);
    else if (len === 4) this.dv.setUint32(p, n);
    else {
      this.buf[p] = n >>> 16;
      this.dv.setUint16(p + 1, n & 0xffff);
    }
  }

  private writeUnsigned64(f: TemplateField, v: IpfixInputValue, p: number, len: number): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0 || (len < 7 && v >= 2 ** (8 * len))) {
        throw badValue(f, v, `an unsigned integer below 2^${8 * len}`);
      }
      if (len === 8) {
        this.dv.setUint32(p, Math.floor(v / TWO32));
        this.dv.setUint32(p + 4, v >>> 0);
        return;
      }
      this.writeBigEndian(BigInt(v), p, len);
      return;
    }
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX[len]!) {
      throw badValue(f, v, `an unsigned integer (bigint) below 2^${8 * len}`);
    }
    if (len === 8) this.dv.setBigUint64(p, v);
    else this.writeBigEndian(v, p, len);
  }

  private writeSigned(f: TemplateField, v: IpfixInputValue, p: number, len: number): void {
    const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
    const lim = 1n << BigInt(8 * len - 1);
    if (b === undefined || b < -lim || b >= lim) throw badValue(f, v, `a signed integer of ${len} octets`);
    this.writeBigEndian(BigInt.asUintN(8 * len, b), p, len);
  }

  private writeBigEndian(v: bigint, p: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.buf[p + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }

  private writeNtp(f: TemplateField, v: IpfixInputValue, p: number): void {
    const micro = f.code === T_DtMicro;
    let units: bigint;
    if (v instanceof Date) units = BigInt(v.getTime()) * (micro ? 1000n : 1000000n);
    else if (typeof v === 'bigint') units = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) units = BigInt(v);
    else throw badValue(f, v, `Unix ${micro ? 'micro' : 'nano'}seconds (bigint) or a Date`);
    const per = micro ? 1000000n : 1000000000n;
    const secs = units / per + NTP_UNIX_OFFSET;
    const rem = units % per;
    if (units < 0n || secs >= 0x100000000n) throw badValue(f, v, 'a time inside NTP era 0 (1970..2036)');
    // Microsecond timestamps ignore the low 11 fraction bits (RFC 7011 6.1.9), so round to 2^-21 s there.
    const frac = micro ? ((rem << 21n) + per / 2n) / per << 11n : ((rem << 32n) + per / 2n) / per;
    this.dv.setUint32(p, Number(secs));
    this.dv.setUint32(p + 4, Number(frac > 0xffffffffn ? 0xffffffffn : frac));
  }

  private writeString(f: TemplateField, s: string, len: number): void {
    const buf = this.buf;
    if (len !== VARLEN) {
      const n = Buffer.byteLength(s, 'utf8');
      if (n > len) throw badValue(f, s, `a string of at most ${len} UTF-8 octets`);
      buf.write(s, this.pos, 'utf8');
      buf.fill(0, this.pos + n, this.pos + len);
      this.pos += len;
      return;
    }
    const p = this.pos;
    // Short ASCII strings are the common case (names, namespaces): copy the char codes, no byteLength pass.
    if (s.length < 255) {
      this.ensure(1 + s.length);
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p + 1 + i] = c;
      }
      if (i === s.length) {
        buf[p] = i;
        this.pos = p + 1 + i;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 0xffff) throw badValue(f, `${s.slice(0, 20)}...`, 'a string of at most 65535 UTF-8 octets');
    if (n < 255) {
      this.ensure(1 + n);
      buf[p] = n;
      buf.write(s, p + 1, 'utf8');
      this.pos = p + 1 + n;
    } else {
      this.ensure(3 + n);
      buf[p] = 255;
      this.dv.setUint16(p + 1, n);
      buf.write(s, p + 3, 'utf8');
      this.pos = p + 3 + n;
    }
  }

  private writeOctets(f: TemplateField, v: Uint8Array, len: number): void {
    const p = this.pos;
    if (len !== VARLEN) {
      if (v.length !== len) throw badValue(f, `${v.length} octets`, `exactly ${len} octets`);
      this.buf.set(v, p);
      this.pos = p + len;
      return;
    }
    if (v.length > 0xffff) throw badValue(f, `${v.length} octets`, 'at most 65535 octets');
    if (v.length < 255) {
      this.ensure(1 + v.length);
      this.buf[p] = v.length;
      this.buf.set(v, p + 1);
      this.pos = p + 1 + v.length;
    } else {
      this.ensure(3 + v.length);
      this.buf[p] = 255;
      this.dv.setUint16(p + 1, v.length);
      this.buf.set(v, p + 3);
      this.pos = p + 3 + v.length;
    }
  }
}

function badValue(f: TemplateField, v: unknown, want: string): IpfixError {
  const shown = typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v);
  return new IpfixError('ERR_IPFIX_BAD_VALUE', `field ${f.ie.name} (${f.ie.type}, ${f.length === VARLEN ? 'variable' : f.length} octets): ${shown} is not ${want}`, {
    field: f.ie.name,
  });
}
