package threshold

import (
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
)

// SchnorrProofSize is the length of an encoded [SchnorrProof]: A ‖ z.
const SchnorrProofSize = ElementSize + ScalarSize

// SchnorrProof is a non-interactive proof of knowledge of a for P = a·G
// (protocol §7): A = w·G, c = H_s("eballot-v1/schnorr", lp(context) ‖ P ‖ A),
// z = w + c·a. Encoding A ‖ z, 64 bytes.
type SchnorrProof struct {
	A group.Element
	Z group.Scalar
}

func schnorrChallenge(context []byte, P, A group.Element) group.Scalar {
	msg := lp(nil, context)
	msg = append(msg, encodeElement(P)...)
	msg = append(msg, encodeElement(A)...)
	return g.HashToScalar(msg, []byte(dstSchnorr))
}

// ProveSchnorr proves knowledge of a for P = a·G under context.
func ProveSchnorr(rand io.Reader, context []byte, a group.Scalar) (*SchnorrProof, error) {
	P := g.NewElement().MulGen(a)
	w, err := nonce(rand, a, append(lp(nil, context), encodeElement(P)...))
	if err != nil {
		return nil, err
	}
	A := g.NewElement().MulGen(w)
	c := schnorrChallenge(context, P, A)
	z := g.NewScalar().Mul(c, a)
	z.Add(z, w)
	return &SchnorrProof{A: A, Z: z}, nil
}

// VerifySchnorr checks a proof of knowledge of log_G P under context.
// It rejects an identity P or A.
func VerifySchnorr(context []byte, P group.Element, pf *SchnorrProof) error {
	if P == nil || pf == nil || pf.A == nil || pf.Z == nil {
		return errors.New("threshold: missing Schnorr proof or key")
	}
	if P.IsIdentity() || pf.A.IsIdentity() {
		return errors.New("threshold: identity in Schnorr statement")
	}
	c := schnorrChallenge(context, P, pf.A)
	lhs := g.NewElement().MulGen(pf.Z)
	rhs := g.NewElement().Mul(P, c)
	rhs.Add(rhs, pf.A)
	if !lhs.IsEqual(rhs) {
		return errors.New("threshold: invalid Schnorr proof")
	}
	return nil
}

// MarshalBinary encodes the proof as A ‖ z.
func (p *SchnorrProof) MarshalBinary() ([]byte, error) {
	if p == nil || p.A == nil || p.Z == nil {
		return nil, errors.New("threshold: incomplete Schnorr proof")
	}
	return append(encodeElement(p.A), encodeScalar(p.Z)...), nil
}

// ParseSchnorrProof decodes A ‖ z strictly (canonical, A not identity).
func ParseSchnorrProof(b []byte) (*SchnorrProof, error) {
	if len(b) != SchnorrProofSize {
		return nil, fmt.Errorf("threshold: Schnorr proof must be %d bytes", SchnorrProofSize)
	}
	A, err := decodeElement(b[:ElementSize])
	if err != nil {
		return nil, fmt.Errorf("threshold: Schnorr proof: %w", err)
	}
	z, err := decodeScalar(b[ElementSize:])
	if err != nil {
		return nil, fmt.Errorf("threshold: Schnorr proof: %w", err)
	}
	return &SchnorrProof{A: A, Z: z}, nil
}
