import { formatIpv4, formatIpv6, formatMac } from './addr.js';
import { IpfixError } from './errors.js';
import {
  IPFIX_VERSION,
  MESSAGE_HEADER_LENGTH,
  OPTIONS_TEMPLATE_SET_ID,
  SET_HEADER_LENGTH,
  TEMPLATE_SET_ID,
} from './encoder.js';
import { defaultRegistry, type IeRegistry } from './registry.js';
import { makeTemplate, MIN_TEMPLATE_ID, type Template, type TemplateField } from './template.js';
import { isValidLength, typeCodes, TypeCode, VARIABLE_LENGTH, type IpfixRecord } from './types.js';

// Module-local copies of the type codes and helpers used per field (see TypeCode for why).
const {
  U8: T_U8, U16: T_U16, U32: T_U32, U64: T_U64, S8: T_S8, S16: T_S16, S32: T_S32, S64: T_S64, F32: T_F32, F64: T_F64,
  Bool: T_Bool, Mac: T_Mac, Octets: T_Octets, Str: T_Str, DtSec: T_DtSec, DtMilli: T_DtMilli, DtMicro: T_DtMicro,
  DtNano: T_DtNano, Ip4: T_Ip4, Ip6: T_Ip6,
} = TypeCode;
const VARLEN = VARIABLE_LENGTH;
const fmtIpv4 = formatIpv4;
const fmtIpv6 = formatIpv6;
const fmtMac = formatMac;

export interface MessageHeader {
  readonly version: number;
  readonly length: number;
  /** Seconds since the Unix epoch. */
  readonly exportTime: number;
  readonly sequenceNumber: number;
  readonly observationDomainId: number;
}

export interface DataRecord {
  readonly templateId: number;
  /** The template the record was decoded with (field types, for rendering). */
  readonly template: Template;
  /** True when the record came from an options template (set id 3). */
  readonly options: boolean;
  readonly fields: IpfixRecord;
}

export interface TemplateChange {
  readonly kind: 'added' | 'withdrawn';
  readonly templateId: number;
  readonly options: boolean;
  readonly template?: Template;
}

export interface SkippedSet {
  readonly setId: number;
  readonly length: number;
  readonly reason: 'unknown-template' | 'reserved-set-id';
}

export interface DecodedMessage {
  readonly header: MessageHeader;
  readonly records: DataRecord[];
  readonly templates: TemplateChange[];
  /** Data sets whose template this session does not know (yet), and sets with reserved ids; skipped, not fatal. */
  readonly skipped: SkippedSet[];
  /**
   * Data records missing between the previous message of this domain and this one (RFC 7011 sequence numbers);
   * 0 for the first message of a domain. Negative when a message arrives late or the exporter restarted.
   */
  readonly sequenceGap: number;
}

export interface DecoderOptions {
  registry?: IeRegistry;
  /** Templates kept per observation domain; a template beyond that is rejected. Default 4096. */
  maxTemplatesPerDomain?: number;
  /** Observation domains kept per session; default 1024. */
  maxDomains?: number;
  /**
   * Forget a template not (re)announced for this long (RFC 7011 section 8.4, for UDP where templates are
   * refreshed periodically); data for it is then skipped as for an unknown template. Default 0: never.
   */
  templateLifetimeMs?: number;
  /** Clock for template lifetimes, in milliseconds; default Date.now. */
  now?: () => number;
}

interface DomainState {
  readonly templates: Map<number, Template>;
  /** When each template was last announced (only kept with a template lifetime). */
  readonly announced: Map<number, number>;
  expectedSeq: number;
  seen: boolean;
}

const NTP_UNIX_OFFSET = 2208988800n;
const TWO32 = 0x100000000;

/** Reads the 16-octet message header; throws ERR_IPFIX_TRUNCATED or ERR_IPFIX_BAD_VERSION. */
export function readMessageHeader(buf: Uint8Array): MessageHeader {
  if (buf.length < MESSAGE_HEADER_LENGTH) {
    throw new IpfixError('ERR_IPFIX_TRUNCATED', `message of ${buf.length} octets is shorter than the 16-octet header`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint16(0);
  if (version !== IPFIX_VERSION) {
    throw new IpfixError('ERR_IPFIX_BAD_VERSION', `message version is ${version}, not 10`);
  }
  return {
    version,
    length: dv.getUint16(2),
    exportTime: dv.getUint32(4),
    sequenceNumber: dv.getUint32(8),
    observationDomainId: dv.getUint32(12),
  };
}

/**
 * The decoding state of one transport session: the templates each observation domain has announced, and the
 * sequence numbers seen. Use one decoder per UDP peer (address, port) or per TCP connection.
 *
 * `decode` either returns the whole message or throws an IpfixError and changes nothing: templates in a malformed
 * message are not kept. It never throws anything else, runs in time linear in the message length, and allocates at
 * most a constant factor of it.
 */
export class IpfixDecoder {
  private readonly registry: IeRegistry;
  private readonly maxTemplates: number;
  private readonly maxDomains: number;
  private readonly domains = new Map<number, DomainState>();
  private readonly lifetimeMs: number;
  private readonly now: () => number;

  constructor(opts: DecoderOptions = {}) {
    this.lifetimeMs = opts.templateLifetimeMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.registry = opts.registry ?? defaultRegistry;
    this.maxTemplates = opts.maxTemplatesPerDomain ?? 4096;
    this.maxDomains = opts.maxDomains ?? 1024;
  }

  /** The template `id` of `domain`, if known. */
  template(domain: number, id: number): Template | undefined {
    return this.domains.get(domain)?.templates.get(id);
  }

  templateCount(): number {
    let n = 0;
    for (const d of this.domains.values()) n += d.templates.size;
    return n;
  }

  /** Decodes exactly one message: `buf` must hold the message and nothing else (one UDP datagram). */
  decode(buf: Uint8Array): DecodedMessage {
    try {
      return this.decodeUnsafe(buf);
    } catch (err) {
      if (err instanceof IpfixError) throw err;
      // Defence in depth: a bug here must not escape as a RangeError and take a collector down.
      throw new IpfixError('ERR_IPFIX_INTERNAL', `malformed message: ${String(err)}`, { cause: err });
    }
  }

  private decodeUnsafe(buf: Uint8Array): DecodedMessage {
    const header = readMessageHeader(buf);
    if (header.length < MESSAGE_HEADER_LENGTH) {
      throw new IpfixError('ERR_IPFIX_BAD_LENGTH', `message length field ${header.length} is below 16`);
    }
    if (header.length > buf.length) {
      throw new IpfixError('ERR_IPFIX_TRUNCATED', `message length field says ${header.length} octets, got ${buf.length}`);
    }
    if (header.length < buf.length) {
      throw new IpfixError('ERR_IPFIX_BAD_LENGTH', `message length field says ${header.length} octets, got ${buf.length}`);
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, header.length);
    // Walk the set headers first, so a structurally broken message is rejected before anything is decoded.
    for (let p = MESSAGE_HEADER_LENGTH; p < header.length; ) {
      if (p + SET_HEADER_LENGTH > header.length) {
        throw new IpfixError('ERR_IPFIX_TRUNCATED', `set header at octet ${p} runs past the message end (${header.length})`);
      }
      const setLen = dv.getUint16(p + 2);
      if (setLen < SET_HEADER_LENGTH) {
        throw new IpfixError('ERR_IPFIX_BAD_SET_LENGTH', `set at octet ${p} has length ${setLen}, below 4`);
      }
      if (p + setLen > header.length) {
        throw new IpfixError('ERR_IPFIX_BAD_SET_LENGTH', `set at octet ${p} of length ${setLen} runs past the message end (${header.length})`);
      }
      p += setLen;
    }

    const domainId = header.observationDomainId;
    const existing = this.domains.get(domainId);
    if (existing && this.lifetimeMs > 0) this.expireTemplates(existing);
    // Template changes are staged here and applied only if the whole message decodes.
    const staged = new Map<number, Template | null>();
    const lookup = (id: number): Template | undefined => {
      const s = staged.get(id);
      if (s !== undefined) return s ?? undefined;
      return existing?.templates.get(id);
    };
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const records: DataRecord[] = [];
    const templates: TemplateChange[] = [];
    const skipped: SkippedSet[] = [];

    for (let p = MESSAGE_HEADER_LENGTH; p < header.length; ) {
      const setId = dv.getUint16(p);
      const setLen = dv.getUint16(p + 2);
      const body = p + SET_HEADER_LENGTH;
      const end = p + setLen;
      if (setId === TEMPLATE_SET_ID || setId === OPTIONS_TEMPLATE_SET_ID) {
        this.readTemplateSet(dv, body, end, setId === OPTIONS_TEMPLATE_SET_ID, staged, existing, templates);
      } else if (setId >= MIN_TEMPLATE_ID) {
        const t = lookup(setId);
        if (t) readDataSet(b, dv, body, end, t, records);
        else skipped.push({ setId, length: setLen, reason: 'unknown-template' });
      } else {
        skipped.push({ setId, length: setLen, reason: 'reserved-set-id' });
      }
      p = end;
    }

    // Commit.
    let state = existing;
    if (!state) {
      if (this.domains.size >= this.maxDomains) {
        throw new IpfixError('ERR_IPFIX_TOO_MANY_TEMPLATES', `session already tracks ${this.maxDomains} observation domains`);
      }
      state = { templates: new Map(), announced: new Map(), expectedSeq: 0, seen: false };
    }
    if (staged.size > 0) {
      let count = state.templates.size;
      for (const [id, t] of staged) {
        const had = state.templates.has(id);
        if (t && !had) count++;
        if (!t && had) count--;
      }
      if (count > this.maxTemplates) {
        throw new IpfixError('ERR_IPFIX_TOO_MANY_TEMPLATES', `observation domain ${domainId} would hold ${count} templates, more than ${this.maxTemplates}`);
      }
      const at = this.lifetimeMs > 0 ? this.now() : 0;
      for (const [id, t] of staged) {
        if (t) {
          state.templates.set(id, t);
          if (at) state.announced.set(id, at);
        } else {
          state.templates.delete(id);
          state.announced.delete(id);
        }
      }
    }
    if (!existing) this.domains.set(domainId, state);
    const sequenceGap = state.seen ? (header.sequenceNumber - state.expectedSeq) | 0 : 0;
    state.seen = true;
    state.expectedSeq = (header.sequenceNumber + records.length) >>> 0;
    return { header, records, templates, skipped, sequenceGap };
  }

  private expireTemplates(state: DomainState): void {
    const oldest = this.now() - this.lifetimeMs;
    for (const [id, at] of state.announced) {
      if (at < oldest) {
        state.announced.delete(id);
        state.templates.delete(id);
      }
    }
  }

  private readTemplateSet(
    dv: DataView,
    p: number,
    end: number,
    options: boolean,
    staged: Map<number, Template | null>,
    existing: DomainState | undefined,
    changes: TemplateChange[],
  ): void {
    const setId = options ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID;
    // A record header needs 4 octets; anything shorter at the end is padding.
    while (end - p >= 4) {
      const id = dv.getUint16(p);
      const count = dv.getUint16(p + 2);
      p += 4;
      if (count === 0) {
        if (id === 0 && end - p < 4) break; // zero padding
        if (id === setId) {
          // Withdraws every template of this kind (data or options), known before or staged in this message.
          const ofKind = (t: Template) => (t.scopeFieldCount > 0) === options;
          for (const [tid, t] of existing?.templates ?? []) if (ofKind(t)) staged.set(tid, null);
          for (const [tid, t] of staged) if (t && ofKind(t)) staged.set(tid, null);
          changes.push({ kind: 'withdrawn', templateId: id, options });
          continue;
        }
        if (id < MIN_TEMPLATE_ID) throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template withdrawal for reserved id ${id}`);
        staged.set(id, null);
        changes.push({ kind: 'withdrawn', templateId: id, options });
        continue;
      }
      if (id < MIN_TEMPLATE_ID) throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template id ${id} is below 256`);
      let scope = 0;
      if (options) {
        if (end - p < 2) throw new IpfixError('ERR_IPFIX_TRUNCATED', `options template ${id}: scope field count runs past the set`);
        scope = dv.getUint16(p);
        p += 2;
        if (scope === 0 || scope > count) {
          throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `options template ${id}: scope field count ${scope} not in 1..${count}`);
        }
      }
      // Each field specifier takes at least 4 octets: a count the set cannot hold is rejected before allocating.
      if (count * 4 > end - p) {
        throw new IpfixError('ERR_IPFIX_TRUNCATED', `template ${id} announces ${count} fields but its set has ${end - p} octets left`);
      }
      const fields: TemplateField[] = new Array<TemplateField>(count);
      for (let i = 0; i < count; i++) {
        if (end - p < 4) throw new IpfixError('ERR_IPFIX_TRUNCATED', `template ${id}: field ${i} runs past the set`);
        let ieId = dv.getUint16(p);
        const length = dv.getUint16(p + 2);
        p += 4;
        let enterprise = 0;
        if (ieId & 0x8000) {
          if (end - p < 4) throw new IpfixError('ERR_IPFIX_TRUNCATED', `template ${id}: enterprise number of field ${i} runs past the set`);
          ieId &= 0x7fff;
          enterprise = dv.getUint32(p);
          p += 4;
        }
        const ie = this.registry.lookupOrUnknown(enterprise, ieId);
        if (!isValidLength(ie.type, length)) {
          throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template ${id}: field ${ie.name} has length ${length}, not valid for ${ie.type}`, {
            field: ie.name,
          });
        }
        fields[i] = { ie, length, code: typeCodes[ie.type] };
      }
      const t = makeTemplate(id, fields, scope);
      if (t.minRecordLength === 0) {
        throw new IpfixError('ERR_IPFIX_BAD_TEMPLATE', `template ${id}: every field has length 0, records would be empty`);
      }
      staged.set(id, t);
      changes.push({ kind: 'added', templateId: id, options, template: t });
    }
  }
}

function readDataSet(buf: Buffer, dv: DataView, p: number, end: number, t: Template, out: DataRecord[]): void {
  const options = t.scopeFieldCount > 0;
  const min = t.minRecordLength;
  const fields = t.fields;
  const n = fields.length;
  // Bytes left that cannot hold a record are padding (RFC 7011 section 3.3.1).
  const vals = scratchValues(n);
  while (end - p >= min && end > p) {
    for (let i = 0; i < n; i++) {
      const f = fields[i]!;
      let len = f.length;
      if (len === VARLEN) {
        if (p >= end) throw truncated(t, f);
        len = buf[p]!;
        p++;
        if (len === 255) {
          if (p + 2 > end) throw truncated(t, f);
          len = dv.getUint16(p);
          p += 2;
        }
      }
      if (p + len > end) throw truncated(t, f);
      vals[i] = readValue(buf, dv, p, len, f);
      p += len;
    }
    out.push({ templateId: t.id, template: t, options, fields: t.build(vals) });
  }
}

let scratch: IpfixRecord[string][] = [];
/** One reusable array for a record's values: the builder copies them into the record object. */
function scratchValues(n: number): IpfixRecord[string][] {
  if (scratch.length < n) scratch = new Array<IpfixRecord[string]>(n).fill(0);
  return scratch;
}

function truncated(t: Template, f: TemplateField): IpfixError {
  return new IpfixError('ERR_IPFIX_TRUNCATED', `template ${t.id}: field ${f.ie.name} runs past the end of its set`, {
    field: f.ie.name,
  });
}

function readValue(buf: Buffer, dv: DataView, p: number, len: number, f: TemplateField): IpfixRecord[string] {
  switch (f.code) {
    case T_U8:
    case T_U16:
    case T_U32:
      if (len === 1) return buf[p]!;
      if (len === 2) return dv.getUint16(p);
      if (len === 4) return dv.getUint32(p);
      return (buf[p]! << 16) | dv.getUint16(p + 1);
    case T_U64:
      if (len === 8) return dv.getBigUint64(p);
      return readUnsignedBig(buf, p, len);
    case T_S8:
      if (len === 1) return dv.getInt8(p);
      break;
    case T_S16:
      if (len === 2) return dv.getInt16(p);
      if (len === 1) return dv.getInt8(p);
      break;
    case T_S32:
      if (len === 4) return dv.getInt32(p);
      if (len === 2) return dv.getInt16(p);
      if (len === 1) return dv.getInt8(p);
      return Number(BigInt.asIntN(8 * len, readUnsignedBig(buf, p, len)));
    case T_S64:
      if (len === 8) return dv.getBigInt64(p);
      return BigInt.asIntN(8 * len, readUnsignedBig(buf, p, len));
    case T_F32:
      return dv.getFloat32(p);
    case T_F64:
      return len === 8 ? dv.getFloat64(p) : dv.getFloat32(p);
    case T_Bool:
      // RFC 7011 6.1.5: 1 is true, 2 is false; other values are not valid, read them as false.
      return buf[p] === 1;
    case T_Mac:
      return fmtMac(buf, p);
    case T_Ip4:
      return fmtIpv4(buf, p);
    case T_Ip6:
      return fmtIpv6(buf, p);
    case T_DtSec:
      return dv.getUint32(p);
    case T_DtMilli:
      return dv.getUint32(p) * TWO32 + dv.getUint32(p + 4);
    case T_DtMicro:
    case T_DtNano:
      return readNtp(dv, p, f.code === T_DtMicro);
    case T_Str:
      return readString(buf, p, len, f.length !== VARLEN);
    case T_Octets:
      return Buffer.from(buf.subarray(p, p + len));
  }
  return dv.getInt8(p); // unreachable for valid templates: signed lengths are checked against the type
}

function readUnsignedBig(buf: Uint8Array, p: number, len: number): bigint {
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(buf[p + i]!);
  return v;
}

function readNtp(dv: DataView, p: number, micro: boolean): bigint {
  const secs = BigInt(dv.getUint32(p)) - NTP_UNIX_OFFSET;
  let frac = BigInt(dv.getUint32(p + 4));
  if (micro) frac &= ~0x7ffn;
  const per = micro ? 1000000n : 1000000000n;
  return secs * per + ((frac * per + 0x80000000n) >> 32n);
}

function readString(buf: Buffer, p: number, len: number, fixed: boolean): string {
  let end = p + len;
  // Fixed-length string fields are zero-padded by their exporters.
  if (fixed) while (end > p && buf[end - 1] === 0) end--;
  // Short ASCII strings decode faster by hand than through the UTF-8 decoder.
  if (end - p <= 32) {
    let s = '';
    for (let i = p; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return buf.toString('utf8', p, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return buf.toString('utf8', p, end);
}
