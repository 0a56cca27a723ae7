// Public API of the eBallot browser cryptography (docs/protocol.md, version 2).
export { toHex, fromHex, toBase64, fromBase64 } from './bytes.mjs';
export { canonicalJSON, canonicalize, parseStrictJSON, manifestHash } from './canonical.mjs';
export { KINDS, parseManifest, validateManifestShape, ballotSize } from './manifest.mjs';
export { G, L, decodeElement, encodeElement, decodeScalar, encodeScalar, randomScalar, hashToScalar } from './group.mjs';
export { encrypt, addCiphertexts } from './elgamal.mjs';
export { DST_RANGE, SUM_OPTION, rangeTranscript, proveRange, verifyRange, decodeRangeProof, rangeOf } from './rangeproof.mjs';
export {
  BALLOT_VERSION, BALLOT_VERSION_3, COMPACT_BASE, compactValues, hasCompact, ballotVersion, hintsSize, electionKey, encryptBallot,
  encodeBallot, decodeBallot, ballotToJSON, encodeBallotJSON, ballotFromJSON, verifyBallot, ballotCiphertexts,
} from './ballot.mjs';
export { tracker, shortCode } from './tracker.mjs';
export { warmUp } from './warmup.mjs';
export { auditRecord, checkAudit } from './audit.mjs';
export { AUTHORISATION_SIZE, importIssuerKey, blindTracker, finalizeAuthorisation, verifyAuthorisation } from './blind.mjs';
export { leafHash, nodeHash, entryRecord, rootFromInclusion, verifyInclusion, verifyConsistency } from './merkle.mjs';
export { keyHash, parseVerifierKey, openNote } from './note.mjs';
export {
  checkpointOrigin, parseCheckpoint, openCheckpoint, checkInclusion, checkConsistency, parseReceipt, receiptToJSON,
  verifyReceipt, verifyReceiptAgainst,
} from './receipt.mjs';
export {
  parsePublicKey, decodeDLEQ, verifyDLEQ, decodePartial, verifyPartial, lagrangeAtZero, combinePartials, sumBallots,
  checkCount, decryptCount, decryptPair,
} from './tally.mjs';
export {
  decodeDealing, verifyDealing, publicFromDealings, dealingContext, verifySchnorr, decodeShare, decodeComplaint,
  verifyShare, adjudicate,
} from './dkg.mjs';
