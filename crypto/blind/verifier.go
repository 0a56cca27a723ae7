package blind

import (
	"crypto/rsa"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"math/big"

	"filippo.io/bigmod"
)

// PSS parameters of RSABSSA-SHA384-PSS-Randomized for a 2048-bit modulus
// (RFC 9474 §5, RFC 8017 §9.1): emBits = 2047, so emLen = 256 and the top
// bit of EM must be zero.
const (
	hLen   = sha512.Size384                        // 48
	sLen   = hLen                                  // salt length 48
	emLen  = SignatureSize                         // 256
	dbLen  = emLen - hLen - 1                      // 207
	psLen  = emLen - hLen - sLen - 2               // 158
	emMask = 0xff >> (8*emLen - (ModulusBits - 1)) // 0x7f
)

// Verifier verifies RSABSSA-SHA384-PSS-Randomized signatures (RFC 9474)
// under one issuer key, with the key's modulus prepared once by
// [NewVerifier] (a [bigmod.Modulus]: its Montgomery constants). It accepts
// and rejects exactly what [Verify] (circl's blindrsa verifier) does, with
// about half its CPU time (docs/benchmarks.md), and is safe for concurrent
// use: build one per issuer key and share it.
//
// The RSA public operation s^e mod N is bigmod's ExpShortVarTime, as in
// crypto/rsa: variable-time in the exponent, which is public (65537), like
// everything else it touches (key, signature, message).
type Verifier struct {
	pub *rsa.PublicKey
	mod *bigmod.Modulus
	e   uint
}

// NewVerifier checks pub like [ParsePublicKey] does (2048-bit, e = 65537,
// odd modulus) and precomputes its verification constants.
func NewVerifier(pub *rsa.PublicKey) (*Verifier, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	// checkPublicKey admits only e = 65537, the only exponent the manifest
	// and the phones accept; exp itself works for any odd e ≥ 3.
	k := &rsa.PublicKey{N: new(big.Int).Set(pub.N), E: pub.E}
	mod, err := bigmod.NewModulus(k.N.Bytes())
	if err != nil {
		return nil, fmt.Errorf("blind: modulus: %w", err)
	}
	return &Verifier{pub: k, mod: mod, e: uint(k.E)}, nil
}

// PublicKey returns (a copy made by NewVerifier of) the verifier's key.
func (v *Verifier) PublicKey() *rsa.PublicKey { return v.pub }

// Verify checks sig as an RSASSA-PSS signature (SHA-384, MGF1-SHA-384, salt
// length 48) on the prepared message (prefix ‖ T for an authorisation),
// like circl's blindrsa Verifier.Verify for RSABSSA-SHA384-PSS-Randomized:
// the message may have any length, the signature must have 256 bytes. It
// returns [rsa.ErrVerification] on any failure.
func (v *Verifier) Verify(prepared, sig []byte) error {
	if len(sig) != SignatureSize {
		return rsa.ErrVerification
	}
	mHash := sha512.Sum384(prepared)
	if !v.verifyHash(&mHash, (*[SignatureSize]byte)(sig)) {
		return rsa.ErrVerification
	}
	return nil
}

// VerifyAuthorisation checks an authorisation (288 bytes) for tracker T
// (32 bytes) with the same result and error text as [Verify]
// (pub, T, authorisation).
func (v *Verifier) VerifyAuthorisation(tracker, authorisation []byte) error {
	if err := checkTracker(tracker); err != nil {
		return err
	}
	if len(authorisation) != AuthorisationSize {
		return fmt.Errorf("blind: authorisation must be %d bytes, got %d", AuthorisationSize, len(authorisation))
	}
	var msg [PreparedSize]byte
	copy(msg[:PrefixSize], authorisation[:PrefixSize])
	copy(msg[PrefixSize:], tracker)
	mHash := sha512.Sum384(msg[:])
	if !v.verifyHash(&mHash, (*[SignatureSize]byte)(authorisation[PrefixSize:])) {
		return fmt.Errorf("blind: invalid authorisation: %w", rsa.ErrVerification)
	}
	return nil
}

// verifyHash is RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) with EMSA-PSS-VERIFY
// (§9.1.2) for mHash = SHA-384(M).
func (v *Verifier) verifyHash(mHash *[hLen]byte, sig *[SignatureSize]byte) bool {
	// RSAVP1: s < N, m = s^e mod N, EM = I2OSP(m, 256). With emBits = 2047
	// and N < 2^2048, m always fits in emLen octets.
	s, err := bigmod.NewNat().SetBytes(sig[:], v.mod) // refuses s ≥ N
	if err != nil {
		return false
	}
	var em [emLen]byte
	copy(em[:], bigmod.NewNat().ExpShortVarTime(s, v.e, v.mod).Bytes(v.mod))

	// EMSA-PSS-VERIFY steps 4–6: trailer 0xbc, leftmost 8·emLen − emBits
	// bits of EM zero.
	if em[emLen-1] != 0xbc || em[0]&^emMask != 0 {
		return false
	}
	db := em[:dbLen]
	h := em[dbLen : emLen-1]
	// Steps 7–9: DB = maskedDB ⊕ MGF1-SHA-384(H, dbLen), clear the top bit.
	var in [hLen + 4]byte
	copy(in[:hLen], h)
	for ctr, off := uint32(0), 0; off < dbLen; ctr, off = ctr+1, off+hLen {
		in[hLen], in[hLen+1], in[hLen+2], in[hLen+3] = byte(ctr>>24), byte(ctr>>16), byte(ctr>>8), byte(ctr)
		mask := sha512.Sum384(in[:])
		subtle.XORBytes(db[off:], db[off:], mask[:])
	}
	db[0] &= emMask
	// Step 10: PS = 158 zero octets, then 0x01.
	for _, b := range db[:psLen] {
		if b != 0 {
			return false
		}
	}
	if db[psLen] != 0x01 {
		return false
	}
	// Steps 11–14: salt = last 48 octets of DB; H' = SHA-384(0^8 ‖ mHash ‖
	// salt) must equal H.
	var mp [8 + hLen + sLen]byte
	copy(mp[8:], mHash[:])
	copy(mp[8+hLen:], db[dbLen-sLen:])
	h2 := sha512.Sum384(mp[:])
	return subtle.ConstantTimeCompare(h, h2[:]) == 1
}
