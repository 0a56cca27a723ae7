// Package blind implements the anonymous ballot authorisation of the eBallot
// protocol (docs/protocol.md §5): RFC 9474 blind RSA signatures, variant
// RSABSSA-SHA384-PSS-Randomized, 2048-bit modulus, e = 65537, as a thin
// wrapper over circl blindsign/blindrsa, except for the issuer's private
// operation ([BlindSign], [Signer]): a constant-time CRT on
// filippo.io/bigmod, byte-for-byte equal to circl's.
//
// The phone calls [Prepare] on the 32-byte ballot tracker T, [Blind]s the
// prepared message, sends the blinded message to issuance, which calls
// [BlindSign], and turns the blind signature into an [Authorisation] with
// [BlindState.Finalize]. The ledger and the scrutineer check it with
// [Verify] (circl), or, for many authorisations under one issuer key, with a
// [Verifier] from [NewVerifier] (same results, per-key precomputation). An
// authorisation is prefix[32] ‖ signature[256] and verifies as
// RSASSA-PSS(SHA-384, salt 48) on prefix ‖ T.
//
// What it proves: the issuer's key signed prefix ‖ T; what it hides: which
// blinded message (hence which member) the signature came from. The issuer
// MUST sign at most one blinded message per member and style (protocol §5,
// enforced by the service, not by this package).
package blind

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/blindsign/blindrsa"
)

const (
	// ModulusBits is the issuer key size.
	ModulusBits = 2048
	// PublicExponent is the only accepted RSA public exponent.
	PublicExponent = 65537
	// TrackerSize is the length of the ballot tracker T.
	TrackerSize = 32
	// PrefixSize is the length of the random prefix of the prepared message.
	PrefixSize = 32
	// SignatureSize is the length of an RSA signature, blinded message or
	// blind signature.
	SignatureSize = ModulusBits / 8
	// AuthorisationSize is the length of an [Authorisation].
	AuthorisationSize = PrefixSize + SignatureSize
	// PreparedSize is the length of a prepared message prefix ‖ T.
	PreparedSize = PrefixSize + TrackerSize
)

const variant = blindrsa.SHA384PSSRandomized

// Authorisation is prefix[32] ‖ signature[256] (protocol §5).
type Authorisation [AuthorisationSize]byte

// Prefix returns the random prefix of the prepared message.
func (a *Authorisation) Prefix() []byte { return a[:PrefixSize] }

// Signature returns the RSA-PSS signature on prefix ‖ T.
func (a *Authorisation) Signature() []byte { return a[PrefixSize:] }

// ParseAuthorisation checks the length and copies b into an Authorisation.
func ParseAuthorisation(b []byte) (Authorisation, error) {
	var a Authorisation
	if len(b) != AuthorisationSize {
		return a, fmt.Errorf("blind: authorisation must be %d bytes, got %d", AuthorisationSize, len(b))
	}
	copy(a[:], b)
	return a, nil
}

func checkPublicKey(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return errors.New("blind: nil public key")
	}
	if pub.N.BitLen() != ModulusBits {
		return fmt.Errorf("blind: modulus must be %d bits, got %d", ModulusBits, pub.N.BitLen())
	}
	if pub.E != PublicExponent {
		return errors.New("blind: public exponent must be 65537")
	}
	if pub.N.Bit(0) == 0 {
		return errors.New("blind: even modulus")
	}
	return nil
}

func checkTracker(t []byte) error {
	if len(t) != TrackerSize {
		return fmt.Errorf("blind: tracker must be %d bytes, got %d", TrackerSize, len(t))
	}
	return nil
}

// GenerateIssuerKey makes a 2048-bit issuer key with e = 65537. Note that
// crypto/rsa may not use rand deterministically (or at all): key generation
// is never reproducible from a seed.
func GenerateIssuerKey(rand io.Reader) (*rsa.PrivateKey, error) {
	sk, err := rsa.GenerateKey(rand, ModulusBits)
	if err != nil {
		return nil, fmt.Errorf("blind: generate key: %w", err)
	}
	if err := checkPublicKey(&sk.PublicKey); err != nil {
		return nil, err
	}
	return sk, nil
}

// MarshalPublicKey encodes an issuer public key as DER SubjectPublicKeyInfo
// (the manifest's styles[].issuer_key, base64 of this).
func MarshalPublicKey(pub *rsa.PublicKey) ([]byte, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("blind: marshal public key: %w", err)
	}
	return der, nil
}

// ParsePublicKey decodes DER SubjectPublicKeyInfo (rsaEncryption) and
// rejects any key that is not 2048-bit with e = 65537, and trailing data.
func ParsePublicKey(der []byte) (*rsa.PublicKey, error) {
	if len(der) > 1024 {
		return nil, errors.New("blind: public key too long")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("blind: parse public key: %w", err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("blind: not an RSA public key")
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	// Reject alternative DER encodings: the encoding must round-trip.
	if re, err := x509.MarshalPKIXPublicKey(pub); err != nil || string(re) != string(der) {
		return nil, errors.New("blind: non-canonical public key encoding")
	}
	return pub, nil
}

// Prepare returns prefix ‖ T with a 32-byte random prefix read from rand
// (RFC 9474 Prepare, randomized variant).
func Prepare(rand io.Reader, tracker []byte) ([]byte, error) {
	if err := checkTracker(tracker); err != nil {
		return nil, err
	}
	p := make([]byte, PreparedSize)
	if _, err := io.ReadFull(rand, p[:PrefixSize]); err != nil {
		return nil, fmt.Errorf("blind: read prefix: %w", err)
	}
	copy(p[PrefixSize:], tracker)
	return p, nil
}

// BlindState is the client's secret state between [Blind] and
// [BlindState.Finalize]. It MUST NOT be sent to the issuer.
type BlindState struct {
	client   blindrsa.Client
	state    blindrsa.State
	prepared []byte
}

// Blind blinds a prepared message (from [Prepare]) for pub. It returns the
// 256-byte blinded message to send to issuance.
func Blind(rand io.Reader, pub *rsa.PublicKey, prepared []byte) ([]byte, *BlindState, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, nil, err
	}
	if len(prepared) != PreparedSize {
		return nil, nil, fmt.Errorf("blind: prepared message must be %d bytes", PreparedSize)
	}
	c, err := blindrsa.NewClient(variant, pub)
	if err != nil {
		return nil, nil, fmt.Errorf("blind: client: %w", err)
	}
	blinded, st, err := c.Blind(rand, prepared)
	if err != nil {
		return nil, nil, fmt.Errorf("blind: blind: %w", err)
	}
	return blinded, &BlindState{client: c, state: st, prepared: append([]byte(nil), prepared...)}, nil
}

// Finalize unblinds the issuer's blind signature, verifies it, and returns
// the authorisation prefix ‖ signature.
func (s *BlindState) Finalize(blindSig []byte) (Authorisation, error) {
	var a Authorisation
	if s == nil || len(s.prepared) != PreparedSize {
		return a, errors.New("blind: no blinding state")
	}
	if len(blindSig) != SignatureSize {
		return a, fmt.Errorf("blind: blind signature must be %d bytes", SignatureSize)
	}
	sig, err := s.client.Finalize(s.state, blindSig)
	if err != nil {
		return a, fmt.Errorf("blind: finalize: %w", err)
	}
	if err := s.client.Verify(s.prepared, sig); err != nil {
		return a, fmt.Errorf("blind: finalize: %w", err)
	}
	copy(a[:PrefixSize], s.prepared[:PrefixSize])
	copy(a[PrefixSize:], sig)
	return a, nil
}

// ErrBlindedMessage is wrapped by the errors of [BlindSign] and
// [Signer.BlindSign] for a blinded message of the wrong length or out of
// [1, N): the requester's fault. Any other error (a bad key, a failed
// fault check) is the issuer's.
var ErrBlindedMessage = errors.New("blind: bad blinded message")

// BlindSign is the issuer's RSA private operation (RFC 9474 BlindSign) on a
// 256-byte blinded message, which must be in [1, N): it returns
// blinded^d mod N as 256 big-endian bytes, byte-for-byte what circl's
// blindrsa Signer.BlindSign returns. It runs a [Signer]: CRT on
// filippo.io/bigmod, constant-time in the key, no RSA blinding (not needed
// without variable-time arithmetic on secrets), and every signature is
// checked (s^e = m) before it is returned, so a computation fault gives an
// error, never a signature that would leak a prime. sk must have exactly
// two primes and its CRT values and pass [rsa.PrivateKey.Validate] (see
// [NewSigner]); it is not modified.
//
// The [Signer] of sk (≈ 20 µs to build, 2% of a signature) is built once
// and cached by key pointer, for at most 16 keys, and used only while sk
// still has the N and e it was built from; keep using the same
// *rsa.PrivateKey for a key. [NewSigner] gives the same without the cache.
func BlindSign(sk *rsa.PrivateKey, blinded []byte) ([]byte, error) {
	if sk == nil {
		return nil, errors.New("blind: nil private key")
	}
	if err := checkPublicKey(&sk.PublicKey); err != nil {
		return nil, err
	}
	if len(blinded) != SignatureSize {
		return nil, fmt.Errorf("%w: must be %d bytes, got %d", ErrBlindedMessage, SignatureSize, len(blinded))
	}
	s, err := cachedSigner(sk)
	if err != nil {
		return nil, err
	}
	return s.BlindSign(blinded)
}

// Verify checks an authorisation (288 bytes) for tracker T (32 bytes) under
// the style's issuer key: RSASSA-PSS-SHA384 on prefix ‖ T, with circl's
// verifier. To check many authorisations under the same key, build a
// [Verifier] once instead (it gives the same results, faster).
func Verify(pub *rsa.PublicKey, tracker, authorisation []byte) error {
	if err := checkPublicKey(pub); err != nil {
		return err
	}
	if err := checkTracker(tracker); err != nil {
		return err
	}
	a, err := ParseAuthorisation(authorisation)
	if err != nil {
		return err
	}
	v, err := blindrsa.NewVerifier(variant, pub)
	if err != nil {
		return fmt.Errorf("blind: verifier: %w", err)
	}
	msg := make([]byte, 0, PreparedSize)
	msg = append(append(msg, a.Prefix()...), tracker...)
	if err := v.Verify(msg, a.Signature()); err != nil {
		return fmt.Errorf("blind: invalid authorisation: %w", err)
	}
	return nil
}
