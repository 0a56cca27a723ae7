// ristretto255 codecs and hashing (docs/protocol.md §2), over @noble/curves.
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { utf8 } from './bytes.mjs';

export const Point = ristretto255.Point;
export const G = Point.BASE;
export const ZERO = Point.ZERO;
/** ℓ, the prime order of the group. */
export const L = Point.Fn.ORDER;

export const mod = (a) => {
  const r = a % L;
  return r < 0n ? r + L : r;
};

/** Decodes a canonical 32-byte element; rejects the identity unless allowIdentity. */
export function decodeElement(b, allowIdentity = false) {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new Error('eballot: element must be 32 bytes');
  let P;
  try {
    P = Point.fromBytes(b);
  } catch {
    throw new Error('eballot: non-canonical element');
  }
  if (!allowIdentity && P.is0()) throw new Error('eballot: identity element');
  return P;
}

export const encodeElement = (P) => P.toBytes();

/** Decodes a canonical 32-byte little-endian scalar (< ℓ). */
export function decodeScalar(b) {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new Error('eballot: scalar must be 32 bytes');
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(b[i]);
  if (s >= L) throw new Error('eballot: non-canonical scalar');
  return s;
}

export function encodeScalar(s) {
  let v = mod(s);
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    b[i] = Number(v & 255n);
    v >>= 8n;
  }
  return b;
}

/** Uniform scalar: 64 bytes from crypto.getRandomValues reduced mod ℓ (never 0). */
export function randomScalar() {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(64));
    let s = 0n;
    for (let i = 63; i >= 0; i--) s = (s << 8n) | BigInt(b[i]);
    s %= L;
    b.fill(0);
    if (s !== 0n) return s;
  }
}

/** H_s(dst, msg): RFC 9380 expand_message_xmd(SHA-512), 64 bytes, mod ℓ. */
export const hashToScalar = (dst, msg) => ristretto255_hasher.hashToScalar(msg, { DST: utf8(dst) });

/** s·P for any scalar (0 allowed; variable time: public values only). */
export const mulPublic = (P, s) => (mod(s) === 0n ? ZERO : P.multiplyUnsafe(mod(s)));

/** s·P for secret s ≠ 0 (constant time). */
export const mulSecret = (P, s) => P.multiply(mod(s));

/** m·G for a small public integer m ≥ 0. */
export const smallMul = (m) => mulPublic(G, BigInt(m));
