// Optional warm-up for the voting page.
import { electionKey } from './ballot.mjs';
import { blindTracker } from './blind.mjs';
import { encrypt } from './elgamal.mjs';
import { G, randomScalar } from './group.mjs';
import { proveRange } from './rangeproof.mjs';

/**
 * Builds the base-point and election-key tables and runs one throw-away
 * proof (the costly part of the first encryption: tables and JIT) while the
 * member reads the voting paper, so that "vote" is fast. With the style's issuer key (from importIssuerKey) it also runs
 * the blinding code once on a dummy tracker (the result is discarded).
 */
export async function warmUp(manifest, issuerKey) {
  G.multiply(1n);
  const K = electionKey(manifest);
  // One throw-away selection proof gets the field arithmetic compiled.
  const r = randomScalar();
  proveRange({ manifestHash: new Uint8Array(32), K, style: 0, question: 0, option: 0 }, [0, 1], encrypt(K, 0, r), 0, r);
  if (issuerKey) await blindTracker(issuerKey, new Uint8Array(32));
}
