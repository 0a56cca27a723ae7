package threshold

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/cloudflare/circl/group"
)

// g is the protocol group, ristretto255 (protocol §2).
var g = group.Ristretto255

const (
	// ElementSize is the length of an encoded group element.
	ElementSize = 32
	// ScalarSize is the length of an encoded scalar.
	ScalarSize = 32
	// MaxTrustees bounds n, the number of trustees.
	MaxTrustees = 32
	// ManifestHashSize is the length of manifest_hash (SHA-256).
	ManifestHashSize = 32

	dstSchnorr = "eballot-v1/schnorr"
	dstDLEQ    = "eballot-v1/dleq"
	dstRandom  = "eballot-v1/threshold-random"
	dstNonce   = "eballot-v1/threshold-nonce"

	wireVersion = 1
)

var ceremonyRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func checkCeremony(c string) error {
	if !ceremonyRE.MatchString(c) {
		return errors.New("threshold: ceremony id must match [a-z0-9-]{1,64}")
	}
	return nil
}

func checkParams(n, k int) error {
	if n < 1 || n > MaxTrustees || k < 1 || k > n {
		return fmt.Errorf("threshold: invalid parameters n=%d k=%d (need 1 ≤ k ≤ n ≤ %d)", n, k, MaxTrustees)
	}
	return nil
}

// randomScalar derives a uniform scalar from 64 bytes of r (reduction of a
// wide value through expand_message_xmd), so that a seeded reader gives
// deterministic output. circl's RandomScalar ignores its reader.
func randomScalar(r io.Reader) (group.Scalar, error) {
	var buf [64]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return nil, fmt.Errorf("threshold: read randomness: %w", err)
	}
	s := g.HashToScalar(buf[:], []byte(dstRandom))
	clear(buf[:])
	return s, nil
}

// nonce derives a proof nonce from 64 bytes of r hedged with the secret and
// the statement, so a broken reader does not leak the secret by nonce reuse
// across different statements.
func nonce(r io.Reader, secret group.Scalar, statement []byte) (group.Scalar, error) {
	msg := make([]byte, 64, 64+ScalarSize+len(statement))
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, fmt.Errorf("threshold: read randomness: %w", err)
	}
	sb, err := secret.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("threshold: encode secret: %w", err)
	}
	msg = append(msg, sb...)
	msg = append(msg, statement...)
	w := g.HashToScalar(msg, []byte(dstNonce))
	clear(msg)
	clear(sb)
	return w, nil
}

func encodeElement(e group.Element) []byte {
	b, err := e.MarshalBinary()
	if err != nil || len(b) != ElementSize {
		// ristretto255 encoding cannot fail; keep a fixed-size output.
		return make([]byte, ElementSize)
	}
	return b
}

func encodeScalar(s group.Scalar) []byte {
	b, err := s.MarshalBinary()
	if err != nil || len(b) != ScalarSize {
		return make([]byte, ScalarSize)
	}
	return b
}

// decodeElement decodes a canonical element and rejects the identity.
func decodeElement(b []byte) (group.Element, error) {
	if len(b) != ElementSize {
		return nil, errors.New("threshold: element must be 32 bytes")
	}
	e := g.NewElement()
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("threshold: decode element: %w", err)
	}
	if e.IsIdentity() {
		return nil, errors.New("threshold: identity element")
	}
	return e, nil
}

// decodeScalar decodes a canonical scalar (< ℓ).
func decodeScalar(b []byte) (group.Scalar, error) {
	if len(b) != ScalarSize {
		return nil, errors.New("threshold: scalar must be 32 bytes")
	}
	s := g.NewScalar()
	if err := s.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("threshold: decode scalar: %w", err)
	}
	return s, nil
}

func scalarOf(i int) group.Scalar { return g.NewScalar().SetUint64(uint64(i)) }

func lp(dst, x []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(x)))
	return append(dst, x...)
}

// decodeHex decodes lowercase hex of exactly n bytes (n < 0: any length).
func decodeHex(s string, n int) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, errors.New("threshold: hex must be lowercase [0-9a-f]")
		}
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("threshold: decode hex: %w", err)
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("threshold: hex value must be %d bytes", n)
	}
	return b, nil
}

// reader is a strict binary reader: every read past the end sets err.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("threshold: truncated encoding")
	}
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.fail()
		return make([]byte, max(n, 0))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
func (r *reader) u8() uint8   { return r.bytes(1)[0] }
func (r *reader) u16() uint16 { return binary.BigEndian.Uint16(r.bytes(2)) }
func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.bytes(4)) }

// lpString reads lp(x) with len(x) ≤ maxLen.
func (r *reader) lpString(maxLen int) string {
	n := r.u32()
	if r.err != nil {
		return ""
	}
	if int64(n) > int64(maxLen) {
		r.err = errors.New("threshold: length prefix too large")
		return ""
	}
	return string(r.bytes(int(n)))
}

func (r *reader) done() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return errors.New("threshold: trailing bytes")
	}
	return nil
}

// header checks the version byte and the object kind.
func (r *reader) header(kind byte) {
	v, k := r.u8(), r.u8()
	if r.err == nil && (v != wireVersion || k != kind) {
		r.err = fmt.Errorf("threshold: wrong version or object kind (%d,%d)", v, k)
	}
}

// Object kinds (second byte of every binary encoding).
const (
	kindDealing     = 1
	kindShare       = 2
	kindComplaint   = 3
	kindPartial     = 4
	kindSecretShare = 5
)
