// Threshold decryption checks for the verifier page (docs/protocol.md §7):
// DLEQ proofs of partial decryptions, Lagrange combination, homomorphic
// sums and the check of a claimed count.
import { Reader, concat, equalBytes, fromHex, lp, u32 } from './bytes.mjs';
import { G, L, ZERO, decodeElement, decodeScalar, encodeElement, hashToScalar, mod, mulPublic, smallMul } from './group.mjs';
import { addCiphertexts } from './elgamal.mjs';
import { ballotCiphertexts } from './ballot.mjs';
import { parseStrictJSON } from './canonical.mjs';

export const DST_DLEQ = 'eballot-v1/dleq';
export const MAX_TRUSTEES = 32;
const MAX_ALPHAS = 1 << 14;

/** Public key material {threshold, election_key, public_keys:[hex…]} → {threshold, K, X:[Point]}. */
export function parsePublicKey(j) {
  const t = j.threshold;
  const X = j.public_keys.map((h) => decodeElement(fromHex(h, 32)));
  if (!Number.isInteger(t) || t < 1 || t > X.length || X.length > MAX_TRUSTEES) throw new Error('eballot: bad threshold parameters');
  return { threshold: t, K: decodeElement(fromHex(j.election_key, 32)), X };
}

/** Decodes a DLEQ proof A ‖ B ‖ z (96 bytes; canonical, A and B not identity). */
export function decodeDLEQ(b) {
  if (b.length !== 96) throw new Error('eballot: DLEQ proof must be 96 bytes');
  return { A: decodeElement(b.subarray(0, 32)), B: decodeElement(b.subarray(32, 64)), z: decodeScalar(b.subarray(64)) };
}

function dleqTranscript(mh, K, j, X, alpha, D, A, B) {
  return concat(lp(mh), lp(encodeElement(K)), u32(j), ...[X, alpha, D, A, B].map(encodeElement));
}

/** Checks log_G X_j = log_α D_j (proof {A, B, z}); true or false. */
export function verifyDLEQ(mh, K, j, X, alpha, D, pf) {
  const c = hashToScalar(DST_DLEQ, dleqTranscript(mh, K, j, X, alpha, D, pf.A, pf.B));
  return mulPublic(G, pf.z).equals(pf.A.add(mulPublic(X, c))) && mulPublic(alpha, pf.z).equals(pf.B.add(mulPublic(D, c)));
}

function partialOf(mh, trustee, items) {
  if (!Number.isInteger(trustee) || trustee < 1 || trustee > MAX_TRUSTEES) throw new Error('eballot: trustee index out of range');
  if (items.length === 0 || items.length > MAX_ALPHAS) throw new Error('eballot: bad number of decryptions');
  return {
    manifestHash: mh,
    trustee,
    D: items.map(([d]) => decodeElement(d)),
    proofs: items.map(([, p]) => decodeDLEQ(p)),
  };
}

/** Decodes a partial decryption: binary (0x01 0x04 …) or JSON (object or text), strictly. */
export function decodePartial(x) {
  if (x instanceof Uint8Array) {
    const r = new Reader(x);
    if (r.u8() !== 1 || r.u8() !== 4) throw new Error('eballot: not a version 1 partial');
    const mh = Uint8Array.from(r.bytes(32));
    const trustee = r.u16();
    const count = r.u32();
    if (count === 0 || count > MAX_ALPHAS || x.length - r.o !== count * 128) throw new Error('eballot: bad partial length');
    const items = [];
    for (let i = 0; i < count; i++) items.push([r.bytes(32), r.bytes(96)]);
    r.done();
    return partialOf(mh, trustee, items);
  }
  // One accepted form, as Go's Partial.UnmarshalJSON: exactly these
  // members, none missing, of their types.
  const j = typeof x === 'string' ? parseStrictJSON(x) : x;
  const exact = (o, keys, what) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error(`eballot: ${what} must be an object`);
    for (const k of Object.keys(o)) if (!keys.includes(k)) throw new Error(`eballot: unknown field ${k}`);
    for (const k of keys) if (!Object.hasOwn(o, k)) throw new Error(`eballot: missing field ${k}`);
  };
  exact(j, ['version', 'manifest_hash', 'trustee', 'decryptions'], 'a partial decryption');
  if (j.version !== 1) throw new Error('eballot: unsupported partial version');
  if (typeof j.manifest_hash !== 'string' || !Number.isSafeInteger(j.trustee) || !(j.decryptions === null || Array.isArray(j.decryptions))) {
    throw new Error('eballot: a member of the partial decryption has the wrong type');
  }
  const mh = fromHex(j.manifest_hash, 32);
  const ds = j.decryptions ?? [];
  for (const d of ds) {
    exact(d, ['d', 'proof'], 'a decryption');
    if (typeof d.d !== 'string' || typeof d.proof !== 'string') throw new Error('eballot: a decryption member is not a string');
  }
  return partialOf(mh, j.trustee, ds.map((d) => [fromHex(d.d, 32), fromHex(d.proof, 96)]));
}

/** Throws unless every DLEQ proof of partial p verifies for pub, manifest hash and α's (points). */
export function verifyPartial(pub, mh, alphas, p) {
  if (alphas.length === 0 || alphas.length > MAX_ALPHAS || alphas.some((a) => a.is0())) throw new Error('eballot: bad α list');
  if (!equalBytes(p.manifestHash, mh)) throw new Error('eballot: partial is for another manifest');
  if (p.trustee < 1 || p.trustee > pub.X.length) throw new Error('eballot: trustee out of range');
  if (p.D.length !== alphas.length) throw new Error('eballot: partial has the wrong number of decryptions');
  const X = pub.X[p.trustee - 1];
  alphas.forEach((a, i) => {
    if (!verifyDLEQ(mh, pub.K, p.trustee, X, a, p.D[i], p.proofs[i])) throw new Error(`eballot: partial ${p.trustee}: invalid DLEQ proof for ciphertext ${i}`);
  });
}

/** True when every DLEQ proof of partial p verifies (never throws). */
export function verifyPartialProofs(pub, mh, alphas, p) {
  try {
    verifyPartial(pub, mh, alphas, p);
    return true;
  } catch {
    return false;
  }
}

function inv(a) {
  // Fermat: a^(ℓ−2) mod ℓ.
  let r = 1n;
  let b = mod(a);
  for (let e = L - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % L;
    b = (b * b) % L;
  }
  return r;
}

/** λ_j = Π_{m≠j} m/(m−j) for each trustee index in S. */
export function lagrangeAtZero(S) {
  return S.map((j) => {
    let num = 1n;
    let den = 1n;
    for (const m of S) if (m !== j) { num = mod(num * BigInt(m)); den = mod(den * BigInt(m - j)); }
    return mod(num * inv(den));
  });
}

/**
 * Throws unless the trustees' public shares come from one sharing of the
 * election key (threshold.PublicKey.Consistent, check manifest.trustees):
 * interpolating X_1 … X_k gives K at 0 and X_j at every other j.
 */
export function trusteesConsistent(pub) {
  const k = pub.threshold;
  const S = Array.from({ length: k }, (_, i) => i + 1);
  const at = (x) => S.reduce((acc, j, a) => {
    let num = 1n;
    let den = 1n;
    for (const m of S) if (m !== j) { num = mod(num * BigInt(x - m)); den = mod(den * BigInt(j - m)); }
    return acc.add(mulPublic(pub.X[a], mod(num * inv(den))));
  }, ZERO);
  if (!at(0).equals(pub.K)) throw new Error("eballot: the trustees' public shares do not interpolate to the election key");
  for (let j = k + 1; j <= pub.X.length; j++) {
    if (!at(j).equals(pub.X[j - 1])) throw new Error(`eballot: trustee ${j}'s public share is not on the polynomial of the others`);
  }
}

/** Verifies ≥ threshold partials of distinct trustees and returns x·α for each α. */
export function combinePartials(pub, mh, alphas, partials) {
  if (partials.length < pub.threshold) throw new Error(`eballot: need ${pub.threshold} partials`);
  const seen = new Set();
  for (const p of partials) {
    verifyPartial(pub, mh, alphas, p);
    if (seen.has(p.trustee)) throw new Error(`eballot: trustee ${p.trustee} appears twice`);
    seen.add(p.trustee);
  }
  const lam = lagrangeAtZero(partials.map((p) => p.trustee));
  return alphas.map((_, i) => partials.reduce((acc, p, a) => acc.add(mulPublic(p.D[i], lam[a])), ZERO));
}

/** Homomorphic sums of decoded ballots (all of one style): sums[q][o] = {alpha, beta}. */
export function sumBallots(ballots) {
  const cts = ballots.map(ballotCiphertexts);
  return cts[0].map((q, qi) => q.map((_, oi) => addCiphertexts(cts.map((b) => b[qi][oi]))));
}

/** True when β − x·α = count·G. */
export const checkCount = (beta, xAlpha, count) => beta.subtract(xAlpha).equals(smallMul(count));

/**
 * The counts {yes, no} of a compact question's sum (§7, protocol 7):
 * β − x·α = (yes + B·no)·G with yes + no ≤ n (n the style's valid ballots,
 * n < B); baby steps a·G for a ≤ n, giant steps of B·G. null when none.
 */
export function decryptPair(beta, xAlpha, n, B) {
  if (!Number.isInteger(n) || n < 0 || n >= B) return null;
  const target = beta.subtract(xAlpha);
  const baby = new Map();
  let P = ZERO;
  for (let a = 0; a <= n; a++) {
    baby.set(P.toHex(), a);
    P = P.add(G);
  }
  const step = mulPublic(G, BigInt(B)).negate();
  let Q = target;
  for (let b = 0; b <= n; b++) {
    const a = baby.get(Q.toHex());
    if (a !== undefined && a + b <= n) return { yes: a, no: b };
    Q = Q.add(step);
  }
  return null;
}

/** m with m·G = β − x·α, 0 ≤ m ≤ max (baby-step giant-step), or -1. */
export function decryptCount(beta, xAlpha, max) {
  const target = beta.subtract(xAlpha);
  const n = Math.ceil(Math.sqrt(max + 1));
  const baby = new Map();
  let P = ZERO;
  for (let j = 0; j < n; j++) {
    baby.set(P.toHex(), j);
    P = P.add(G);
  }
  const step = mulPublic(G, BigInt(n)).negate();
  let Q = target;
  for (let i = 0; i <= n; i++) {
    const j = baby.get(Q.toHex());
    if (j !== undefined && i * n + j <= max) return i * n + j;
    Q = Q.add(step);
  }
  return -1;
}
