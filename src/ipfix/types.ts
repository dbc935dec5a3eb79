/**
 * IPFIX abstract data types (RFC 7011 section 6.1) and the JavaScript values that stand for them.
 *
 * Decoded values (what a decoder returns, what an encoder accepts besides the alternatives noted):
 * - unsigned8/16/32, signed8/16/32: number
 * - unsigned64, signed64: bigint (the encoder also accepts a safe-integer number)
 * - float32, float64: number
 * - boolean: boolean (encoded 1 = true, 2 = false as RFC 7011 6.1.5 says)
 * - macAddress: string `aa:bb:cc:dd:ee:ff` (lower case)
 * - string: string (UTF-8 on the wire)
 * - octetArray: Uint8Array (a Buffer when decoded; it is a copy, never a view into the message)
 * - dateTimeSeconds: number, seconds since the Unix epoch
 * - dateTimeMilliseconds: number, milliseconds since the Unix epoch
 * - dateTimeMicroseconds: bigint, microseconds since the Unix epoch (NTP format on the wire)
 * - dateTimeNanoseconds: bigint, nanoseconds since the Unix epoch (NTP format on the wire)
 *   (the encoder accepts a Date for every dateTime type)
 * - ipv4Address: string `10.0.0.1`
 * - ipv6Address: string in RFC 5952 form, `fd00::1`
 */
export type IpfixDataType =
  | 'unsigned8'
  | 'unsigned16'
  | 'unsigned32'
  | 'unsigned64'
  | 'signed8'
  | 'signed16'
  | 'signed32'
  | 'signed64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'macAddress'
  | 'octetArray'
  | 'string'
  | 'dateTimeSeconds'
  | 'dateTimeMilliseconds'
  | 'dateTimeMicroseconds'
  | 'dateTimeNanoseconds'
  | 'ipv4Address'
  | 'ipv6Address';

export type IpfixValue = number | bigint | boolean | string | Uint8Array;
/** What the encoder accepts: the decoded forms plus Date for timestamps and numbers for 64-bit integers. */
export type IpfixInputValue = IpfixValue | Date;

/** A data record keyed by information element name. */
export type IpfixRecord = Record<string, IpfixValue>;

/** Field length that announces variable-length encoding (RFC 7011 section 7). */
export const VARIABLE_LENGTH = 0xffff;

/**
 * Small integer codes for the hot paths: a switch over these beats string comparison and per-field closures.
 * A plain object rather than an enum so hot modules can copy the codes into module constants (transpilers turn
 * cross-module enum and binding reads into getter calls). The numbers are not part of any wire format.
 */
export const TypeCode = {
  U8: 0, U16: 1, U32: 2, U64: 3, S8: 4, S16: 5, S32: 6, S64: 7, F32: 8, F64: 9, Bool: 10, Mac: 11, Octets: 12,
  Str: 13, DtSec: 14, DtMilli: 15, DtMicro: 16, DtNano: 17, Ip4: 18, Ip6: 19,
} as const;
export type TypeCode = (typeof TypeCode)[keyof typeof TypeCode];

export const typeCodes: Readonly<Record<IpfixDataType, TypeCode>> = {
  unsigned8: TypeCode.U8,
  unsigned16: TypeCode.U16,
  unsigned32: TypeCode.U32,
  unsigned64: TypeCode.U64,
  signed8: TypeCode.S8,
  signed16: TypeCode.S16,
  signed32: TypeCode.S32,
  signed64: TypeCode.S64,
  float32: TypeCode.F32,
  float64: TypeCode.F64,
  boolean: TypeCode.Bool,
  macAddress: TypeCode.Mac,
  octetArray: TypeCode.Octets,
  string: TypeCode.Str,
  dateTimeSeconds: TypeCode.DtSec,
  dateTimeMilliseconds: TypeCode.DtMilli,
  dateTimeMicroseconds: TypeCode.DtMicro,
  dateTimeNanoseconds: TypeCode.DtNano,
  ipv4Address: TypeCode.Ip4,
  ipv6Address: TypeCode.Ip6,
};

/** Natural encoded length of each type; 0xFFFF for the variable-length ones. */
export const defaultLength: Readonly<Record<IpfixDataType, number>> = {
  unsigned8: 1,
  unsigned16: 2,
  unsigned32: 4,
  unsigned64: 8,
  signed8: 1,
  signed16: 2,
  signed32: 4,
  signed64: 8,
  float32: 4,
  float64: 8,
  boolean: 1,
  macAddress: 6,
  octetArray: VARIABLE_LENGTH,
  string: VARIABLE_LENGTH,
  dateTimeSeconds: 4,
  dateTimeMilliseconds: 8,
  dateTimeMicroseconds: 8,
  dateTimeNanoseconds: 8,
  ipv4Address: 4,
  ipv6Address: 16,
};

/**
 * Whether `length` is a legal encoded length for `type`: the natural length, a reduced size (RFC 7011 6.2:
 * integers shrink to fewer octets, float64 to float32), any fixed length or 0xFFFF for string and octetArray.
 */
export function isValidLength(type: IpfixDataType, length: number): boolean {
  if (!Number.isInteger(length) || length < 0 || length > VARIABLE_LENGTH) return false;
  switch (type) {
    case 'octetArray':
    case 'string':
      return true;
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'unsigned64':
    case 'signed8': case 'signed16': case 'signed32': case 'signed64':
      return length >= 1 && length <= defaultLength[type];
    case 'float64':
      return length === 8 || length === 4;
    default:
      return length === defaultLength[type];
  }
}
