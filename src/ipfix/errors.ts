import { AntreaError, type ErrorDetails } from '../util/errors.js';

/**
 * Stable codes of every error the IPFIX library raises. Decoders raise only these, so a collector can count
 * malformed input per code and carry on.
 */
export type IpfixErrorCode =
  | 'ERR_IPFIX_TRUNCATED' // input ends before a header, set, record or field it announces
  | 'ERR_IPFIX_BAD_VERSION' // message version is not 10
  | 'ERR_IPFIX_BAD_LENGTH' // message length field disagrees with the bytes received
  | 'ERR_IPFIX_BAD_SET_LENGTH' // set length < 4 or past the end of the message
  | 'ERR_IPFIX_BAD_TEMPLATE' // template record that cannot be valid (id < 256, field lengths, counts)
  | 'ERR_IPFIX_TOO_MANY_TEMPLATES' // a session/domain asks to hold more templates than allowed
  | 'ERR_IPFIX_UNKNOWN_TEMPLATE' // the encoder was asked to use a template it does not have
  | 'ERR_IPFIX_UNKNOWN_IE' // an information element name or (enterprise, id) is not in the registry
  | 'ERR_IPFIX_MISSING_VALUE' // a record lacks a value for a template field
  | 'ERR_IPFIX_BAD_VALUE' // a value does not fit its field (type, range, reduced size, address syntax)
  | 'ERR_IPFIX_RECORD_TOO_LARGE' // a single record does not fit in one message of the configured size
  | 'ERR_IPFIX_BAD_OPTION' // an option given to a constructor is out of range
  | 'ERR_IPFIX_CLOSED' // the exporter or collector was used after close()
  | 'ERR_IPFIX_INTERNAL'; // a decoder bug caught before it escaped as another error type (tests assert none)

export class IpfixError extends AntreaError {
  declare readonly code: IpfixErrorCode;
  constructor(code: IpfixErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
    this.name = 'IpfixError';
  }
}

export function isIpfixError(err: unknown, code?: IpfixErrorCode): err is IpfixError {
  return err instanceof IpfixError && (code === undefined || err.code === code);
}
