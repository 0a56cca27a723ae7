// Package ranked implements encrypted ranked ballots for STV contests
// (protocol §9.1): a voter's ranking of n candidates is encrypted under the
// election key as two vectors of exponential ElGamal ciphertexts over
// ristretto255 with a zero-knowledge proof that it is a valid, possibly
// partial, ranking; [Contest.MixInput] packs verified ballots into the list
// the trustees shuffle (crypto/shuffle), and [Contest.Decode] turns a
// decrypted row back into a ranking for the public count (crypto/stv).
//
// # Encoding
//
// A ranking ranks k candidates, MinRanked ≤ k ≤ MaxRanked. The ballot holds
//
//   - B_j for each position j = 0 … n−1: an encryption of b_j = 1 if j < k,
//     else 0 (the positions in use);
//   - R_c for each candidate c: an encryption of c's rank 1 … k, or 0 if the
//     voter did not rank c.
//
// and proves, with the disjunctive Chaum–Pedersen range proofs of
// crypto/proof, that each b_j is allowed (1 for j < MinRanked, 0 for
// j ≥ MaxRanked, else 0 or 1) and each b_j − b_{j+1} is 0 or 1 (the used
// positions are a prefix), and, with a proof of shuffle (crypto/shuffle,
// N = n, width 1), that R is a re-encrypted permutation of
// (1·B_0, 2·B_1, …, n·B_{n−1}), computed homomorphically. So the multiset of
// ranks is exactly {1, …, k, 0, …, 0}: every rank from 1 to k is used once,
// no candidate is ranked twice, nothing else is encrypted, and k is hidden.
// Every challenge binds the manifest hash, the election key, the ballot
// style, the contest and its shape (strong Fiat–Shamir).
//
// Only R is mixed and decrypted. To keep the mix small, the ranks are
// packed as digits in base n+1, as many to a ciphertext as keep the value
// below 2^20, spread evenly over the fewest ciphertexts (for 10
// candidates: 5 per ciphertext, 2 ciphertexts a ballot), homomorphically, by
// whoever prepares the mix input; decryption finds each packed value in a
// table of (n+1)^d ≤ 2^20 points.
//
// What a verified ballot proves: the voter's device encrypted a valid
// ranking of this contest, for this manifest and style. It does not prove
// which ranking (that is the Benaloh audit, [Contest.CheckAudit]), nor who
// cast it (blind-signature authorisation, protocol §5).
//
// What it assumes: those of crypto/elgamal, crypto/proof and
// crypto/shuffle.
package ranked
