// Disjunctive Chaum–Pedersen range proof (docs/protocol.md §4.1).
// A proof that (α, β) encrypts v·G with v in a public list V, bound by a
// strong Fiat–Shamir transcript to the manifest, key, style, question and
// option. Encoding: n × (A_j ‖ B_j ‖ c_j ‖ z_j), 128 bytes a branch.
import { concat, lp, u16, u32 } from './bytes.mjs';
import {
  G, decodeElement, decodeScalar, encodeElement, encodeScalar, hashToScalar,
  mod, mulPublic, mulSecret, randomScalar, smallMul,
} from './group.mjs';

export const DST_RANGE = 'eballot-v1/range';
export const SUM_OPTION = 0xffff;
export const BRANCH_SIZE = 128;

/**
 * Transcript T. ctx = {manifestHash: Uint8Array(32), K: Point, style, question, option}.
 * branches = [{A, B}, …] in order.
 */
export function rangeTranscript(ctx, V, ct, branches) {
  return rangeTranscriptBytes(ctx, encodeElement(ctx.K), V, encodeElement(ct.alpha), encodeElement(ct.beta),
    branches.flatMap((br) => [encodeElement(br.A), encodeElement(br.B)]));
}

/**
 * The transcript T from encodings: Kb = K's, alpha and beta = the
 * ciphertext's, AB = [A_0, B_0, A_1, …] (a verifier that decoded them
 * strictly has them already: encoding is canonical).
 */
export function rangeTranscriptBytes(ctx, Kb, V, alpha, beta, AB) {
  const parts = [
    lp(ctx.manifestHash), lp(Kb),
    u16(ctx.style), u16(ctx.question), u16(ctx.option), u32(V.length),
  ];
  for (const v of V) parts.push(u32(v));
  parts.push(alpha, beta, ...AB);
  return concat(...parts);
}

/** V = [lo … hi]. */
export const rangeOf = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/**
 * Proves that ct = (r·G, v·G + r·K) with v = V[t]; returns the encoded proof.
 * r is the (bigint) nonce of ct.
 */
export function proveRange(ctx, V, ct, v, r) {
  const t = V.indexOf(v);
  if (t < 0) throw new Error('eballot: value not in the range of the proof');
  const K = ctx.K;
  const br = V.map((vj, j) => {
    if (j === t) return null;
    const c = randomScalar();
    const z = randomScalar();
    const A = mulSecret(G, z).subtract(mulPublic(ct.alpha, c));
    const B = mulSecret(K, z).subtract(mulPublic(ct.beta.subtract(smallMul(vj)), c));
    return { A, B, c, z };
  });
  const w = randomScalar();
  br[t] = { A: mulSecret(G, w), B: mulSecret(K, w) };
  const c = hashToScalar(DST_RANGE, rangeTranscript(ctx, V, ct, br));
  let cT = c; // c_t = c − Σ_{j≠t} c_j
  for (let j = 0; j < V.length; j++) if (j !== t) cT -= br[j].c;
  br[t].c = mod(cT);
  br[t].z = mod(w + br[t].c * mod(r));
  return encodeRangeProof(br);
}

export function encodeRangeProof(branches) {
  return concat(...branches.flatMap((b) => [encodeElement(b.A), encodeElement(b.B), encodeScalar(b.c), encodeScalar(b.z)]));
}

/**
 * Strictly decodes a proof of n branches (canonical elements, scalars < ℓ).
 * Commitments may be the identity (the protocol only rejects identity α).
 */
export function decodeRangeProof(bytes, n, dec = decodeElement) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== n * BRANCH_SIZE) {
    throw new Error(`eballot: range proof must be ${n * BRANCH_SIZE} bytes`);
  }
  const out = [];
  for (let j = 0; j < n; j++) {
    const o = j * BRANCH_SIZE;
    out.push({
      A: dec(bytes.subarray(o, o + 32), true),
      B: dec(bytes.subarray(o + 32, o + 64), true),
      c: decodeScalar(bytes.subarray(o + 64, o + 96)),
      z: decodeScalar(bytes.subarray(o + 96, o + 128)),
    });
  }
  return out;
}

/** Verifies an encoded range proof; returns true or false (never throws on bad input). */
export function verifyRange(ctx, V, ct, proofBytes) {
  let br;
  try {
    br = decodeRangeProof(proofBytes, V.length);
  } catch {
    return false;
  }
  if (V.length === 0) return false;
  const c = hashToScalar(DST_RANGE, rangeTranscript(ctx, V, ct, br));
  let sum = 0n;
  for (const b of br) sum += b.c;
  if (mod(sum) !== c) return false;
  for (let j = 0; j < V.length; j++) {
    const { A, B, c: cj, z } = br[j];
    if (!mulPublic(G, z).equals(A.add(mulPublic(ct.alpha, cj)))) return false;
    const rhs = B.add(mulPublic(ct.beta.subtract(smallMul(V[j])), cj));
    if (!mulPublic(ctx.K, z).equals(rhs)) return false;
  }
  return true;
}
