// Exponential ElGamal over ristretto255 (docs/protocol.md §4).
import { G, mulSecret, smallMul } from './group.mjs';

/** (α, β) = (r·G, m·G + r·K) for a small integer m and a nonce r. */
export function encrypt(K, m, r) {
  return { alpha: mulSecret(G, r), beta: smallMul(m).add(mulSecret(K, r)) };
}

/** Homomorphic sum of ciphertexts. */
export function addCiphertexts(cts) {
  let alpha = null;
  let beta = null;
  for (const c of cts) {
    alpha = alpha ? alpha.add(c.alpha) : c.alpha;
    beta = beta ? beta.add(c.beta) : c.beta;
  }
  if (!alpha) throw new Error('eballot: no ciphertexts to add');
  return { alpha, beta };
}
