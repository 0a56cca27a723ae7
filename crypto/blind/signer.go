package blind

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"filippo.io/bigmod"
)

// Signer is an issuer private key prepared for the RFC 9474 BlindSign
// operation: the RSA private operation m^d mod N by the Chinese remainder
// theorem on filippo.io/bigmod (the standard library's
// crypto/internal/fips140/bigmod, which crypto/rsa uses), constant-time in
// every secret: the primes, the CRT exponents, q⁻¹ mod p and all
// intermediate values. Only sizes leak (the bit lengths of N, p and q; the
// CRT exponents are zero-padded to the byte length of their prime) and
// whether the final fault check failed.
//
// There is no RSA (base) blinding: it only protects variable-time
// arithmetic, and none runs on secrets here (crypto/rsa dropped it for the
// same reason when it moved to bigmod). Every signature is checked,
// s^e mod N = m, before it is returned, so a fault in the CRT computation
// (Bellcore attack, which would reveal a prime) gives an error, never a
// signature.
//
// The result is byte-for-byte what circl's blindrsa Signer.BlindSign
// returns (m^d mod N is unique), about 3× faster (circl exponentiates with
// the full d mod N, without the CRT). A Signer is immutable
// and safe for concurrent use.
type Signer struct {
	pub     rsa.PublicKey
	n, p, q *bigmod.Modulus
	dP, dQ  []byte      // d mod (p−1), d mod (q−1): big-endian, padded to len(p), len(q)
	qInv    *bigmod.Nat // q⁻¹ mod p
	qModN   *bigmod.Nat // q as an element mod N, for Garner's recombination
	e       uint
}

// NewSigner checks sk (2048-bit, e = 65537, exactly two primes, CRT values
// present: [rsa.PrivateKey.Precompute], which crypto/rsa's key generation
// and parsers already call; [rsa.PrivateKey.Validate] must pass) and
// precomputes its moduli. It does not modify sk and keeps no reference to
// its big.Ints.
func NewSigner(sk *rsa.PrivateKey) (*Signer, error) {
	if sk == nil {
		return nil, errors.New("blind: nil private key")
	}
	if err := checkPublicKey(&sk.PublicKey); err != nil {
		return nil, err
	}
	return newSigner(sk)
}

// newSigner is NewSigner without the key-size policy (any two-prime key
// with an odd public exponent; the RFC 9474 vectors use 4096 bits).
func newSigner(sk *rsa.PrivateKey) (*Signer, error) {
	if len(sk.Primes) != 2 {
		return nil, fmt.Errorf("blind: private key has %d primes, only two-prime RSA keys are supported", len(sk.Primes))
	}
	pre := &sk.Precomputed
	if sk.D == nil || sk.Primes[0] == nil || sk.Primes[1] == nil || pre.Dp == nil || pre.Dq == nil || pre.Qinv == nil {
		return nil, errors.New("blind: private key lacks CRT values (call sk.Precompute)")
	}
	// Validate is cheap on keys crypto/rsa has precomputed (it compares the
	// big.Ints with the values it checked then), so a tampered Dp, Dq or
	// Qinv is refused here; the fault check in BlindSign catches the rest.
	if err := sk.Validate(); err != nil {
		return nil, fmt.Errorf("blind: invalid private key: %w", err)
	}
	if sk.E < 3 || sk.E&1 == 0 {
		return nil, errors.New("blind: bad public exponent")
	}
	P, Q := sk.Primes[0], sk.Primes[1]
	if P.Sign() <= 0 || Q.Sign() <= 0 || P.Bit(0) == 0 || Q.Bit(0) == 0 || P.Cmp(bigOne) == 0 || Q.Cmp(bigOne) == 0 {
		return nil, errors.New("blind: bad prime") // bigmod.Exp panics on an even modulus
	}
	s := &Signer{pub: rsa.PublicKey{N: new(big.Int).Set(sk.N), E: sk.E}, e: uint(sk.E)}
	var err error
	if s.n, err = bigmod.NewModulus(sk.N.Bytes()); err != nil {
		return nil, fmt.Errorf("blind: modulus: %w", err)
	}
	pb, qb := P.Bytes(), Q.Bytes()
	if s.p, err = bigmod.NewModulus(pb); err != nil {
		return nil, fmt.Errorf("blind: prime p: %w", err)
	}
	if s.q, err = bigmod.NewModulus(qb); err != nil {
		return nil, fmt.Errorf("blind: prime q: %w", err)
	}
	if s.dP, err = padExponent(pre.Dp, s.p); err != nil {
		return nil, err
	}
	if s.dQ, err = padExponent(pre.Dq, s.q); err != nil {
		return nil, err
	}
	if pre.Qinv.Sign() < 0 {
		return nil, errors.New("blind: bad CRT coefficient")
	}
	if s.qInv, err = bigmod.NewNat().SetBytes(pre.Qinv.Bytes(), s.p); err != nil {
		return nil, errors.New("blind: CRT coefficient not reduced mod p")
	}
	if s.qModN, err = bigmod.NewNat().SetBytes(qb, s.n); err != nil {
		return nil, errors.New("blind: prime q ≥ N")
	}
	return s, nil
}

var bigOne = big.NewInt(1)

// padExponent returns x as big-endian bytes, zero-padded to the byte length
// of m, so that bigmod's Exp (which runs two 4-bit windows per exponent
// byte) takes the same time for every CRT exponent of the key size.
func padExponent(x *big.Int, m *bigmod.Modulus) ([]byte, error) {
	if x.Sign() <= 0 || x.BitLen() > m.BitLen() {
		return nil, errors.New("blind: bad CRT exponent")
	}
	return x.FillBytes(make([]byte, m.Size())), nil
}

// PublicKey returns (a copy made by NewSigner of) the signer's public key.
func (s *Signer) PublicKey() *rsa.PublicKey { return &s.pub }

// BlindSign computes the blind signature blinded^d mod N (RFC 9474
// BlindSign) on a blinded message of exactly the modulus length (256 bytes
// for an issuer key) in [1, N), returned as big-endian bytes of the
// modulus length. Constant-time in the key; see [Signer].
func (s *Signer) BlindSign(blinded []byte) ([]byte, error) {
	if len(blinded) != s.n.Size() {
		return nil, fmt.Errorf("%w: must be %d bytes, got %d", ErrBlindedMessage, s.n.Size(), len(blinded))
	}
	// The blinded message is public (the issuer receives it in the clear).
	m, err := bigmod.NewNat().SetBytes(blinded, s.n)
	if err != nil || m.IsZero() == 1 {
		return nil, fmt.Errorf("%w: out of range [1, N)", ErrBlindedMessage)
	}
	t := bigmod.NewNat()
	// sp = m^dP mod p, sq = m^dQ mod q.
	sp := bigmod.NewNat().Exp(t.Mod(m, s.p), s.dP, s.p)
	sq := bigmod.NewNat().Exp(t.Mod(m, s.q), s.dQ, s.q)
	// Garner: h = qInv·(sp − sq) mod p (sq may exceed p: reduce it first),
	// then sig = sq + h·q, computed mod N (h·q + sq ≤ N − 1, no reduction
	// actually happens).
	h := sp.Sub(t.Mod(sq, s.p), s.p)
	h.Mul(s.qInv, s.p)
	sig := h.ExpandFor(s.n).Mul(s.qModN, s.n)
	sig.Add(sq.ExpandFor(s.n), s.n)
	// Fault check with the public exponent (variable time is fine: e is
	// public, and sig is the output anyway).
	if bigmod.NewNat().ExpShortVarTime(sig, s.e, s.n).Equal(m) != 1 {
		return nil, errors.New("blind: sign: RSA fault check failed")
	}
	return sig.Bytes(s.n), nil
}

// signerCacheSize bounds the number of keys BlindSign keeps a Signer for
// (issuance has one key per election and style); the cache is emptied when
// it is full.
const signerCacheSize = 16

var signerCache struct {
	sync.Mutex
	m map[*rsa.PrivateKey]*Signer
}

// cachedSigner returns the Signer of sk (whose public key the caller has
// checked), building it on first use. A cached Signer is used only while
// sk still has the same N and e: every valid key with that public key
// computes the same signatures, so a key changed in place afterwards can
// never make BlindSign sign under a stale key.
func cachedSigner(sk *rsa.PrivateKey) (*Signer, error) {
	signerCache.Lock()
	s := signerCache.m[sk]
	signerCache.Unlock()
	if s != nil && s.pub.E == sk.E && s.pub.N.Cmp(sk.N) == 0 {
		return s, nil
	}
	s, err := NewSigner(sk)
	if err != nil {
		return nil, err
	}
	signerCache.Lock()
	if signerCache.m == nil || len(signerCache.m) >= signerCacheSize {
		signerCache.m = make(map[*rsa.PrivateKey]*Signer, signerCacheSize)
	}
	signerCache.m[sk] = s
	signerCache.Unlock()
	return s, nil
}
