// Package shuffle implements a verifiable re-encryption mix of lists of
// exponential ElGamal ciphertext vectors over ristretto255 (protocol §9.2 to
// §9.6): [Shuffle] permutes the rows of a [List] at random, re-encrypts every
// ciphertext, and proves it with the proof of a shuffle of Terelius and
// Wikström ("Proofs of restricted shuffles", AFRICACRYPT 2010; Wikström,
// "A commitment-consistent proof of a shuffle", ACISP 2009), as specified
// step by step by Haenni, Locher, Koenig and Dubuis ("Pseudo-code algorithms
// for verifiable re-encryption mix-nets", FC 2017 workshops) and used by
// Verificatum and Belenios, extended to rows of several ciphertexts shuffled
// together (Verificatum's "width"). [Verify] checks a proof; [VerifyCascade]
// checks a cascade of shuffles (each trustee in turn) and names the one that
// fails.
//
// Decryption of a mixed list reuses crypto/threshold: each trustee publishes
// a [PartialDecryption] (threshold partial decryptions with DLEQ proofs of
// every α), and [Decrypt] verifies and combines them, naming the trustee,
// row and column of a wrong decryption.
//
// What a verified proof shows: the output list is the input list with its
// rows permuted and every ciphertext re-encrypted under the statement's key
// (so it holds the same plaintext rows), without revealing the permutation
// (special-soundness and honest-verifier zero knowledge of the Σ-protocol,
// made non-interactive with strong Fiat–Shamir: every challenge hashes the
// key, the generator label, the context, both lists and all commitments).
//
// What it assumes: discrete log and DDH in ristretto255; the generators
// G_0 … G_{N−1} and H are independent (derived by hash-to-group from a public
// label, [Generator], so nobody knows their discrete logarithms); SHA-256 and
// H_s as random oracles. The batching challenges u_j are 128 bits (as in
// Verificatum), the final challenge a full scalar.
//
// Secrets (the permutation, re-encryption nonces and proof randomness) are
// only multiplied in constant time (gtank/ristretto255); the copies of rows
// and the choice of commitment generators follow the permutation in memory.
// Verification uses public data only and variable-time multi-scalar
// multiplication (crypto/internal/msm).
package shuffle
