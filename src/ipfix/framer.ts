import { IpfixError } from './errors.js';
import { IPFIX_VERSION, MESSAGE_HEADER_LENGTH } from './encoder.js';

/**
 * Cuts a TCP byte stream into IPFIX messages by their length field (RFC 7011 section 10.4.1), across partial
 * reads and with several messages per chunk. Holds at most one incomplete message (< 64 KiB). A bad version or a
 * length below 16 means the stream has lost its framing: push() throws and the connection must be dropped.
 */
export class MessageFramer {
  private pending: Buffer | null = null;

  /** Calls `onMessage` with each complete message in order; the buffer is only valid during the call. */
  push(chunk: Buffer, onMessage: (msg: Buffer) => void): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    while (buf.length - off >= 4) {
      const version = buf.readUInt16BE(off);
      const len = buf.readUInt16BE(off + 2);
      if (version !== IPFIX_VERSION) {
        throw new IpfixError('ERR_IPFIX_BAD_VERSION', `stream lost its framing: message version ${version} at stream offset ${off}`);
      }
      if (len < MESSAGE_HEADER_LENGTH) {
        throw new IpfixError('ERR_IPFIX_BAD_LENGTH', `stream lost its framing: message length ${len} is below 16`);
      }
      if (buf.length - off < len) break;
      onMessage(buf.subarray(off, off + len));
      off += len;
    }
    // Copy the tail so a large chunk is not kept alive by a few leftover octets.
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }

  /** Octets of an incomplete message held back. */
  get pendingLength(): number {
    return this.pending?.length ?? 0;
  }
}
