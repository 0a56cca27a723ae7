// DKG transcript checks for the verifier page (docs/protocol.md §7): the
// published dealings (Feldman commitments, Schnorr proofs of knowledge),
// shares revealed in complaints, and complaint adjudication from public data.
import { Reader, concat, fromHex, lp, u16 } from './bytes.mjs';
import { G, ZERO, decodeElement, decodeScalar, encodeElement, hashToScalar, mod, mulPublic } from './group.mjs';
import { parseStrictJSON } from './canonical.mjs';
import { MAX_TRUSTEES } from './tally.mjs';

export const DST_SCHNORR = 'eballot-v1/schnorr';
const CEREMONY = /^[a-z0-9-]{1,64}$/;

function readHeader(r, kind, what) {
  if (r.u8() !== 1 || r.u8() !== kind) throw new Error(`eballot: not a version 1 ${what}`);
  const len = r.u32();
  if (len > 64) throw new Error('eballot: ceremony id too long');
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(r.bytes(len));
}

/** Schnorr context of a dealing: lp(ceremony) ‖ u16 n ‖ u16 k ‖ u16 dealer. */
export const dealingContext = (d) => concat(lp(new TextEncoder().encode(d.ceremony)), u16(d.n), u16(d.threshold), u16(d.dealer));

function checkDealingShape(d) {
  if (typeof d.ceremony !== 'string' || !CEREMONY.test(d.ceremony)) throw new Error('eballot: bad ceremony id');
  if (!(d.n >= 1 && d.n <= MAX_TRUSTEES && d.threshold >= 1 && d.threshold <= d.n)) throw new Error('eballot: bad n, k');
  if (!(d.dealer >= 1 && d.dealer <= d.n)) throw new Error('eballot: dealer out of range');
  if (d.commitments.length !== d.threshold) throw new Error('eballot: dealing must have k commitments');
  return d;
}

/**
 * Decodes a published DKG dealing, binary (0x01 0x01 …) or JSON, strictly:
 * {ceremony, n, threshold, dealer, commitments:[Point], proof: Uint8Array(64)}.
 */
export function decodeDealing(x) {
  if (x instanceof Uint8Array) {
    const r = new Reader(x);
    const ceremony = readHeader(r, 1, 'dealing');
    const n = r.u16();
    const threshold = r.u16();
    const dealer = r.u16();
    if (!(n >= 1 && n <= MAX_TRUSTEES && threshold >= 1 && threshold <= n)) throw new Error('eballot: bad n, k');
    const cs = [];
    for (let l = 0; l < threshold; l++) cs.push(decodeElement(r.bytes(32)));
    const proof = Uint8Array.from(r.bytes(64));
    r.done();
    decodeElement(proof.subarray(0, 32));
    decodeScalar(proof.subarray(32));
    return checkDealingShape({ ceremony, n, threshold, dealer, commitments: cs, proof });
  }
  const j = typeof x === 'string' ? parseStrictJSON(x) : x;
  const keys = ['version', 'ceremony', 'n', 'threshold', 'dealer', 'commitments', 'proof'];
  for (const k of Object.keys(j)) if (!keys.includes(k)) throw new Error(`eballot: unknown field ${k}`);
  if (j.version !== 1) throw new Error('eballot: unsupported dealing version');
  const proof = fromHex(j.proof, 64);
  decodeElement(proof.subarray(0, 32));
  decodeScalar(proof.subarray(32));
  return checkDealingShape({
    ceremony: j.ceremony, n: j.n, threshold: j.threshold, dealer: j.dealer,
    commitments: (j.commitments ?? []).map((h) => decodeElement(fromHex(h, 32))), proof,
  });
}

/**
 * Checks the dealer's Schnorr proof of knowledge of its constant term. With
 * expect = {ceremony, n, threshold}, the dealing must also be for that
 * ceremony (as Go's Dealing.Verify(ceremony, n, k)).
 */
export function verifyDealing(d, expect) {
  if (expect && (d.ceremony !== expect.ceremony || d.n !== expect.n || d.threshold !== expect.threshold)) return false;
  return verifySchnorr(dealingContext(d), d.commitments[0], d.proof);
}

/** K = Σ C_{i,0} and X_j = Σ_i Σ_l j^l·C_{i,l} from the qualified dealings. */
export function publicFromDealings(dealings) {
  const n = dealings[0].n;
  const K = dealings.reduce((acc, d) => acc.add(d.commitments[0]), ZERO);
  const X = [];
  for (let j = 1; j <= n; j++) {
    let acc = ZERO;
    for (const d of dealings) {
      let pw = 1n;
      for (const C of d.commitments) {
        acc = acc.add(mulPublic(C, pw));
        pw = mod(pw * BigInt(j));
      }
    }
    X.push(acc);
  }
  return { threshold: dealings[0].threshold, K, X };
}

/** Checks a Schnorr proof (A ‖ z, 64 bytes) of knowledge of log_G P under context. */
export function verifySchnorr(context, P, proofBytes) {
  try {
    if (proofBytes.length !== 64 || P.is0()) return false;
    const A = decodeElement(proofBytes.subarray(0, 32));
    const z = decodeScalar(proofBytes.subarray(32));
    const c = hashToScalar(DST_SCHNORR, concat(lp(context), encodeElement(P), encodeElement(A)));
    return mulPublic(G, z).equals(A.add(mulPublic(P, c)));
  } catch {
    return false;
  }
}


function shareLike(kind, x, field) {
  let o;
  if (x instanceof Uint8Array) {
    const r = new Reader(x);
    const ceremony = readHeader(r, kind, kind === 2 ? 'share' : 'complaint');
    const dealer = r.u16();
    const recipient = r.u16();
    const value = decodeScalar(r.bytes(32));
    r.done();
    o = { ceremony, dealer, recipient, value };
  } else {
    const j = typeof x === 'string' ? parseStrictJSON(x) : x;
    const keys = ['version', 'ceremony', 'dealer', 'recipient', field];
    for (const k of Object.keys(j)) if (!keys.includes(k)) throw new Error(`eballot: unknown field ${k}`);
    if (j.version !== 1) throw new Error('eballot: unsupported version');
    o = { ceremony: j.ceremony, dealer: j.dealer, recipient: j.recipient, value: decodeScalar(fromHex(j[field], 32)) };
  }
  if (typeof o.ceremony !== 'string' || !CEREMONY.test(o.ceremony)) throw new Error('eballot: bad ceremony id');
  for (const i of [o.dealer, o.recipient]) if (!(Number.isInteger(i) && i >= 1 && i <= MAX_TRUSTEES)) throw new Error('eballot: trustee index out of range');
  return o;
}

/** Decodes a share f_i(j) (binary 0x01 0x02 … or JSON): {ceremony, dealer, recipient, value: bigint}. */
export const decodeShare = (x) => shareLike(2, x, 'value');

/** Decodes a complaint (binary 0x01 0x03 … or JSON; JSON field "share"): {ceremony, dealer, recipient, value}. */
export const decodeComplaint = (x) => shareLike(3, x, 'share');

/** f(j)·G = Σ_l j^l·C_l. */
function shareMatches(d, j, value) {
  let acc = ZERO;
  let pw = 1n;
  for (const C of d.commitments) {
    acc = acc.add(mulPublic(C, pw));
    pw = mod(pw * BigInt(j));
  }
  return mulPublic(G, value).equals(acc);
}

/** True when share s belongs to dealing d and lies on its committed polynomial (Go VerifyShare). */
export function verifyShare(d, s) {
  if (s.ceremony !== d.ceremony || s.dealer !== d.dealer || s.recipient < 1 || s.recipient > d.n) return false;
  return shareMatches(d, s.recipient, s.value);
}

/**
 * Decides a complaint against d's dealer from public data (Go Adjudicate):
 * true (disqualify) iff the revealed share does not match the commitments and
 * the dealer's answer (a share, or null) is not a matching share for the same
 * recipient. Throws when the complaint is not about this dealing.
 */
export function adjudicate(d, c, answer) {
  if (c.ceremony !== d.ceremony || c.dealer !== d.dealer || c.recipient < 1 || c.recipient > d.n || c.recipient === d.dealer) {
    throw new Error('eballot: complaint does not belong to this dealing');
  }
  if (shareMatches(d, c.recipient, c.value)) return false;
  if (answer && answer.recipient === c.recipient && verifyShare(d, answer)) return false;
  return true;
}
