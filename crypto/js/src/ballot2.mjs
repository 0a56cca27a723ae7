// Version-2 ballots (docs/protocol.md §4.2 "Version 2"): a manifest with a
// ranked question has ballots whose header is the version-1 header with
// version = 2, then per question in order the choose question exactly as
// version 1 (src/ballot.mjs) or the question's §9.1 ranked ballot
// (src/ranked.mjs, contest = the question's index). Same bytes as Go's
// crypto/ballot; crypto/ballot verifies the ballots this module makes
// (crypto/ballot/js_v2_interop_test.go), and this module decodes and
// verifies them with Go's verdicts (malformed, wrong_manifest, bad_proof,
// invalid_ranking; shared vectors js_ballot2_v1.json), and checks their
// Benaloh audit (§4.4). Exported from the ranked bundle only
// (src/ranked-index.mjs): the yes/no bundle does not carry it.
import { Reader, concat, equalBytes, fromHex, toHex, u16 } from './bytes.mjs';
import { MAX_BALLOT_BYTES, checkStyle, electionKey, encodeChoose, encryptChoose, readChoose, verifyChoose } from './ballot.mjs';
import { checkChooseAudit } from './audit.mjs';
import { decodeScalar, encodeScalar } from './group.mjs';
import { checkRankedAudit, decodeRankedBallot, encodeRankedBallot, encryptRanking, rankedBallotSize, verifyRankedBallot } from './ranked.mjs';

export const BALLOT_VERSION_2 = 2;

/** Whether a manifest's ballots are version 2 (it has a ranked question). */
export const hasRanked = (manifest) => Array.isArray(manifest?.questions) && manifest.questions.some((q) => q.method === 'ranked');

/** The §9.1 contest of ranked question qi of a manifest (crypto/ballot's Election.Contest). */
export function rankedContest(manifest, manifestHash, qi) {
  const q = manifest.questions[qi];
  if (!q || q.method !== 'ranked') throw new Error(`eballot: question ${qi} is not ranked`);
  return {
    manifestHash: Uint8Array.from(manifestHash), K: electionKey(manifest), index: qi, styles: manifest.styles.length,
    candidates: q.options.length, minRanked: q.min, maxRanked: q.max,
  };
}

/**
 * Encrypts a version-2 ballot for the given style. choices[q] is, for a
 * choose question, one 0/1 mark per option (as encryptBallot); for a ranked
 * question, the ranking: candidate indices, most preferred first, between
 * the question's min and max of them. Returns {ballot, nonces, openings}:
 * ballot = {version: 2, manifestHash, style, questions} (a choose question
 * {selections, sumProof}, a ranked one {ranked, contest}; encode with
 * encodeBallotV2); nonces[q] the choose nonces (empty for a ranked
 * question), openings[q] the ranked opening (null for a choose question);
 * both secret, revealed only to audit.
 */
export function encryptBallotV2(manifest, manifestHash, style, choices) {
  if (!(manifestHash instanceof Uint8Array) || manifestHash.length !== 32) throw new Error('eballot: manifest hash must be 32 bytes');
  if (!hasRanked(manifest)) throw new Error('eballot: a manifest without a ranked question has version-1 ballots');
  checkStyle(manifest, style);
  const K = electionKey(manifest);
  const qs = manifest.questions;
  if (!Array.isArray(choices) || choices.length !== qs.length) throw new Error('eballot: one choice list per question');
  const nonces = [];
  const openings = [];
  const questions = qs.map((q, qi) => {
    if (q.method === 'ranked') {
      const contest = rankedContest(manifest, manifestHash, qi);
      const { ballot, opening } = encryptRanking(contest, style, choices[qi]);
      nonces.push([]);
      openings.push(opening);
      return { ranked: ballot, contest };
    }
    const { question, rs } = encryptChoose(manifestHash, K, style, qi, { no: q.options.length, min: q.min, max: q.max }, choices[qi]);
    nonces.push(rs);
    openings.push(null);
    return question;
  });
  return { ballot: { version: BALLOT_VERSION_2, manifestHash: Uint8Array.from(manifestHash), style, questions }, nonces, openings };
}

/** The canonical binary encoding of a version-2 ballot (§4.2); the tracker (§4.3) is over these bytes. */
export function encodeBallotV2(b) {
  const parts = [Uint8Array.of(BALLOT_VERSION_2), b.manifestHash, u16(b.style), u16(b.questions.length)];
  for (const q of b.questions) parts.push(q.ranked ? encodeRankedBallot(q.contest, q.ranked) : encodeChoose(q));
  return concat(...parts);
}

const fail = (kind, msg) => Object.assign(new Error(`eballot: ${msg}`), { kind });

/**
 * Strictly decodes a version-2 ballot against its manifest (crypto/ballot
 * Parse): header, the manifest hash, style, question count, each choose
 * question as version 1 and each ranked part as §9.1 (its contest index
 * the question's, its style the ballot's), no byte left. Throws an Error
 * whose .kind is 'wrong_manifest' or 'malformed'. Proofs are decoded, not
 * verified (verifyBallotV2).
 */
export function decodeBallotV2(manifest, manifestHash, bytes) {
  if (!hasRanked(manifest)) throw fail('malformed', 'a manifest without a ranked question has version-1 ballots');
  if (!(bytes instanceof Uint8Array)) throw fail('malformed', 'ballot must be bytes');
  if (bytes.length > MAX_BALLOT_BYTES) throw fail('malformed', 'ballot too large');
  if (bytes.length < 37) throw fail('malformed', 'truncated header');
  if (bytes[0] !== BALLOT_VERSION_2) throw fail('malformed', `version ${bytes[0]}, this manifest's ballots are version 2`);
  if (!equalBytes(bytes.subarray(1, 33), manifestHash)) throw fail('wrong_manifest', 'ballot is for another manifest');
  const r = new Reader(bytes);
  r.bytes(33);
  const style = r.u16();
  try {
    checkStyle(manifest, style);
  } catch {
    throw fail('malformed', `style ${style} out of range`);
  }
  const qs = manifest.questions;
  if (r.u16() !== qs.length) throw fail('malformed', 'wrong number of questions');
  const questions = qs.map((q, qi) => {
    try {
      if (q.method === 'ranked') {
        const contest = rankedContest(manifest, manifestHash, qi);
        const ranked = decodeRankedBallot(contest, Uint8Array.from(r.bytes(rankedBallotSize(contest))));
        if (ranked.style !== style) throw new Error(`ranked part of style ${ranked.style} in a ballot of style ${style}`);
        return { ranked, contest };
      }
      return readChoose(r, { no: q.options.length, min: q.min, max: q.max }).question;
    } catch (e) {
      if (e.kind === 'wrong_manifest') throw fail('wrong_manifest', `question ${qi}: ${e.message.replace(/^eballot: /, '')}`);
      throw fail('malformed', `question ${qi}: ${e.message.replace(/^eballot: /, '')}`);
    }
  });
  try {
    r.done();
  } catch {
    throw fail('malformed', 'trailing bytes');
  }
  return { version: BALLOT_VERSION_2, manifestHash: Uint8Array.from(manifestHash), style, questions };
}

/**
 * Verifies every proof of a version-2 ballot (decoded, or just made):
 * each choose question's 0/1 and sum proofs and each ranked part's proofs
 * of a valid ranking (§9.1). Returns null when all hold, else {kind:
 * 'bad_proof' | 'invalid_ranking', question, detail} for the first that
 * fails (crypto/ballot ErrBadProof, ErrInvalidRanking).
 */
export function verifyBallotV2(manifest, manifestHash, b) {
  const K = electionKey(manifest);
  for (let qi = 0; qi < manifest.questions.length; qi++) {
    const q = manifest.questions[qi];
    const part = b.questions[qi];
    if (q.method === 'ranked') {
      let bad;
      try {
        bad = verifyRankedBallot(part.contest ?? rankedContest(manifest, manifestHash, qi), part.ranked);
      } catch (e) {
        bad = e.message.replace(/^eballot: /, '');
      }
      if (bad) return { kind: 'invalid_ranking', question: qi, detail: bad };
      continue;
    }
    let ok = false;
    try {
      ok = verifyChoose(manifestHash, K, b.style, qi, { no: q.options.length, min: q.min, max: q.max }, part);
    } catch {
      ok = false;
    }
    if (!ok) return { kind: 'bad_proof', question: qi, detail: 'a range proof does not verify' };
  }
  return null;
}

const scalarOf = (x) => (typeof x === 'bigint' ? x : decodeScalar(fromHex(x, 32)));

/**
 * The audit record of a version-2 ballot (§4.4): per question the choices
 * (0/1 marks, or the ranking), the choose nonces (hex; empty for a ranked
 * question) and the ranked openings ({used_nonces, rank_nonces} hex; null
 * for a choose question), as crypto/testdata/js_ballot2_v1.json has them.
 */
export function auditRecordV2(choices, nonces, openings) {
  return {
    choices: choices.map((q) => q.slice()),
    nonces: nonces.map((q) => q.map((r) => toHex(encodeScalar(r)))),
    rankings: openings.map((o) => (o ? { used_nonces: o.usedNonces.map((r) => toHex(encodeScalar(r))), rank_nonces: o.rankNonces.map((r) => toHex(encodeScalar(r))) } : null)),
  };
}

/**
 * Benaloh audit of a version-2 ballot (§4.4): true when the revealed
 * choices, choose nonces and ranked openings (as auditRecordV2 gives
 * them, or with bigints) reproduce every ciphertext of the ballot.
 */
export function checkAuditV2(manifest, manifestHash, ballot, audit) {
  try {
    const K = electionKey(manifest);
    const { choices, nonces, rankings } = audit;
    const qs = manifest.questions;
    if (ballot.questions.length !== qs.length || choices.length !== qs.length || nonces.length !== qs.length || rankings.length !== qs.length) return false;
    return qs.every((q, qi) => {
      const part = ballot.questions[qi];
      if (q.method !== 'ranked') return rankings[qi] === null && checkChooseAudit(K, part, choices[qi], nonces[qi]);
      const o = rankings[qi];
      if (!o || nonces[qi].length !== 0) return false;
      const opening = { ranking: choices[qi], usedNonces: (o.used_nonces ?? o.usedNonces).map(scalarOf), rankNonces: (o.rank_nonces ?? o.rankNonces).map(scalarOf) };
      return checkRankedAudit(part.contest ?? rankedContest(manifest, manifestHash, qi), part.ranked, opening);
    });
  } catch {
    return false;
  }
}
