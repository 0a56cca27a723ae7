// Ballot tracker and its short code (docs/protocol.md §4.3).
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from './bytes.mjs';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TAG = utf8('ballot-v1');

/** T = SHA-256("ballot-v1" ‖ manifest_hash ‖ ballot_bytes), 32 bytes. */
export function tracker(manifestHash, ballotBytes) {
  if (manifestHash.length !== 32) throw new Error('eballot: manifest hash must be 32 bytes');
  return sha256(concat(TAG, manifestHash, ballotBytes));
}

/** First 10 bytes of T in Crockford base32, MSB first, as XXXX-XXXX-XXXX-XXXX. */
export function shortCode(T) {
  if (T.length < 10) throw new Error('eballot: tracker too short');
  let s = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | T[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return s.match(/.{4}/g).join('-');
}
