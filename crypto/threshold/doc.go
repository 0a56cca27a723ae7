// Package threshold implements the k-of-n threshold key of the eBallot
// protocol (docs/protocol.md §7) over ristretto255 (RFC 9496, circl group).
//
// A key ceremony is a Pedersen/Feldman distributed key generation (DKG):
//
//  1. Each trustee i (1-based, n ≤ [MaxTrustees]) calls [Deal], publishes the
//     returned [Dealing] (Feldman commitments and a Schnorr proof of knowledge
//     of its constant term) and sends each [Share] to its recipient,
//     encrypted (the encryption is the ceremony tool's job; [Share] has a
//     strict binary encoding for the envelope plaintext).
//  2. Every trustee checks every published dealing with [Dealing.Verify] and
//     every share it received with [VerifyShare]. On failure it publishes a
//     [Complaint] carrying the share it received. The accused dealer may
//     answer by publishing the share it sent; [Adjudicate] decides, from
//     public data only, whether the dealer is disqualified.
//  3. The dealings of the qualified dealers give the public key material with
//     [PublicFromDealings] (joint election key K and every trustee's public
//     share X_j) and, for trustee j, its own secret share x_j with [Finalise].
//
// Decryption: trustee j publishes a [Partial] (x_j·α for each α with a
// Chaum–Pedersen DLEQ proof bound to the manifest hash and K) made by
// [PartialDecrypt]; anyone checks it with [VerifyPartial]; [Combine]
// interpolates any k verified partials at 0 to get x·α.
//
// Every public object has a strict binary encoding (MarshalBinary / Parse*)
// and a strict JSON encoding (MarshalJSON / UnmarshalJSON: lowercase hex,
// unknown fields rejected), so the ceremony CLI can write them to files.
//
// Randomness comes from an injected io.Reader; scalars are derived from 64
// bytes of it (so a seeded reader gives deterministic test vectors), and
// proof nonces are hedged with the secret and the statement.
package threshold
