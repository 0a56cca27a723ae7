// Package enc holds the shared, hidden encoding helpers of the eBallot
// crypto packages (docs/protocol.md §2): strict ristretto255 element and
// scalar decoding for both backends (circl for secrets, gtank for public
// verification), reader-driven scalar sampling and the length-prefixed
// integer encodings used in transcripts.
package enc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
)

// G is the ristretto255 group of circl.
var G = group.Ristretto255

// Sizes of the encodings.
const (
	ElementSize = 32
	ScalarSize  = 32
)

// Errors returned by the decoders (wrapped by the callers' packages).
var (
	ErrElement  = errors.New("non-canonical or invalid group element")
	ErrIdentity = errors.New("identity element")
	ErrScalar   = errors.New("non-canonical scalar")
	ErrLength   = errors.New("wrong length")
)

// RandomScalar derives a uniformly random scalar from 64 bytes of r reduced
// mod ℓ. Unlike circl's RandomScalar it really uses r, so seeded readers give
// deterministic test vectors.
func RandomScalar(r io.Reader) (group.Scalar, error) {
	var buf [64]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return nil, fmt.Errorf("read randomness: %w", err)
	}
	s := ristretto255.NewScalar().FromUniformBytes(buf[:])
	var b [32]byte
	s.Encode(b[:0])
	clear(buf[:])
	out := G.NewScalar()
	if err := out.UnmarshalBinary(b[:]); err != nil {
		return nil, fmt.Errorf("reduce scalar: %w", err) // unreachable
	}
	clear(b[:])
	return out, nil
}

// DecodeElement strictly decodes a 32-byte canonical ristretto255 encoding
// with circl. If nonIdentity is set, the identity is rejected.
func DecodeElement(b []byte, nonIdentity bool) (group.Element, error) {
	if len(b) != ElementSize {
		return nil, ErrLength
	}
	e := G.NewElement()
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, ErrElement
	}
	if nonIdentity && e.IsIdentity() {
		return nil, ErrIdentity
	}
	return e, nil
}

// DecodeScalar strictly decodes a 32-byte little-endian scalar < ℓ (circl).
func DecodeScalar(b []byte) (group.Scalar, error) {
	if len(b) != ScalarSize {
		return nil, ErrLength
	}
	s := G.NewScalar()
	if err := s.UnmarshalBinary(b); err != nil {
		return nil, ErrScalar
	}
	return s, nil
}

var identityEnc [32]byte

// DecodeFast strictly decodes a 32-byte element with gtank (public data only)
// into e. If nonIdentity is set, the identity is rejected.
func DecodeFast(e *ristretto255.Element, b []byte, nonIdentity bool) error {
	if len(b) != ElementSize {
		return ErrLength
	}
	if nonIdentity && [32]byte(b) == identityEnc {
		// The identity has exactly one canonical encoding: all zeros.
		return ErrIdentity
	}
	if err := e.Decode(b); err != nil {
		return ErrElement
	}
	return nil
}

// DecodeFastScalar strictly decodes a 32-byte scalar with gtank into s.
func DecodeFastScalar(s *ristretto255.Scalar, b []byte) error {
	if len(b) != ScalarSize {
		return ErrLength
	}
	if err := s.Decode(b); err != nil {
		return ErrScalar
	}
	return nil
}

// MarshalElement returns the 32-byte encoding of a circl element.
func MarshalElement(e group.Element) []byte {
	b, err := e.MarshalBinary()
	if err != nil {
		panic("enc: marshal element: " + err.Error()) // unreachable for ristretto255
	}
	return b
}

// MarshalScalar returns the 32-byte encoding of a circl scalar.
func MarshalScalar(s group.Scalar) []byte {
	b, err := s.MarshalBinary()
	if err != nil {
		panic("enc: marshal scalar: " + err.Error()) // unreachable for ristretto255
	}
	return b
}

// ToFast converts a circl element to gtank via its encoding.
func ToFast(e group.Element) *ristretto255.Element {
	f := ristretto255.NewElement()
	if err := f.Decode(MarshalElement(e)); err != nil {
		panic("enc: re-decode element: " + err.Error()) // unreachable
	}
	return f
}

// ToCircl converts a gtank element to circl via its encoding.
func ToCircl(f *ristretto255.Element) group.Element {
	e := G.NewElement()
	if err := e.UnmarshalBinary(f.Encode(nil)); err != nil {
		panic("enc: re-decode element: " + err.Error()) // unreachable
	}
	return e
}

// FastScalar converts a circl scalar to gtank (public values only).
func FastScalar(s group.Scalar) *ristretto255.Scalar {
	f := ristretto255.NewScalar()
	if err := f.Decode(MarshalScalar(s)); err != nil {
		panic("enc: re-decode scalar: " + err.Error()) // unreachable
	}
	return f
}

// AppendLP appends lp(x) = u32(len(x)) ‖ x.
func AppendLP(dst, x []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(x)))
	return append(dst, x...)
}

// AppendU16 appends a big-endian uint16.
func AppendU16(dst []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(dst, v) }

// AppendU32 appends a big-endian uint32.
func AppendU32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }
