// The bundle of ranked (STV) contests, dist/eballot-ranked.min.js: all of
// src/index.mjs (a page loads this instead of dist/eballot.min.js) plus the
// ranked-ballot encryption (docs/protocol.md §9.1), so the yes/no bundle
// members download for other ballots carries none of it.
export * from './index.mjs';
export {
  RANKED_VERSION, MAX_CANDIDATES, RANKED_LABEL, checkContest, rankedBallotSize, encryptRanking, encodeRankedBallot,
  decodeRankedBallot, verifyRankedBallot, checkRankedAudit,
} from './ranked.mjs';
export { generator, proveShuffle, verifyShuffle, decodeShuffleProof, listOf, parseList, shuffleProofSize } from './shuffle.mjs';
export {
  BALLOT_VERSION_2, hasRanked, rankedContest, encryptBallotV2, encodeBallotV2, decodeBallotV2, verifyBallotV2, auditRecordV2, checkAuditV2,
} from './ballot2.mjs';
