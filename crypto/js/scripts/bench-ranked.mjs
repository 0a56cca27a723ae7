// Timing of a ranked ballot (protocol §9.1) in the shipped ranked bundle:
// encrypt + prove, and decode + verify, for 4 and 10 candidates.
// Usage: node crypto/js/scripts/bench-ranked.mjs   (after make js)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const E = await import(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'eballot-ranked.min.js'));
const c = { manifestHash: new Uint8Array(32), K: E.G.multiply(12345n), index: 0, styles: 1, candidates: 10, minRanked: 0, maxRanked: 10 };
E.encryptRanking(c, 0, [1,2]);
for (const n of [4, 10]) {
  const cc = { ...c, candidates: n, maxRanked: n };
  let t = performance.now(); const { ballot } = E.encryptRanking(cc, 0, [3, 1, 0]); const te = performance.now() - t;
  t = performance.now(); const r = E.verifyRankedBallot(cc, E.decodeRankedBallot(cc, E.encodeRankedBallot(cc, ballot))); const tv = performance.now() - t;
  console.log(n, 'candidates: encrypt+prove', te.toFixed(0), 'ms, decode+verify', tv.toFixed(0), 'ms', r, 'bytes', E.rankedBallotSize(cc));
}
