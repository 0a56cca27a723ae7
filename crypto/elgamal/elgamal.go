// Package elgamal implements exponential ElGamal over ristretto255 as used
// by the eBallot protocol (docs/protocol.md §2 and §4): a selection m is
// encrypted under the joint election key K = x·G with a fresh nonce r as
//
//	(α, β) = (r·G, m·G + r·K)
//
// Ciphertexts add homomorphically ([Add], [Sum]); a sum decrypts to M = m·G,
// and m is recovered with a baby-step giant-step [Table].
//
// What it assumes: the decisional Diffie–Hellman problem is hard in
// ristretto255; nonces are uniformly random and never reused. Secret scalars
// (nonces, keys) are only handled with circl's constant-time operations;
// public values (decoded ciphertexts, sums) use gtank's faster arithmetic.
//
// Encodings: a [PublicKey] is 32 bytes, a [Ciphertext] 64 bytes (α ‖ β), both
// canonical ristretto255 encodings; the identity is rejected for keys and α.
package elgamal

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// Sizes of the encodings.
const (
	PublicKeySize  = 32
	SecretKeySize  = 32
	CiphertextSize = 64
	NonceSize      = 32
)

var (
	// ErrInvalidKey is returned for a malformed, non-canonical or identity key.
	ErrInvalidKey = errors.New("elgamal: invalid key")
	// ErrInvalidCiphertext is returned for a malformed or non-canonical
	// ciphertext, or one whose α is the identity.
	ErrInvalidCiphertext = errors.New("elgamal: invalid ciphertext")
	// ErrMismatch is returned by [CheckEncryption] when the ciphertext is not
	// the encryption of the claimed plaintext with the claimed nonce.
	ErrMismatch = errors.New("elgamal: ciphertext does not match plaintext and nonce")
	// ErrOutOfRange is returned by [Table.Solve] when the discrete log is not
	// within the table's bound.
	ErrOutOfRange = errors.New("elgamal: plaintext out of range")
)

// PublicKey is an election key K (never the identity).
type PublicKey struct {
	k    group.Element
	fast ristretto255.Element
	enc  [32]byte
}

// ParsePublicKey strictly decodes a 32-byte key, rejecting non-canonical
// encodings and the identity (protocol §2).
func ParsePublicKey(b []byte) (*PublicKey, error) {
	e, err := enc.DecodeElement(b, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return newPublicKey(e), nil
}

func newPublicKey(e group.Element) *PublicKey {
	pk := &PublicKey{k: e}
	copy(pk.enc[:], enc.MarshalElement(e))
	if err := pk.fast.Decode(pk.enc[:]); err != nil {
		panic("elgamal: re-decode key") // unreachable
	}
	return pk
}

// Bytes returns the 32-byte encoding of K.
func (pk *PublicKey) Bytes() []byte { return append([]byte(nil), pk.enc[:]...) }

// Element returns a copy of K as a circl group element.
func (pk *PublicKey) Element() group.Element { return pk.k.Copy() }

// Fast returns K for public, variable-time verification arithmetic. The
// caller must not modify it.
func (pk *PublicKey) Fast() *ristretto255.Element { return &pk.fast }

// Equal reports whether two keys are the same.
func (pk *PublicKey) Equal(o *PublicKey) bool { return pk.enc == o.enc }

// SecretKey is an ElGamal secret key x (for tests and tools; in an election x
// is shared k-of-n and never assembled).
type SecretKey struct {
	x group.Scalar
}

// GenerateKey derives a secret key from 64 bytes of rand.
func GenerateKey(rand io.Reader) (*SecretKey, error) {
	x, err := enc.RandomScalar(rand)
	if err != nil {
		return nil, fmt.Errorf("elgamal: generate key: %w", err)
	}
	if x.IsZero() {
		return nil, fmt.Errorf("elgamal: generate key: %w", ErrInvalidKey)
	}
	return &SecretKey{x: x}, nil
}

// ParseSecretKey decodes a 32-byte little-endian scalar 0 < x < ℓ.
func ParseSecretKey(b []byte) (*SecretKey, error) {
	x, err := enc.DecodeScalar(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	if x.IsZero() {
		return nil, ErrInvalidKey
	}
	return &SecretKey{x: x}, nil
}

// Bytes returns the 32-byte encoding of x.
func (sk *SecretKey) Bytes() []byte { return enc.MarshalScalar(sk.x) }

// PublicKey returns K = x·G.
func (sk *SecretKey) PublicKey() *PublicKey {
	return newPublicKey(enc.G.NewElement().MulGen(sk.x))
}

// Decrypt returns M = β − x·α = m·G (constant time in x). Recover m with
// [Table.Solve].
func (sk *SecretKey) Decrypt(c *Ciphertext) group.Element {
	xa := enc.G.NewElement().Mul(c.Alpha(), sk.x)
	return enc.G.NewElement().Add(c.Beta(), xa.Neg(xa))
}

// Ciphertext is an exponential ElGamal ciphertext (α, β). It is immutable.
type Ciphertext struct {
	alpha, beta ristretto255.Element
	enc         [64]byte
}

// ParseCiphertext strictly decodes α ‖ β (64 bytes): both canonical, α not
// the identity (protocol §2, §4.2).
func ParseCiphertext(b []byte) (*Ciphertext, error) { return ParseCiphertextHinted(b, nil) }

// ParseCiphertextHinted is [ParseCiphertext] with the decompression hints of
// α and β (docs/protocol.md §4.5: 64 bytes; nil decodes in full). A wrong
// hint is an error that wraps [ErrHint], not [ErrInvalidCiphertext].
func ParseCiphertextHinted(b, hints []byte) (*Ciphertext, error) {
	if len(b) != CiphertextSize {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCiphertext, enc.ErrLength)
	}
	if hints != nil && len(hints) != 2*enc.HintSize {
		return nil, fmt.Errorf("%w: %d bytes of hints for 2 elements", ErrHint, len(hints))
	}
	c := new(Ciphertext)
	if err := enc.DecodeFastAt(&c.alpha, b[:32], hints, 0, true); err != nil {
		return nil, ctError("alpha", err)
	}
	if err := enc.DecodeFastAt(&c.beta, b[32:], hints, 1, false); err != nil {
		return nil, ctError("beta", err)
	}
	copy(c.enc[:], b)
	return c, nil
}

func fromFast(a, b *ristretto255.Element) *Ciphertext {
	c := &Ciphertext{alpha: *a, beta: *b}
	a.Encode(c.enc[:0])
	b.Encode(c.enc[32:32])
	return c
}

// Bytes returns the 64-byte encoding α ‖ β.
func (c *Ciphertext) Bytes() []byte { return append([]byte(nil), c.enc[:]...) }

// AlphaBytes returns the 32-byte encoding of α.
func (c *Ciphertext) AlphaBytes() []byte { return append([]byte(nil), c.enc[:32]...) }

// Alpha returns α as a circl group element.
func (c *Ciphertext) Alpha() group.Element { return enc.ToCircl(&c.alpha) }

// Beta returns β as a circl group element.
func (c *Ciphertext) Beta() group.Element { return enc.ToCircl(&c.beta) }

// Fast returns α and β for public, variable-time verification arithmetic.
// The caller must not modify them.
func (c *Ciphertext) Fast() (alpha, beta *ristretto255.Element) { return &c.alpha, &c.beta }

// Equal reports whether two ciphertexts are identical.
func (c *Ciphertext) Equal(o *Ciphertext) bool { return c.enc == o.enc }

// Encrypt returns (r·G, m·G + r·K). The nonce r is secret; it is only used
// in constant-time circl operations.
func Encrypt(pk *PublicKey, m uint64, r group.Scalar) *Ciphertext {
	a := enc.G.NewElement().MulGen(r)
	mg := enc.G.NewElement().MulGen(enc.G.NewScalar().SetUint64(m))
	b := enc.G.NewElement().Mul(pk.k, r)
	b.Add(b, mg)
	c := new(Ciphertext)
	copy(c.enc[:32], enc.MarshalElement(a))
	copy(c.enc[32:], enc.MarshalElement(b))
	if c.alpha.Decode(c.enc[:32]) != nil || c.beta.Decode(c.enc[32:]) != nil {
		panic("elgamal: re-decode ciphertext") // unreachable
	}
	return c
}

// EncryptRand encrypts m with a fresh nonce derived from 64 bytes of rand and
// returns the ciphertext and the nonce (keep it secret; reveal it only for a
// Benaloh audit, protocol §4.4).
func EncryptRand(pk *PublicKey, m uint64, rand io.Reader) (*Ciphertext, group.Scalar, error) {
	r, err := enc.RandomScalar(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("elgamal: encrypt: %w", err)
	}
	return Encrypt(pk, m, r), r, nil
}

// CheckEncryption recomputes (r·G, m·G + r·K) and compares it with c
// (Benaloh audit, protocol §4.4). It returns [ErrMismatch] on a difference.
func CheckEncryption(pk *PublicKey, c *Ciphertext, m uint64, r group.Scalar) error {
	d := Encrypt(pk, m, r)
	if subtle.ConstantTimeCompare(d.enc[:], c.enc[:]) != 1 {
		return ErrMismatch
	}
	return nil
}

// FromElements returns the ciphertext (α, β) made of two elements, which
// may be the identity: for homomorphic sums of verified ciphertexts (a sum's
// α is the identity when the nonces cancel). Decoders never return such a
// ciphertext: use [ParseCiphertext] for input.
func FromElements(alpha, beta *ristretto255.Element) *Ciphertext { return fromFast(alpha, beta) }

// Add returns the homomorphic sum a + b, an encryption of the sum of the
// plaintexts.
func Add(a, b *Ciphertext) *Ciphertext {
	return Sum(a, b)
}

// Sum returns the homomorphic sum of cs; the sum of none is (identity,
// identity), an encryption of 0 with nonce 0.
func Sum(cs ...*Ciphertext) *Ciphertext {
	var a, b ristretto255.Element
	a.Zero()
	b.Zero()
	for _, c := range cs {
		a.Add(&a, &c.alpha)
		b.Add(&b, &c.beta)
	}
	return fromFast(&a, &b)
}

// ErrHint is returned (wrapped) by [ParseCiphertextHinted] when a
// decompression hint is wrong for a valid element.
var ErrHint = enc.ErrHint

func ctError(name string, err error) error {
	if errors.Is(err, enc.ErrHint) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrInvalidCiphertext, name, err)
}
