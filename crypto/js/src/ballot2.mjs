// Version-2 ballots (docs/protocol.md §4.2 "Version 2"): a manifest with a
// ranked question has ballots whose header is the version-1 header with
// version = 2, then per question in order the choose question exactly as
// version 1 (src/ballot.mjs) or the question's §9.1 ranked ballot
// (src/ranked.mjs, contest = the question's index). Same bytes as Go's
// crypto/ballot; crypto/ballot verifies the ballots this module makes
// (crypto/ballot/js_v2_interop_test.go). Exported from the ranked bundle
// only (src/ranked-index.mjs): the yes/no bundle does not carry it.
import { concat, u16 } from './bytes.mjs';
import { checkStyle, electionKey, encodeChoose, encryptChoose } from './ballot.mjs';
import { encodeRankedBallot, encryptRanking } from './ranked.mjs';

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
