// Byte helpers: strict lowercase hex, concatenation, big-endian integers and
// the length prefix lp(x) of docs/protocol.md §2.

const HEX = '0123456789abcdef';

/** Lowercase hex of a byte array. */
export function toHex(b) {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15];
  return s;
}

/** Decodes lowercase hex (uppercase and odd length rejected); n ≥ 0 fixes the byte length. */
export function fromHex(s, n = -1) {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) {
    throw new Error('eballot: hex must be lowercase [0-9a-f] of even length');
  }
  if (n >= 0 && s.length !== 2 * n) throw new Error(`eballot: hex value must be ${n} bytes`);
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/** Concatenation of byte arrays. */
export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16(n) {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new Error('eballot: u16 out of range');
  return Uint8Array.of(n >> 8, n & 255);
}

export function u32(n) {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error('eballot: u32 out of range');
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** lp(x) = u32(len(x)) ‖ x. */
export function lp(x) {
  return concat(u32(x.length), x);
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export const utf8 = (s) => new TextEncoder().encode(s);

/** Standard padded base64 (strict: canonical, no whitespace). */
export function fromBase64(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new Error('eballot: invalid base64');
  }
  const bin = atob(s);
  const b = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
  if (toBase64(b) !== s) throw new Error('eballot: non-canonical base64');
  return b;
}

export function toBase64(b) {
  let bin = '';
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin);
}

/** Strict sequential reader over a byte array. */
export class Reader {
  constructor(b) {
    this.b = b;
    this.o = 0;
  }
  bytes(n) {
    if (this.o + n > this.b.length) throw new Error('eballot: truncated encoding');
    const v = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }
  u8() {
    return this.bytes(1)[0];
  }
  u16() {
    const v = this.bytes(2);
    return (v[0] << 8) | v[1];
  }
  u32() {
    const v = this.bytes(4);
    return ((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0;
  }
  done() {
    if (this.o !== this.b.length) throw new Error('eballot: trailing bytes');
  }
}
