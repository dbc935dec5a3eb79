/**
 * Address text <-> bytes without allocating on the hot path: the encoder writes straight into the message buffer
 * and the decoder builds the string from the bytes. Parsers return false on bad syntax so callers raise their own
 * typed error with the field name.
 */

export function writeIpv4(s: string, buf: Uint8Array, off: number): boolean {
  let part = 0;
  let digits = 0;
  let idx = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return false; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || idx >= 3) return false;
      buf[off + idx++] = part;
      part = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || idx !== 3) return false;
  buf[off + 3] = part;
  return true;
}

export function formatIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses RFC 4291 text (with `::` and a trailing dotted quad) into 16 bytes at `off`. */
export function writeIpv6(s: string, buf: Uint8Array, off: number): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === s.length) {
      buf.fill(0, off, off + 16);
      return true;
    }
  }
  while (i < s.length) {
    // A dotted quad may end the address.
    let j = i;
    let val = 0;
    let n = 0;
    while (j < s.length) {
      const h = hexVal(s.charCodeAt(j));
      if (h < 0) break;
      val = val * 16 + h;
      j++;
      n++;
    }
    if (j < s.length && s.charCodeAt(j) === 46) {
      const tmp = new Uint8Array(4);
      if (!writeIpv4(s.slice(i), tmp, 0)) return false;
      groups.push((tmp[0]! << 8) | tmp[1]!, (tmp[2]! << 8) | tmp[3]!);
      i = s.length;
      break;
    }
    if (n === 0 || n > 4) return false;
    groups.push(val);
    i = j;
    if (i === s.length) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < s.length && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
      if (i === s.length) break;
    } else if (i === s.length) {
      return false; // trailing single colon
    }
  }
  if (gap >= 0 ? groups.length > 7 : groups.length !== 8) return false;
  const fill = 8 - groups.length;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let v: number;
    if (gap >= 0 && k >= gap && k < gap + fill) v = 0;
    else v = groups[g++]!;
    buf[off + 2 * k] = v >> 8;
    buf[off + 2 * k + 1] = v & 0xff;
  }
  return true;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
export function formatIpv6(buf: Uint8Array, off: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let curStart = -1;
  let curLen = 0;
  for (let k = 0; k < 8; k++) {
    if (buf[off + 2 * k] === 0 && buf[off + 2 * k + 1] === 0) {
      if (curStart < 0) {
        curStart = k;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestLen = curLen;
        bestStart = curStart;
      }
    } else curStart = -1;
  }
  if (bestLen < 2) bestStart = -1;
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += '::';
      k += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += ((buf[off + 2 * k]! << 8) | buf[off + 2 * k + 1]!).toString(16);
  }
  return out;
}

export function writeMac(s: string, buf: Uint8Array, off: number): boolean {
  if (s.length !== 17) return false;
  for (let k = 0; k < 6; k++) {
    const hi = hexVal(s.charCodeAt(3 * k));
    const lo = hexVal(s.charCodeAt(3 * k + 1));
    if (hi < 0 || lo < 0) return false;
    if (k < 5) {
      const sep = s.charCodeAt(3 * k + 2);
      if (sep !== 58 && sep !== 45) return false;
    }
    buf[off + k] = (hi << 4) | lo;
  }
  return true;
}

const hex2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(buf: Uint8Array, off: number): string {
  return `${hex2[buf[off]!]}:${hex2[buf[off + 1]!]}:${hex2[buf[off + 2]!]}:${hex2[buf[off + 3]!]}:${hex2[buf[off + 4]!]}:${hex2[buf[off + 5]!]}`;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += hex2[bytes[i]!];
  return s;
}
