// Batch verification of the range proofs of many ballots (docs/protocol.md
// §4.1; check entry.proof of §8.2).
//
// Every branch j of a range proof for (α, β) and value v_j says
//   z_j·G = A_j + c_j·α   and   z_j·K = B_j + c_j·(β − v_j·G).
// Instead of 4 scalar multiplications a branch, the verifier weighs every
// equation with a fresh random 128-bit r and checks that the weighted sum
// of all of them, over all ballots of a batch, is the identity: one
// multi-scalar multiplication (Pippenger's bucket method) of the α, β, A, B
// of every ballot. A batch with a false equation passes with probability
// ≤ 2^-128 (the weights are drawn after the proofs are fixed). When a batch
// fails, each of its ballots is verified alone, so the failing ones are
// named exactly. The Fiat–Shamir challenges (Σ c_j = H(T)) are checked per
// proof, as in verifyRange.
import { COMPACT_OPTION, compactValues, electionKey, pointsOf, verifyBallot } from './ballot.mjs';
import { fromHex } from './bytes.mjs';
import { G, Point, ZERO, decodeElement, decodeScalar, encodeElement, hashToScalar, mod } from './group.mjs';
import { BRANCH_SIZE, DST_RANGE, SUM_OPTION, decodeRangeProof, rangeOf, rangeTranscriptBytes } from './rangeproof.mjs';

const L = Point.Fn.ORDER;

function weights(n) {
  const b = new Uint32Array(4 * n);
  for (let o = 0; o < b.length; o += 16384) crypto.getRandomValues(b.subarray(o, o + 16384));
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = (BigInt(b[4 * i]) << 96n) | (BigInt(b[4 * i + 1]) << 64n) | (BigInt(b[4 * i + 2]) << 32n) | BigInt(b[4 * i + 3]) | 1n;
  }
  return out;
}

/**
 * msm returns Σ s_i·P_i (P_i ristretto points, s_i in [0, ℓ)): Pippenger's
 * bucket method on the Edwards representatives; zero digits are skipped,
 * so short scalars cost less. Public inputs only (not constant-time).
 */
export function msm(points, scalars) {
  const n = points.length;
  if (n === 0) return ZERO;
  const c = n < 16 ? 2 : Math.min(16, Math.max(3, Math.floor(Math.log2(n)) - 2));
  const mask = BigInt((1 << c) - 1);
  const cb = BigInt(c);
  const eps = points.map((p) => p.ep);
  let maxBits = 0;
  for (const s of scalars) maxBits = Math.max(maxBits, s.toString(2).length);
  const windows = Math.ceil(maxBits / c);
  // digits[w][i]: the c-bit digit w of scalar i.
  const digits = Array.from({ length: windows }, () => new Uint32Array(n));
  for (let i = 0; i < n; i++) {
    let s = scalars[i];
    for (let w = 0; s > 0n; w++, s >>= cb) digits[w][i] = Number(s & mask);
  }
  let acc = null;
  const buckets = new Array(1 << c);
  for (let w = windows - 1; w >= 0; w--) {
    if (acc) for (let k = 0; k < c; k++) acc = acc.double();
    buckets.fill(null);
    const d = digits[w];
    for (let i = 0; i < n; i++) {
      const k = d[i];
      if (k) buckets[k] = buckets[k] ? buckets[k].add(eps[i]) : eps[i];
    }
    let run = null;
    let sum = null;
    for (let k = buckets.length - 1; k > 0; k--) {
      if (buckets[k]) run = run ? run.add(buckets[k]) : buckets[k];
      if (run) sum = sum ? sum.add(run) : run;
    }
    if (sum) acc = acc ? acc.add(sum) : sum;
  }
  return acc ? new Point(acc) : ZERO;
}

const neg = (x) => (x === 0n ? 0n : L - mod(x));

/**
 * Adds the weighted equations of ballot b to the batch t ({points, scalars,
 * g, k}) and returns its decoded ciphertexts cts[q][o] = {alpha, beta}, or
 * null when a proof fails outside the equations (a decoding, a challenge).
 */
function addBallot(manifest, mh, Kb, K, b, t) {
  const qs = manifest.questions;
  if (b.questions.length !== qs.length) return null;
  const known = pointsOf(b);
  const cts = [];
  let ri = 0;
  // Two equations a branch: 2 branches a selection, max − min + 1 in a sum.
  // A compact question: its one proof's branches (§4.2 version 3).
  const r = weights(2 * qs.reduce((a, q) => a + (q.method === 'compact' ? compactValues(q.min).length : 2 * q.options.length + Math.max(0, q.max - q.min + 1)), 0));
  // One proof: its branches' equations for the ciphertext whose α, β carry
  // coefficients into ac/bc (one entry per selection it sums).
  // known: the branches as decodeBallot decoded them (pointsOf), if any.
  const proof = (ctx, V, alphaB, betaB, proofBytes, known, ac, bc, idx) => {
    if (!(proofBytes instanceof Uint8Array) || proofBytes.length !== V.length * BRANCH_SIZE || V.length === 0) return false;
    if (known && known.length !== V.length) return false;
    const AB = [];
    const br = known ?? [];
    for (let j = 0; j < V.length; j++) {
      const o = j * BRANCH_SIZE;
      const Ab = proofBytes.subarray(o, o + 32);
      const Bb = proofBytes.subarray(o + 32, o + 64);
      if (!known) br.push({ A: decodeElement(Ab, true), B: decodeElement(Bb, true), c: decodeScalar(proofBytes.subarray(o + 64, o + 96)), z: decodeScalar(proofBytes.subarray(o + 96, o + 128)) });
      AB.push(Ab, Bb);
    }
    const c = hashToScalar(DST_RANGE, rangeTranscriptBytes(ctx, Kb, V, alphaB, betaB, AB));
    let sum = 0n;
    for (const x of br) sum += x.c;
    if (mod(sum) !== c) return false;
    for (let j = 0; j < V.length; j++) {
      const { A, B, c: cj, z } = br[j];
      const r1 = r[ri++];
      const r2 = r[ri++];
      // r1·(z·G − c·α − A) + r2·(z·K − c·β + c·v·G − B) = 0
      t.g += r1 * z + r2 * cj * BigInt(V[j]);
      t.k += r2 * z;
      for (const i of idx) { ac[i] += r1 * cj; bc[i] += r2 * cj; }
      t.points.push(A.negate(), B.negate());
      t.scalars.push(r1, r2);
    }
    return true;
  };
  for (let qi = 0; qi < qs.length; qi++) {
    const q = b.questions[qi];
    if ((qs[qi].method === 'compact') !== Boolean(q.compact)) return null;
    if (q.compact) {
      const k = known?.[qi].compact;
      const ct = k ? { alpha: k.alpha, beta: k.beta } : { alpha: decodeElement(q.compact.alpha), beta: decodeElement(q.compact.beta, true) };
      const ac = [0n];
      const bc = [0n];
      if (!proof({ manifestHash: mh, K, style: b.style, question: qi, option: COMPACT_OPTION }, compactValues(qs[qi].min), q.compact.alpha, q.compact.beta, q.compact.proof, k?.branches, ac, bc, [0])) return null;
      t.points.push(ct.alpha, ct.beta);
      t.scalars.push(neg(ac[0]), neg(bc[0]));
      cts.push([ct]);
      continue;
    }
    const no = qs[qi].options.length;
    if (q.selections.length !== no) return null;
    const ac = new Array(no).fill(0n);
    const bc = new Array(no).fill(0n);
    const row = [];
    let sa = ZERO;
    let sb = ZERO;
    for (let oi = 0; oi < no; oi++) {
      const s = q.selections[oi];
      const k = known?.[qi].selections[oi];
      const ct = k ? { alpha: k.alpha, beta: k.beta } : { alpha: decodeElement(s.alpha), beta: decodeElement(s.beta, true) };
      row.push(ct);
      sa = sa.add(ct.alpha);
      sb = sb.add(ct.beta);
      if (!proof({ manifestHash: mh, K, style: b.style, question: qi, option: oi }, [0, 1], s.alpha, s.beta, s.proof, k?.branches, ac, bc, [oi])) return null;
    }
    const V = rangeOf(qs[qi].min, qs[qi].max);
    const all = row.map((_, i) => i);
    if (!proof({ manifestHash: mh, K, style: b.style, question: qi, option: SUM_OPTION }, V, encodeElement(sa), encodeElement(sb), q.sumProof, known?.[qi].sum, ac, bc, all)) return null;
    for (let oi = 0; oi < no; oi++) {
      t.points.push(row[oi].alpha, row[oi].beta);
      t.scalars.push(neg(ac[oi]), neg(bc[oi]));
    }
    cts.push(row);
  }
  return cts;
}

/**
 * Verifies the proofs of many decoded ballots of one manifest at once.
 * Returns bad, the indices of the ballots whose proofs do not verify (in
 * order), and cts, each ballot's ciphertexts as points (null for a bad
 * one), for the caller's sums.
 */
export function batchVerifyBallots(manifest, manifestHash, ballots) {
  const K = electionKey(manifest);
  const Kb = fromHex(manifest.trustees.election_key, 32);
  const t = { points: [], scalars: [], g: 0n, k: 0n };
  const bad = [];
  const cts = ballots.map((b, i) => {
    let c = null;
    try {
      if (b.style >= 0 && b.style < manifest.styles.length && b.manifestHash.every((x, j) => x === manifestHash[j])) {
        c = addBallot(manifest, manifestHash, Kb, K, b, t);
      }
    } catch {
      c = null;
    }
    if (!c) bad.push(i);
    return c;
  });
  if (t.points.length === 0) return { bad, cts };
  t.points.push(G, K);
  t.scalars.push(mod(t.g), mod(t.k));
  if (msm(t.points, t.scalars.map(mod)).equals(ZERO)) return { bad, cts };
  // Some equation is false: find the ballots alone.
  const bad2 = [];
  ballots.forEach((b, i) => {
    if (!cts[i]) bad2.push(i);
    else if (!verifyBallot(manifest, manifestHash, b)) { bad2.push(i); cts[i] = null; }
  });
  return { bad: bad2, cts };
}

/**
 * Verifies many range proofs under one election key K at once (the ranked
 * ballots' proofs of §9.1, crypto/ranked): items = [{ctx, V, ct: {alpha,
 * beta}, proof (bytes), branches? (decodeRangeProof's, if decoded
 * already)}], each ctx under K. True when every proof verifies, as
 * verifyRange would say of each; false when any does not (the caller then
 * verifies them alone to name it), with probability ≤ 2^-128 of a false
 * equation passing.
 */
export function batchVerifyRanges(K, items) {
  const Kb = encodeElement(K);
  const points = [];
  const scalars = [];
  let g = 0n;
  let k = 0n;
  const r = weights(2 * items.reduce((a, it) => a + it.V.length, 0));
  let ri = 0;
  for (const { ctx, V, ct, proof, branches } of items) {
    if (V.length === 0 || !ctx.K.equals(K)) return false;
    let br = branches;
    try {
      br ??= decodeRangeProof(proof, V.length);
    } catch {
      return false;
    }
    if (br.length !== V.length || proof.length !== V.length * BRANCH_SIZE) return false;
    const AB = [];
    for (let j = 0; j < V.length; j++) AB.push(proof.subarray(j * BRANCH_SIZE, j * BRANCH_SIZE + 32), proof.subarray(j * BRANCH_SIZE + 32, j * BRANCH_SIZE + 64));
    const c = hashToScalar(DST_RANGE, rangeTranscriptBytes(ctx, Kb, V, encodeElement(ct.alpha), encodeElement(ct.beta), AB));
    let sum = 0n;
    for (const x of br) sum += x.c;
    if (mod(sum) !== c) return false;
    let ac = 0n;
    let bc = 0n;
    for (let j = 0; j < V.length; j++) {
      const { A, B, c: cj, z } = br[j];
      const r1 = r[ri++];
      const r2 = r[ri++];
      // r1·(z·G − c·α − A) + r2·(z·K − c·β + c·v·G − B) = 0
      g += r1 * z + r2 * cj * BigInt(V[j]);
      k += r2 * z;
      ac += r1 * cj;
      bc += r2 * cj;
      points.push(A.negate(), B.negate());
      scalars.push(r1, r2);
    }
    points.push(ct.alpha, ct.beta);
    scalars.push(neg(ac), neg(bc));
  }
  if (points.length === 0) return true;
  points.push(G, K);
  scalars.push(mod(g), mod(k));
  return msm(points, scalars.map(mod)).equals(ZERO);
}
