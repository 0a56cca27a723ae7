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

// Decompression hints (docs/protocol.md §4.5): the inverse square root a
// decode needs, shipped with the element and checked (h²·w = 1, h canonical
// and non-negative) instead of computed; the rest of RFC 9496 §4.3.1 is
// made as in Point.fromBytes, so the same encodings give the same points.
const Fp = Point.Fp;
const P_ = Fp.ORDER;
/** Edwards d = −121665/121666 mod p. */
export const ED_D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
export const HINT_SIZE = 32;

const leNumber = (b) => {
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
};

// RFC 9496 §4.3.1 up to the inverse square root: {s, u1, u2, v, w} or null.
function hintPre(b) {
  const s = leNumber(b);
  if (s >= P_ || Fp.isOdd(s)) return null;
  const ss = Fp.sqr(s);
  const u1 = Fp.sub(1n, ss);
  const u2 = Fp.add(1n, ss);
  const u2sq = Fp.sqr(u2);
  const v = Fp.sub(Fp.neg(Fp.mul(ED_D, Fp.sqr(u1))), u2sq);
  return { s, u1, u2, v, w: Fp.mul(v, u2sq) };
}

function decodeHinted(b, hb) {
  const pre = hintPre(b);
  if (!pre || hb.length !== HINT_SIZE) return null;
  const h = leNumber(hb);
  if (h >= P_ || Fp.isOdd(h) || Fp.mul(Fp.sqr(h), pre.w) !== 1n) return null;
  const dx = Fp.mul(h, pre.u2);
  const dy = Fp.mul(Fp.mul(h, dx), pre.v);
  let x = Fp.mul(Fp.add(pre.s, pre.s), dx);
  if (Fp.isOdd(x)) x = Fp.neg(x);
  const y = Fp.mul(pre.u1, dy);
  if (Fp.isOdd(Fp.mul(x, y)) || y === 0n) return null;
  return Point.fromAffine({ x, y });
}

/**
 * decodeElement with a decompression hint h (32 bytes): the same elements
 * accepted and refused; a valid element with a wrong hint throws an Error
 * whose .kind is 'hint'.
 */
export function decodeElementHinted(b, h, allowIdentity = false) {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new Error('eballot: element must be 32 bytes');
  if (!allowIdentity && b.every((x) => x === 0)) throw new Error('eballot: identity element');
  const P = decodeHinted(b, h);
  if (P) return P;
  decodeElement(b, allowIdentity); // a bad element is named as such
  throw Object.assign(new Error('eballot: wrong decompression hint'), { kind: 'hint' });
}

/** The hint of a valid element encoding (the exporter's side; tests). */
export function elementHint(b) {
  decodeElement(b, true);
  const { w } = hintPre(b);
  // 1/w is a square for a valid element: h = w^((p−5)/8)·w^3… via noble's sqrt of 1/w.
  let h = Fp.sqrt(Fp.inv(w));
  if (Fp.isOdd(h)) h = Fp.neg(h);
  const out = new Uint8Array(32);
  for (let i = 0, v = h; i < 32; i++, v >>= 8n) out[i] = Number(v & 255n);
  return out;
}

/**
 * A decoder of the successive elements of one encoding: with hints (the
 * concatenated 32-byte hints of every element, in order) or without (null).
 */
export function elementDecoder(hints) {
  if (!hints) return decodeElement;
  let i = 0;
  return (b, allowIdentity = false) => {
    const h = hints.subarray(i * HINT_SIZE, (i + 1) * HINT_SIZE);
    i++;
    return decodeElementHinted(b, h, allowIdentity);
  };
}

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
