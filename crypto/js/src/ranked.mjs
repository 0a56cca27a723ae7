// Ranked ballots (docs/protocol.md §9.1), as crypto/ranked does them: a
// ranking encrypted as B_j (position j in use) and R_c (candidate c's rank),
// with range proofs of every b_j and b_j − b_{j+1} and a width-1 proof of
// shuffle that (R_c) is a re-encrypted permutation of ((j+1)·B_j). Same
// bytes as Go; crypto/ranked verifies the ballots this module makes
// (crypto/ranked/js_interop_test.go).
//
// A contest is {manifestHash: Uint8Array(32), K: Point, index, styles,
// candidates, minRanked, maxRanked}.
import { Reader, concat, equalBytes, lp, u16, utf8 } from './bytes.mjs';
import { encrypt } from './elgamal.mjs';
import { G, decodeElement, encodeElement, mod, mulPublic, mulSecret, randomScalar } from './group.mjs';
import { BRANCH_SIZE, decodeRangeProof, proveRange, verifyRange } from './rangeproof.mjs';
import { decodeShuffleProof, listOf, proveShuffle, shuffleProofSize, verifyShuffle } from './shuffle.mjs';

export const RANKED_VERSION = 1;
export const MAX_CANDIDATES = 64;
export const RANKED_LABEL = 'eballot-v1/ranked';
export const OPTION_USED = 0x8000;
export const OPTION_STEP = 0x9000;
const CONTEXT_TAG = 'eballot-v1/ranked-ballot';

const fail = (kind, msg) => Object.assign(new Error(`eballot: ranked ballot: ${msg}`), { kind });

/** Validates a contest's parameters (crypto/ranked Contest.Check). */
export function checkContest(c) {
  if (!c || !c.K || !(c.manifestHash instanceof Uint8Array) || c.manifestHash.length !== 32) throw new Error('eballot: ranked contest: missing key or manifest hash');
  if (!Number.isInteger(c.styles) || c.styles < 1 || c.styles > 1 << 16) throw new Error('eballot: ranked contest: styles');
  if (!Number.isInteger(c.index) || c.index < 0 || c.index > 0xffff) throw new Error('eballot: ranked contest: index');
  const n = c.candidates;
  if (!Number.isInteger(n) || n < 2 || n > MAX_CANDIDATES) throw new Error(`eballot: ranked contest: ${n} candidates (need 2 to ${MAX_CANDIDATES})`);
  const { minRanked: lo, maxRanked: hi } = c;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 1 || lo > hi || hi > n) throw new Error('eballot: ranked contest: preference bounds');
}

/** A_j: the values b_j may take. */
const allowed = (c, j) => (j < c.minRanked ? [1] : j >= c.maxRanked ? [0] : [0, 1]);

/** Encoded size of a ballot of contest c. */
export function rankedBallotSize(c) {
  const n = c.candidates;
  let size = 39 + 2 * n * 64 + (n - 1) * 2 * BRANCH_SIZE + shuffleProofSize(n, 1);
  for (let j = 0; j < n; j++) size += allowed(c, j).length * BRANCH_SIZE;
  return size;
}

const ctxOf = (c, style, option) => ({ manifestHash: c.manifestHash, K: c.K, style, question: c.index, option });

function shuffleStatement(c, style) {
  const context = concat(lp(utf8(CONTEXT_TAG)), c.manifestHash, u16(style), u16(c.index), u16(c.candidates),
    u16(c.minRanked), u16(c.maxRanked));
  return { K: c.K, label: RANKED_LABEL, context };
}

const step = (a, b) => ({ alpha: a.alpha.subtract(b.alpha), beta: a.beta.subtract(b.beta) });

function positionInputs(used) {
  return listOf(used.map((u, j) => [{ alpha: mulPublic(u.alpha, BigInt(j + 1)), beta: mulPublic(u.beta, BigInt(j + 1)) }]));
}

/** ψ: ψ[c] = position of candidate c (unranked candidates after k, in candidate order). */
function positions(c, ranking) {
  const n = c.candidates;
  if (!Array.isArray(ranking) || ranking.length < c.minRanked || ranking.length > c.maxRanked) {
    throw fail('bad_choice', `rank between ${c.minRanked} and ${c.maxRanked} candidates`);
  }
  const psi = new Array(n).fill(-1);
  ranking.forEach((cand, p) => {
    if (!Number.isInteger(cand) || cand < 0 || cand >= n) throw fail('bad_choice', `no candidate ${cand}`);
    if (psi[cand] >= 0) throw fail('bad_choice', `candidate ${cand} ranked twice`);
    psi[cand] = p;
  });
  let next = ranking.length;
  for (let cand = 0; cand < n; cand++) if (psi[cand] < 0) psi[cand] = next++;
  return psi;
}

/**
 * Encrypts a ranking (candidate indices, most preferred first) for a ballot
 * of the given style. Returns {ballot, opening}: ballot = {style, used:
 * [{alpha, beta}], ranks: [{alpha, beta}], usedProofs, stepProofs,
 * shuffleProof} (encode with encodeRankedBallot); opening = {ranking,
 * usedNonces, rankNonces} (bigints: keep secret, reveal only to audit).
 */
export function encryptRanking(c, style, ranking) {
  checkContest(c);
  if (!Number.isInteger(style) || style < 0 || style >= c.styles) throw fail('bad_choice', 'style out of range');
  const psi = positions(c, ranking);
  const n = c.candidates;
  const k = ranking.length;
  const val = (j) => (j < k ? 1 : 0);
  const usedNonces = [];
  const used = [];
  const usedProofs = [];
  for (let j = 0; j < n; j++) {
    const nu = randomScalar();
    const ct = encrypt(c.K, val(j), nu);
    usedNonces.push(nu);
    used.push(ct);
    usedProofs.push(proveRange(ctxOf(c, style, OPTION_USED + j), allowed(c, j), ct, val(j), nu));
  }
  const stepProofs = [];
  for (let j = 0; j + 1 < n; j++) {
    stepProofs.push(proveRange(ctxOf(c, style, OPTION_STEP + j), [0, 1], step(used[j], used[j + 1]),
      val(j) - val(j + 1), mod(usedNonces[j] - usedNonces[j + 1])));
  }
  const inp = positionInputs(used);
  const rankNonces = Array.from({ length: n }, randomScalar);
  const ranks = psi.map((p, cand) => ({
    alpha: inp.alpha[p].add(mulSecret(G, rankNonces[cand])),
    beta: inp.beta[p].add(mulSecret(c.K, rankNonces[cand])),
  }));
  const out = listOf(ranks.map((r) => [r]));
  const shuffleProof = proveShuffle(shuffleStatement(c, style), inp, out, psi, rankNonces);
  return {
    ballot: { style, used, ranks, usedProofs, stepProofs, shuffleProof },
    opening: { ranking: ranking.slice(), usedNonces, rankNonces },
  };
}

const ctBytes = (ct) => concat(encodeElement(ct.alpha), encodeElement(ct.beta));

/** The canonical encoding of a ballot of contest c (§9.1). */
export function encodeRankedBallot(c, b) {
  return concat(Uint8Array.of(RANKED_VERSION), c.manifestHash, u16(b.style), u16(c.index), u16(c.candidates),
    ...b.used.map(ctBytes), ...b.ranks.map(ctBytes), ...b.usedProofs, ...b.stepProofs, b.shuffleProof);
}

/**
 * Strictly decodes a ranked ballot of contest c. Errors carry .kind
 * 'malformed' or 'wrong_manifest' (crypto/ranked ErrMalformed,
 * ErrWrongManifest). Proofs are decoded (canonical) but not verified.
 */
export function decodeRankedBallot(c, bytes) {
  checkContest(c);
  const n = c.candidates;
  if (!(bytes instanceof Uint8Array) || bytes.length < 39 || bytes[0] !== RANKED_VERSION) throw fail('malformed', 'header');
  if (!equalBytes(bytes.subarray(1, 33), c.manifestHash)) throw fail('wrong_manifest', 'for another manifest');
  const r = new Reader(bytes);
  r.bytes(33);
  const style = r.u16();
  if (style >= c.styles) throw fail('malformed', `style ${style} of ${c.styles}`);
  if (r.u16() !== c.index || r.u16() !== n) throw fail('malformed', 'contest or candidate count');
  if (bytes.length !== rankedBallotSize(c)) throw fail('malformed', `length ${bytes.length}, want ${rankedBallotSize(c)}`);
  const wrap = (what, f) => {
    try {
      return f();
    } catch (e) {
      throw fail('malformed', `${what}: ${e.message}`);
    }
  };
  const ct = (what) => wrap(what, () => {
    const b = r.bytes(64);
    return { alpha: decodeElement(b.subarray(0, 32)), beta: decodeElement(b.subarray(32), true) };
  });
  const used = Array.from({ length: n }, (_, j) => ct(`B_${j}`));
  const ranks = Array.from({ length: n }, (_, i) => ct(`R_${i}`));
  const usedBranches = [];
  const usedProofs = Array.from({ length: n }, (_, j) => {
    const m = allowed(c, j).length;
    const p = r.bytes(m * BRANCH_SIZE);
    usedBranches.push(wrap(`proof of B_${j}`, () => decodeRangeProof(p, m)));
    return p;
  });
  const stepBranches = [];
  const stepProofs = Array.from({ length: n - 1 }, (_, j) => {
    const p = r.bytes(2 * BRANCH_SIZE);
    stepBranches.push(wrap(`proof of step ${j}`, () => decodeRangeProof(p, 2)));
    return p;
  });
  const shuffleProof = r.bytes(shuffleProofSize(n, 1));
  r.done();
  const decoded = wrap('ranking proof', () => decodeShuffleProof(shuffleProof));
  return { style, used, ranks, usedProofs, stepProofs, shuffleProof, decoded, usedBranches, stepBranches };
}

/**
 * The range proofs of a ranked ballot, in the order verifyRankedBallot
 * checks them: [{ctx, V, ct, proof, branches?}], for a verifier that
 * checks many at once
 * (src/batch.mjs batchVerifyRanges). A step whose α is the identity is
 * left out (verifyRankedBallot names it).
 */
export function rankedRanges(c, b) {
  const n = c.candidates;
  const out = [];
  for (let j = 0; j < n; j++) {
    out.push({ ctx: ctxOf(c, b.style, OPTION_USED + j), V: allowed(c, j), ct: b.used[j], proof: b.usedProofs[j], branches: b.usedBranches?.[j] });
  }
  for (let j = 0; j + 1 < n; j++) {
    const d = step(b.used[j], b.used[j + 1]);
    if (d.alpha.is0()) continue;
    out.push({ ctx: ctxOf(c, b.style, OPTION_STEP + j), V: [0, 1], ct: d, proof: b.stepProofs[j], branches: b.stepBranches?.[j] });
  }
  return out;
}

/**
 * Verifies every proof of a ranked ballot (decoded, or just made by
 * encryptRanking). Returns null when the ballot proves a valid ranking,
 * else the name of the first proof that fails (crypto/ranked
 * ErrInvalidRanking names the same proofs). rangesChecked: the caller has
 * verified the range proofs of rankedRanges(c, b) already (in a batch).
 */
export function verifyRankedBallot(c, b, rangesChecked = false) {
  checkContest(c);
  const n = c.candidates;
  for (let j = 0; j < n && !rangesChecked; j++) {
    if (!verifyRange(ctxOf(c, b.style, OPTION_USED + j), allowed(c, j), b.used[j], b.usedProofs[j])) return `position ${j + 1} in use`;
  }
  for (let j = 0; j + 1 < n; j++) {
    const d = step(b.used[j], b.used[j + 1]);
    if (d.alpha.is0()) return `step ${j} has an identity α`;
    if (!rangesChecked && !verifyRange(ctxOf(c, b.style, OPTION_STEP + j), [0, 1], d, b.stepProofs[j])) return `positions ${j + 1} and ${j + 2} filled in order`;
  }
  let inp;
  let out;
  try {
    inp = positionInputs(b.used);
    out = listOf(b.ranks.map((x) => [x]));
  } catch {
    return 'ranks are not a permutation of the positions';
  }
  const p = b.decoded ?? decodeShuffleProof(b.shuffleProof);
  const bad = verifyShuffle(shuffleStatement(c, b.style), inp, out, p);
  return bad ? `ranks are not a permutation of the positions: check ${bad} fails` : null;
}

/**
 * Benaloh audit (§9.1): true when the opening (ranking, usedNonces,
 * rankNonces as bigints) reproduces the ballot's B_j and R_c.
 */
export function checkRankedAudit(c, b, opening) {
  checkContest(c);
  let psi;
  try {
    psi = positions(c, opening.ranking);
  } catch {
    return false;
  }
  const n = c.candidates;
  const k = opening.ranking.length;
  if (opening.usedNonces?.length !== n || opening.rankNonces?.length !== n) return false;
  const same = (x, y) => equalBytes(ctBytes(x), ctBytes(y));
  for (let j = 0; j < n; j++) {
    if (!same(encrypt(c.K, j < k ? 1 : 0, opening.usedNonces[j]), b.used[j])) return false;
  }
  for (let cand = 0; cand < n; cand++) {
    const p = psi[cand];
    const rank = p < k ? p + 1 : 0;
    const nonce = mod(BigInt(p + 1) * opening.usedNonces[p] + opening.rankNonces[cand]);
    if (!same(encrypt(c.K, rank, nonce), b.ranks[cand])) return false;
  }
  return true;
}
