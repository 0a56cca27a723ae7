// Encrypted ballots (docs/protocol.md §4, §4.2): encryption from choices,
// canonical binary encoding, JSON form, proof verification. Version 1, and
// version 3 (protocol 7) for a manifest with a compact yes/no question: one
// ciphertext of 0, 1 or COMPACT_BASE and one proof a compact question.
import { Reader, concat, equalBytes, fromHex, toHex, u16, utf8 } from './bytes.mjs';
import { canonicalJSON, parseStrictJSON } from './canonical.mjs';
import { addCiphertexts, encrypt } from './elgamal.mjs';
import { HINT_SIZE, decodeElement, elementDecoder, encodeElement, mod, randomScalar } from './group.mjs';
import { SUM_OPTION, BRANCH_SIZE, decodeRangeProof, proveRange, rangeOf, verifyRange } from './rangeproof.mjs';

export const BALLOT_VERSION = 1;
export const BALLOT_VERSION_3 = 3;
/** B of a compact question (§4.2 version 3): the second option encrypts B. */
export const COMPACT_BASE = 2 ** 24;
/** The option index in a compact question's proof transcript (§4.1). */
export const COMPACT_OPTION = 0xfffe;

/** V of a compact question: [0, 1, B] when min is 0, [1, B] when it is 1. */
export const compactValues = (min) => (min === 0 ? [0, 1, COMPACT_BASE] : [1, COMPACT_BASE]);

/** The value a compact question's two marks encrypt (0, 1 or B); throws for anything else. */
export function compactValue(ch) {
  if (!Array.isArray(ch) || ch.length !== 2 || !ch.every((m) => m === 0 || m === 1) || ch[0] + ch[1] > 1) {
    throw new Error('eballot: a compact question takes at most one of its two options');
  }
  return ch[0] ? 1 : ch[1] ? COMPACT_BASE : 0;
}

/** Whether a manifest has a compact question (its ballots are then version 3). */
export const hasCompact = (manifest) => Array.isArray(manifest?.questions) && manifest.questions.some((q) => q.method === 'compact');

/** The encoding version of a manifest's (non-ranked) ballots: 3 with a compact question, else 1. */
export const ballotVersion = (manifest) => (hasCompact(manifest) ? BALLOT_VERSION_3 : BALLOT_VERSION);

/** How many sums a question has in the tally (§7): 1 for a compact question, else one an option. */
export const sumWidth = (q) => (q.method === 'compact' ? 1 : q.options.length);
export const MAX_BALLOT_BYTES = 64 * 1024;

const keys = new Map();

/**
 * The joint election key K from manifest.trustees.election_key (identity
 * rejected). Decoded keys are cached with a small window-4 table: a
 * ballot multiplies K about three times per selection.
 */
export function electionKey(manifest) {
  const h = manifest.trustees.election_key;
  let K = keys.get(h);
  if (!K) {
    K = decodeElement(fromHex(h, 32));
    // noble 2.4.0 keeps the Edwards point in the (TypeScript-protected) field
    // ep; its precompute table speeds up every K multiplication (optional).
    K.ep?.precompute?.(4, false);
    if (keys.size > 16) keys.clear();
    keys.set(h, K);
  }
  return K;
}

function shape(manifest) {
  const qs = manifest.questions;
  if (!Array.isArray(qs) || qs.length === 0) throw new Error('eballot: manifest has no questions');
  return qs.map((q) => ({ no: q.options.length, min: q.min, max: q.max, compact: q.method === 'compact' }));
}

function ctxOf(mh, K, style, question, option) {
  return { manifestHash: mh, K, style, question, option };
}

export function checkStyle(manifest, style) {
  if (!Number.isInteger(style) || style < 0 || style >= manifest.styles.length) throw new Error('eballot: style out of range');
}

/**
 * Encrypts one choose question (§4.2): ch is one 0/1 mark per option, q
 * {no, min, max}. Returns {question: {selections, sumProof}, rs} (rs the
 * bigint nonces, secret). Shared by version-1 and version-2 ballots
 * (src/ballot2.mjs).
 */
export function encryptChoose(manifestHash, K, style, qi, q, ch) {
  if (!Array.isArray(ch) || ch.length !== q.no) throw new Error(`eballot: question ${qi}: one choice per option`);
  let total = 0;
  for (const m of ch) {
    if (m !== 0 && m !== 1) throw new Error('eballot: a selection is 0 or 1');
    total += m;
  }
  if (total < q.min || total > q.max) throw new Error(`eballot: question ${qi}: choose between ${q.min} and ${q.max}`);
  const rs = [];
  const cts = [];
  const selections = ch.map((m, oi) => {
    const r = randomScalar();
    const ct = encrypt(K, m, r);
    rs.push(r);
    cts.push(ct);
    const proof = proveRange(ctxOf(manifestHash, K, style, qi, oi), [0, 1], ct, m, r);
    return { alpha: encodeElement(ct.alpha), beta: encodeElement(ct.beta), proof };
  });
  const sum = addCiphertexts(cts);
  const rsum = mod(rs.reduce((a, b) => a + b, 0n));
  const sumProof = proveRange(ctxOf(manifestHash, K, style, qi, SUM_OPTION), rangeOf(q.min, q.max), sum, total, rsum);
  return { question: { selections, sumProof }, rs };
}

/**
 * Encrypts one compact question (§4.2 version 3): ch the two 0/1 marks, at
 * most one set. Returns {question: {compact: {alpha, beta, proof}}, rs: [r]}.
 */
export function encryptCompact(manifestHash, K, style, qi, q, ch) {
  const v = compactValue(ch);
  if (v === 0 && q.min > 0) throw new Error(`eballot: question ${qi}: choose between ${q.min} and ${q.max}`);
  const r = randomScalar();
  const ct = encrypt(K, v, r);
  const proof = proveRange(ctxOf(manifestHash, K, style, qi, COMPACT_OPTION), compactValues(q.min), ct, v, r);
  return { question: { compact: { alpha: encodeElement(ct.alpha), beta: encodeElement(ct.beta), proof } }, rs: [r] };
}

/** The encoding of one question: a compact one's α ‖ β ‖ proof, else encodeChoose. */
const encodeQuestion = (q) => (q.compact ? concat(q.compact.alpha, q.compact.beta, q.compact.proof) : encodeChoose(q));

/** The encoding of one choose question (§4.2): u16 no, selections, sum proof. */
export function encodeChoose(q) {
  const parts = [u16(q.selections.length)];
  for (const s of q.selections) parts.push(s.alpha, s.beta, s.proof);
  parts.push(q.sumProof);
  return concat(...parts);
}

/**
 * Encrypts choices (one array of 0/1 per question, one entry per option) for
 * the given style. Returns {ballot, nonces} where nonces[q][o] are the bigint
 * nonces (keep secret; reveal only for a Benaloh audit).
 */
export function encryptBallot(manifest, manifestHash, style, choices) {
  if (!(manifestHash instanceof Uint8Array) || manifestHash.length !== 32) throw new Error('eballot: manifest hash must be 32 bytes');
  checkStyle(manifest, style);
  // A manifest with a ranked question has version-2 ballots (src/ballot2.mjs, ranked bundle only).
  if (manifest.questions.some((q) => q.method === 'ranked')) throw new Error('eballot: a ranked question needs a version-2 ballot (the ranked bundle)');
  const K = electionKey(manifest);
  const sh = shape(manifest);
  if (!Array.isArray(choices) || choices.length !== sh.length) throw new Error('eballot: one choice list per question');
  const nonces = [];
  const questions = sh.map((q, qi) => {
    const { question, rs } = (q.compact ? encryptCompact : encryptChoose)(manifestHash, K, style, qi, q, choices[qi]);
    nonces.push(rs);
    return question;
  });
  return { ballot: { version: ballotVersion(manifest), manifestHash: Uint8Array.from(manifestHash), style, questions }, nonces };
}

/** Canonical binary encoding (§4.2). */
export function encodeBallot(b) {
  const parts = [Uint8Array.of(b.version), b.manifestHash, u16(b.style), u16(b.questions.length)];
  for (const q of b.questions) parts.push(encodeQuestion(q));
  return concat(...parts);
}

function checkSelection(alpha, beta, proof, dec = decodeElement) {
  return {
    alpha: dec(alpha), // canonical, not identity
    beta: dec(beta, true),
    branches: decodeRangeProof(proof, 2, dec),
  };
}

// The points of each ballot decodeBallot returned, as it decoded them
// (decoding is most of a verifier's work: the batch verification of
// src/batch.mjs takes them from here rather than decoding again). They are
// those of the ballot's bytes as decoded; a ballot changed afterwards
// must be decoded again (pointsOf then has nothing for the copy).
const decoded = new WeakMap();

/**
 * The decoded points of a ballot returned by decodeBallot:
 * [{selections: [{alpha, beta, branches}], sum: branches}] per question
 * ({compact: {alpha, beta, branches}} for a compact question), branches as
 * decodeRangeProof returns them; undefined for any other object.
 */
export const pointsOf = (b) => decoded.get(b);

/**
 * Strict decoder of the binary encoding against the manifest (§4.2). Throws
 * an Error whose .kind is 'wrong_manifest' (another manifest hash) or
 * 'malformed' (anything else: version, style, counts, lengths, trailing
 * bytes, non-canonical element or scalar, identity α, over 64 KiB).
 */
export function decodeBallot(manifest, manifestHash, bytes, hints = null) {
  try {
    return decodeBinary(manifest, manifestHash, bytes, hints);
  } catch (e) {
    // A wrong hint, or a wrong element: a ballot that does not decode
    // without hints is named for that (as Go's ParseHinted).
    if (e.kind === 'hint') decodeBallot(manifest, manifestHash, bytes);
    e.kind ??= 'malformed';
    throw e;
  }
}

/** The size of a ballot's decompression hints (§4.5): 32 bytes an element. */
export function hintsSize(manifest) {
  return shape(manifest).reduce((n, q) => n + (q.compact ? 2 + 2 * compactValues(q.min).length : 6 * q.no + 2 * (q.max - q.min + 1)), 0) * HINT_SIZE;
}

function decodeBinary(manifest, manifestHash, bytes, hints) {
  if (!(bytes instanceof Uint8Array)) throw new Error('eballot: ballot must be bytes');
  if (bytes.length > MAX_BALLOT_BYTES) throw new Error('eballot: ballot too large');
  const sh = shape(manifest);
  const r = new Reader(bytes);
  const version = ballotVersion(manifest);
  const got = r.u8();
  if (got !== version) throw new Error(`eballot: version ${got}, this manifest's ballots are version ${version}`);
  const mh = Uint8Array.from(r.bytes(32));
  if (!equalBytes(mh, manifestHash)) throw Object.assign(new Error('eballot: ballot is for another manifest'), { kind: 'wrong_manifest' });
  const style = r.u16();
  checkStyle(manifest, style);
  if (r.u16() !== sh.length) throw new Error('eballot: wrong number of questions');
  if (hints && hints.length !== hintsSize(manifest)) {
    throw Object.assign(new Error(`eballot: wrong decompression hint: ${hints.length} bytes of hints, want ${hintsSize(manifest)}`), { kind: 'hint' });
  }
  const dec = elementDecoder(hints);
  const points = [];
  const questions = sh.map((q) => {
    if (q.compact) {
      const n = compactValues(q.min).length;
      const c = { alpha: Uint8Array.from(r.bytes(32)), beta: Uint8Array.from(r.bytes(32)), proof: Uint8Array.from(r.bytes(n * BRANCH_SIZE)) };
      points.push({ compact: { alpha: dec(c.alpha), beta: dec(c.beta, true), branches: decodeRangeProof(c.proof, n, dec) } });
      return { compact: c };
    }
    const { question, pts } = readChoose(r, q, dec);
    points.push(pts);
    return question;
  });
  r.done();
  const b = { version, manifestHash: mh, style, questions };
  decoded.set(b, points);
  return b;
}

/**
 * Reads one choose question (§4.2: u16 options, per option α ‖ β ‖ its
 * proof, then the sum proof) of shape q = {no, min, max} from the Reader
 * r, strictly (canonical elements and scalars, no identity α). Returns
 * {question: {selections, sumProof}, pts} (pts: the decoded points).
 * Shared by version-1 and version-2 ballots (src/ballot2.mjs).
 */
export function readChoose(r, q, dec = decodeElement) {
  if (r.u16() !== q.no) throw new Error('eballot: wrong number of options');
  const selections = [];
  const pts = { selections: [], sum: null };
  for (let o = 0; o < q.no; o++) {
    const s = { alpha: Uint8Array.from(r.bytes(32)), beta: Uint8Array.from(r.bytes(32)), proof: Uint8Array.from(r.bytes(2 * BRANCH_SIZE)) };
    pts.selections.push(checkSelection(s.alpha, s.beta, s.proof, dec));
    selections.push(s);
  }
  const n = q.max - q.min + 1;
  const sumProof = Uint8Array.from(r.bytes(n * BRANCH_SIZE));
  pts.sum = decodeRangeProof(sumProof, n, dec);
  return { question: { selections, sumProof }, pts };
}

/**
 * Checks the proofs of one choose question qi of shape q (its selections'
 * 0/1 proofs and its sum proof); true or false.
 */
export function verifyChoose(manifestHash, K, style, qi, q, question) {
  if (question.selections.length !== q.no) return false;
  const cts = [];
  for (let oi = 0; oi < question.selections.length; oi++) {
    const s = question.selections[oi];
    const ct = { alpha: decodeElement(s.alpha), beta: decodeElement(s.beta, true) };
    cts.push(ct);
    if (!verifyRange(ctxOf(manifestHash, K, style, qi, oi), [0, 1], ct, s.proof)) return false;
  }
  return verifyRange(ctxOf(manifestHash, K, style, qi, SUM_OPTION), rangeOf(q.min, q.max), addCiphertexts(cts), question.sumProof);
}

/** JSON form (§4.2) as a plain object. */
export function ballotToJSON(b) {
  return {
    version: b.version,
    manifest_hash: toHex(b.manifestHash),
    style: b.style,
    questions: b.questions.map((q) => (q.compact
      ? { compact: { alpha: toHex(q.compact.alpha), beta: toHex(q.compact.beta), proof: toHex(q.compact.proof) } }
      : {
        selections: q.selections.map((s) => ({ alpha: toHex(s.alpha), beta: toHex(s.beta), proof: toHex(s.proof) })),
        sum_proof: toHex(q.sumProof),
      })),
  };
}

/** The JSON form as canonical JSON text (what Go's Ballot.MarshalJSON returns). */
export const encodeBallotJSON = (b) => canonicalJSON(ballotToJSON(b));

function onlyKeys(o, keys, what) {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error(`eballot: ${what} must be an object`);
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new Error(`eballot: unknown field ${what}.${k}`);
  for (const k of keys) if (!(k in o)) throw new Error(`eballot: missing field ${what}.${k}`);
}

export const MAX_BALLOT_JSON = 4 * MAX_BALLOT_BYTES;

/**
 * Strict decoder of the JSON form (text, UTF-8 bytes or a parsed object), as
 * Go's Election.ParseJSON: strict canonical-JSON parse, exactly the §4.2
 * fields, lowercase hex, the binary decoder's checks, and the canonical
 * re-encoding must reproduce the input.
 */
export function ballotFromJSON(manifest, manifestHash, input) {
  try {
    return fromJSON(manifest, manifestHash, input);
  } catch (e) {
    e.kind ??= 'malformed';
    throw e;
  }
}

function fromJSON(manifest, manifestHash, input) {
  let j;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    if ((typeof input === 'string' ? utf8(input).length : input.length) > MAX_BALLOT_JSON) throw new Error('eballot: ballot JSON too large');
    j = parseStrictJSON(input);
  } else j = parseStrictJSON(canonicalJSON(input));
  onlyKeys(j, ['version', 'manifest_hash', 'style', 'questions'], 'ballot');
  const version = ballotVersion(manifest);
  if (j.version !== version) throw new Error(`eballot: version ${j.version}, this manifest's ballots are version ${version}`);
  const sh = shape(manifest);
  if (!Number.isInteger(j.style) || j.style < 0 || j.style > 0xffff) throw new Error('eballot: style out of range');
  if (!Array.isArray(j.questions) || j.questions.length > 0xffff) throw new Error('eballot: questions must be an array');
  const b = {
    version,
    manifestHash: fromHex(j.manifest_hash, 32),
    style: j.style,
    questions: j.questions.map((q, qi) => {
      if (sh[qi]?.compact) {
        onlyKeys(q, ['compact'], 'question');
        onlyKeys(q.compact, ['alpha', 'beta', 'proof'], 'compact');
        return { compact: { alpha: fromHex(q.compact.alpha, 32), beta: fromHex(q.compact.beta, 32), proof: fromHex(q.compact.proof) } };
      }
      onlyKeys(q, ['selections', 'sum_proof'], 'question');
      if (!Array.isArray(q.selections) || q.selections.length > 0xffff) throw new Error('eballot: selections must be an array');
      return {
        selections: q.selections.map((s) => {
          onlyKeys(s, ['alpha', 'beta', 'proof'], 'selection');
          return { alpha: fromHex(s.alpha, 32), beta: fromHex(s.beta, 32), proof: fromHex(s.proof) };
        }),
        sumProof: fromHex(q.sum_proof),
      };
    }),
  };
  // The binary decoder applies every shape and canonicality check …
  const d = decodeBallot(manifest, manifestHash, encodeBallot(b));
  // … and the field boundaries must be the canonical ones.
  if (canonicalJSON(ballotToJSON(d)) !== canonicalJSON(j)) throw new Error('eballot: JSON fields not exactly the canonical form');
  return d;
}

/** Checks every proof of a decoded ballot; returns true or false. */
export function verifyBallot(manifest, manifestHash, b) {
  try {
    const K = electionKey(manifest);
    const sh = shape(manifest);
    if (!equalBytes(b.manifestHash, manifestHash) || b.questions.length !== sh.length) return false;
    checkStyle(manifest, b.style);
    for (let qi = 0; qi < sh.length; qi++) {
      const q = b.questions[qi];
      if (sh[qi].compact !== Boolean(q.compact)) return false;
      if (q.compact) {
        const ct = { alpha: decodeElement(q.compact.alpha), beta: decodeElement(q.compact.beta, true) };
        if (!verifyRange(ctxOf(manifestHash, K, b.style, qi, COMPACT_OPTION), compactValues(sh[qi].min), ct, q.compact.proof)) return false;
        continue;
      }
      if (!verifyChoose(manifestHash, K, b.style, qi, sh[qi], q)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The ciphertexts of a ballot as points: cts[q][o] = {alpha, beta} (a
 * compact question: its one ciphertext, cts[q][0]).
 */
export function ballotCiphertexts(b) {
  return b.questions.map((q) => (q.compact ? [q.compact] : q.selections).map((s) => ({ alpha: decodeElement(s.alpha), beta: decodeElement(s.beta, true) })));
}

