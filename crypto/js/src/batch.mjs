// Verification of the proofs of many ballots (docs/protocol.md §4.1).
import { verifyBallot } from './ballot.mjs';

/** Indices of the decoded ballots whose proofs do not verify. */
export function batchVerifyBallots(manifest, manifestHash, ballots) {
  const bad = [];
  ballots.forEach((b, i) => { if (!verifyBallot(manifest, manifestHash, b)) bad.push(i); });
  return bad;
}
