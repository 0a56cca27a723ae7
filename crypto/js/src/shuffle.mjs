// Proof of shuffle (Terelius–Wikström) over ristretto255, docs/protocol.md
// §9.2–9.4, as crypto/shuffle does it: the independent generators, the
// prover (a ranked ballot proves its ranking with a width-1 shuffle, §9.1)
// and the verifier. A list is {n, w, alpha: Point[n·w], beta: Point[n·w],
// enc: Uint8Array(64·n·w)} row-major (§9.3 without its header).
import { sha256 } from '@noble/hashes/sha2.js';
import { ristretto255_hasher } from '@noble/curves/ed25519.js';
import { concat, lp, u16, u32, utf8 } from './bytes.mjs';
import {
  G, ZERO, decodeElement, decodeScalar, encodeElement, encodeScalar, hashToScalar, mod, mulPublic, mulSecret, randomScalar,
} from './group.mjs';

export const DST_GENERATOR = 'eballot-v1/shuffle/generator';
export const TAG_STATEMENT = 'eballot-v1/shuffle/statement';
export const TAG_U = 'eballot-v1/shuffle/u';
export const DST_CHALLENGE = 'eballot-v1/shuffle/challenge';
export const MAX_CONTEXT = 1024;
export const MAX_ROWS = 1 << 22;
export const MAX_WIDTH = 64;
const CHAIN_INDEX = 0xffffffff;
const HEADER = 8;

/** Encoded size of a proof of N rows of width w: 8 + 32·(5N + 3w + 6). */
export const shuffleProofSize = (n, w) => HEADER + 32 * (5 * n + 3 * w + 6);

/** Generator(label, i) = H_G("eballot-v1/shuffle/generator", lp(label) ‖ u32 i) (§9.2). */
export function generator(label, i) {
  return ristretto255_hasher.hashToCurve(concat(lp(utf8(label)), u32(i)), { DST: utf8(DST_GENERATOR) });
}

const genCache = new Map(); // label → {H, gs: Point[]}

function generators(label, n) {
  let set = genCache.get(label);
  if (!set) {
    set = { H: generator(label, CHAIN_INDEX), gs: [] };
    if (genCache.size > 8) genCache.clear();
    genCache.set(label, set);
  }
  while (set.gs.length < n) set.gs.push(generator(label, set.gs.length));
  return { H: set.H, gs: set.gs.slice(0, n) };
}

/** A list from rows of {alpha, beta} points (every row of the same width). */
export function listOf(rows) {
  const n = rows.length;
  if (n < 1 || n > MAX_ROWS) throw new Error('eballot: shuffle list rows out of range');
  const w = rows[0].length;
  if (w < 1 || w > MAX_WIDTH) throw new Error('eballot: shuffle list width out of range');
  const alpha = [];
  const beta = [];
  const parts = [];
  for (const row of rows) {
    if (row.length !== w) throw new Error('eballot: shuffle list rows of different widths');
    for (const ct of row) {
      if (ct.alpha.is0()) throw new Error('eballot: identity α in a shuffle list');
      alpha.push(ct.alpha);
      beta.push(ct.beta);
      parts.push(encodeElement(ct.alpha), encodeElement(ct.beta));
    }
  }
  return { n, w, alpha, beta, enc: concat(...parts) };
}

/** Strictly decodes a list (§9.3): header, bounds, exact length, canonical elements, no identity α. */
export function parseList(b) {
  if (!(b instanceof Uint8Array) || b.length < HEADER || b[0] !== 1 || b[1] !== 1) throw new Error('eballot: list header');
  const n = ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0;
  const w = (b[6] << 8) | b[7];
  if (n < 1 || n > MAX_ROWS || w < 1 || w > MAX_WIDTH) throw new Error('eballot: list shape');
  if (b.length - HEADER !== n * w * 64) throw new Error('eballot: list length');
  const enc = b.slice(HEADER);
  const alpha = [];
  const beta = [];
  for (let x = 0; x < n * w; x++) {
    alpha.push(decodeElement(enc.subarray(64 * x, 64 * x + 32)));
    beta.push(decodeElement(enc.subarray(64 * x + 32, 64 * x + 64), true));
  }
  return { n, w, alpha, beta, enc };
}

function checkStatement(st) {
  const lb = utf8(st.label);
  if (lb.length < 1 || lb.length > 255) throw new Error('eballot: shuffle label must be 1 to 255 bytes');
  if (st.context.length > MAX_CONTEXT) throw new Error('eballot: shuffle context too long');
}

function statementHash(st, inp, out) {
  return sha256(concat(lp(utf8(TAG_STATEMENT)), lp(utf8(st.label)), lp(st.context), encodeElement(st.K),
    u32(inp.n), u16(inp.w), inp.enc, out.enc));
}

const leScalar = (b) => {
  let s = 0n;
  for (let i = b.length - 1; i >= 0; i--) s = (s << 8n) | BigInt(b[i]);
  return s;
};

function uChallenges(hStmt, cEnc, n) {
  const hu = sha256(concat(lp(utf8(TAG_U)), hStmt, cEnc));
  const u = [];
  for (let j = 0; j < n; j++) u.push(leScalar(sha256(concat(hu, u32(j))).subarray(0, 16)));
  return { hu, u };
}

const encodeAll = (ps) => concat(...ps.map(encodeElement));

/**
 * Proves that out is inp permuted by psi (output row i = input row psi[i])
 * and re-encrypted in column k with nonce rho[i·w + k] (bigints) under
 * st = {K, label, context: Uint8Array}. Returns the encoded proof (§9.4).
 * The secrets (psi, rho) are multiplied in constant time; the placement of
 * rows follows psi in memory (as in crypto/shuffle).
 */
export function proveShuffle(st, inp, out, psi, rho) {
  checkStatement(st);
  const { n, w } = inp;
  if (out.n !== n || out.w !== w || psi.length !== n || rho.length !== n * w) throw new Error('eballot: shuffle shape');
  const { H, gs } = generators(st.label, n);
  const { K } = st;
  const inv = new Array(n);
  psi.forEach((j, i) => { inv[j] = i; });
  const r = Array.from({ length: n }, randomScalar);
  const C = r.map((rj, j) => mulSecret(G, rj).add(gs[inv[j]]));
  const cEnc = encodeAll(C);
  const { hu, u } = uChallenges(statementHash(st, inp, out), cEnc, n);
  const up = psi.map((j) => u[j]);
  const rhat = Array.from({ length: n }, randomScalar);
  const chat = [];
  let prev = H;
  for (let i = 0; i < n; i++) {
    prev = mulSecret(G, rhat[i]).add(mulSecret(prev, up[i]));
    chat.push(prev);
  }
  const om1 = randomScalar();
  const om2 = randomScalar();
  const om3 = randomScalar();
  const om4 = Array.from({ length: w }, randomScalar);
  const omhat = Array.from({ length: n }, randomScalar);
  const omp = Array.from({ length: n }, randomScalar);
  const t1 = mulSecret(G, om1);
  const t2 = mulSecret(G, om2);
  let t3 = mulSecret(G, om3);
  for (let i = 0; i < n; i++) t3 = t3.add(mulSecret(gs[i], omp[i]));
  const t4a = [];
  const t4b = [];
  for (let k = 0; k < w; k++) {
    let a = mulSecret(G, om4[k]).negate();
    let b = mulSecret(K, om4[k]).negate();
    for (let i = 0; i < n; i++) {
      a = a.add(mulSecret(out.alpha[i * w + k], omp[i]));
      b = b.add(mulSecret(out.beta[i * w + k], omp[i]));
    }
    t4a.push(a);
    t4b.push(b);
  }
  const that = omhat.map((oh, i) => mulSecret(G, oh).add(mulSecret(i === 0 ? H : chat[i - 1], omp[i])));
  const rest = encodeAll([...chat, t1, t2, t3, ...t4a, ...t4b, ...that]);
  const c = hashToScalar(DST_CHALLENGE, concat(hu, rest));
  let Rhat = 0n; // Σ_i r̂_i·Π_{l>i} u'_l, by Horner
  for (let i = 0; i < n; i++) Rhat = mod(Rhat * up[i] + rhat[i]);
  const s1 = mod(om1 + c * mod(r.reduce((a, b) => a + b, 0n)));
  const s2 = mod(om2 + c * Rhat);
  const s3 = mod(om3 + c * mod(r.reduce((a, rj, j) => a + rj * u[j], 0n)));
  const s4 = om4.map((o, k) => {
    let sum = 0n;
    for (let i = 0; i < n; i++) sum += up[i] * rho[i * w + k];
    return mod(o + c * mod(sum));
  });
  const shat = omhat.map((o, i) => mod(o + c * rhat[i]));
  const sp = omp.map((o, i) => mod(o + c * up[i]));
  const header = Uint8Array.of(1, 2, ...u32(n), ...u16(w));
  return concat(header, cEnc, rest, ...[s1, s2, s3, ...s4, ...shat, ...sp].map(encodeScalar));
}

/** Strictly decodes an encoded proof (canonical elements and scalars, exact length). */
export function decodeShuffleProof(b) {
  if (!(b instanceof Uint8Array) || b.length < HEADER || b[0] !== 1 || b[1] !== 2) throw new Error('eballot: shuffle proof header');
  const n = ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0;
  const w = (b[6] << 8) | b[7];
  if (n < 1 || n > MAX_ROWS || w < 1 || w > MAX_WIDTH) throw new Error('eballot: shuffle proof shape');
  if (b.length !== shuffleProofSize(n, w)) throw new Error('eballot: shuffle proof length');
  let o = HEADER;
  const el = (m) => Array.from({ length: m }, () => { const P = decodeElement(b.subarray(o, o + 32), true); o += 32; return P; });
  const sc = (m) => Array.from({ length: m }, () => { const s = decodeScalar(b.subarray(o, o + 32)); o += 32; return s; });
  const p = { n, w, raw: b };
  p.C = el(n);
  p.chat = el(n);
  [p.t1, p.t2, p.t3] = el(3);
  p.t4a = el(w);
  p.t4b = el(w);
  p.that = el(n);
  [p.s1, p.s2, p.s3] = sc(3);
  p.s4 = sc(w);
  p.shat = sc(n);
  p.sp = sc(n);
  return p;
}

const msm = (scalars, points) => {
  let acc = ZERO;
  for (let i = 0; i < points.length; i++) acc = acc.add(mulPublic(points[i], scalars[i]));
  return acc;
};

/**
 * Verifies a decoded proof p that out is a re-encrypted permutation of inp
 * under st. Returns null when it holds, else the name of the first check
 * that fails ('shape', 't_1' … 't_4', 't̂'), as crypto/shuffle names them.
 */
export function verifyShuffle(st, inp, out, p) {
  checkStatement(st);
  const { n, w } = inp;
  if (out.n !== n || out.w !== w || p.n !== n || p.w !== w) return 'shape';
  const { H, gs } = generators(st.label, n);
  const { K } = st;
  const cEnc = p.raw.subarray(HEADER, HEADER + 32 * n);
  const rest = p.raw.subarray(HEADER + 32 * n, HEADER + 32 * (3 * n + 3 + 2 * w));
  const { hu, u } = uChallenges(statementHash(st, inp, out), cEnc, n);
  const c = hashToScalar(DST_CHALLENGE, concat(hu, rest));
  // t_1: s_1·G = t_1 + c·(Σ C_j − Σ G_i)
  let x = ZERO;
  for (let j = 0; j < n; j++) x = x.add(p.C[j]).subtract(gs[j]);
  if (!mulPublic(G, p.s1).equals(p.t1.add(mulPublic(x, c)))) return 't_1';
  // t_2: s_2·G = t_2 + c·(Ĉ_{N−1} − (Π u_j)·H)
  const prod = u.reduce((a, b) => mod(a * b), 1n);
  x = p.chat[n - 1].subtract(mulPublic(H, prod));
  if (!mulPublic(G, p.s2).equals(p.t2.add(mulPublic(x, c)))) return 't_2';
  // t_3: s_3·G + Σ s'_i·G_i = t_3 + c·Σ u_j·C_j
  if (!mulPublic(G, p.s3).add(msm(p.sp, gs)).equals(p.t3.add(mulPublic(msm(u, p.C), c)))) return 't_3';
  // t_4, per column, α and β.
  for (let k = 0; k < w; k++) {
    const col = (arr) => Array.from({ length: n }, (_, i) => arr[i * w + k]);
    const lhsA = msm(p.sp, col(out.alpha)).subtract(mulPublic(G, p.s4[k]));
    if (!lhsA.equals(p.t4a[k].add(mulPublic(msm(u, col(inp.alpha)), c)))) return 't_4';
    const lhsB = msm(p.sp, col(out.beta)).subtract(mulPublic(K, p.s4[k]));
    if (!lhsB.equals(p.t4b[k].add(mulPublic(msm(u, col(inp.beta)), c)))) return 't_4';
  }
  // t̂_i: ŝ_i·G + s'_i·Ĉ_{i−1} = t̂_i + c·Ĉ_i, each checked (N is small in the browser).
  for (let i = 0; i < n; i++) {
    const lhs = mulPublic(G, p.shat[i]).add(mulPublic(i === 0 ? H : p.chat[i - 1], p.sp[i]));
    if (!lhs.equals(p.that[i].add(mulPublic(p.chat[i], c)))) return 't̂';
  }
  return null;
}
