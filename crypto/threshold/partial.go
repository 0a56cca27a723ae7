package threshold

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cloudflare/circl/group"
)

const (
	// DLEQProofSize is the length of an encoded [DLEQProof]: A ‖ B ‖ z.
	DLEQProofSize = 2*ElementSize + ScalarSize
	// MaxAlphas bounds the number of ciphertexts in one [Partial].
	MaxAlphas = 1 << 14
)

// DLEQProof proves log_G X_j = log_α D_j (protocol §7): A = w·G, B = w·α,
// c = H_s("eballot-v1/dleq", lp(manifest_hash) ‖ lp(K) ‖ u32(j) ‖ X_j ‖ α ‖
// D_j ‖ A ‖ B), z = w + c·x_j. Encoding A ‖ B ‖ z (96 bytes).
type DLEQProof struct {
	A, B group.Element
	Z    group.Scalar
}

// Partial is trustee Trustee's partial decryption D = x_j·α of a list of
// α's, each with its DLEQ proof. The α's themselves are not included: the
// verifier recomputes them (homomorphic sums) from the ledger.
type Partial struct {
	ManifestHash [ManifestHashSize]byte
	Trustee      int
	D            []group.Element
	Proofs       []*DLEQProof
}

func dleqTranscript(mh []byte, K group.Element, j int, X, alpha, D, A, B group.Element) []byte {
	m := lp(nil, mh)
	m = lp(m, encodeElement(K))
	m = binary.BigEndian.AppendUint32(m, uint32(j))
	for _, e := range []group.Element{X, alpha, D, A, B} {
		m = append(m, encodeElement(e)...)
	}
	return m
}

func checkAlphas(alphas []group.Element) error {
	if len(alphas) == 0 || len(alphas) > MaxAlphas {
		return fmt.Errorf("threshold: need 1 to %d ciphertexts", MaxAlphas)
	}
	for _, a := range alphas {
		if a == nil || a.IsIdentity() {
			return errors.New("threshold: missing or identity α")
		}
	}
	return nil
}

func checkPub(pub *PublicKey) error {
	if pub == nil || pub.Key == nil || pub.Key.IsIdentity() {
		return errors.New("threshold: missing or identity election key")
	}
	if err := checkParams(len(pub.Shares), pub.Threshold); err != nil {
		return err
	}
	for _, X := range pub.Shares {
		if X == nil || X.IsIdentity() {
			return errors.New("threshold: missing or identity public share")
		}
	}
	return nil
}

// PartialDecrypt computes D = x_j·α for every α with a DLEQ proof bound to
// manifestHash (32 bytes) and pub.Key.
func PartialDecrypt(rand io.Reader, pub *PublicKey, sk *SecretShare, manifestHash []byte, alphas []group.Element) (*Partial, error) {
	if err := checkPub(pub); err != nil {
		return nil, err
	}
	if sk == nil || sk.x == nil || sk.Index < 1 || sk.Index > len(pub.Shares) {
		return nil, errors.New("threshold: invalid secret share")
	}
	if len(manifestHash) != ManifestHashSize {
		return nil, errors.New("threshold: manifest hash must be 32 bytes")
	}
	if err := checkAlphas(alphas); err != nil {
		return nil, err
	}
	X := pub.Shares[sk.Index-1]
	if !g.NewElement().MulGen(sk.x).IsEqual(X) {
		return nil, errors.New("threshold: secret share does not match public key")
	}
	p := &Partial{Trustee: sk.Index, D: make([]group.Element, len(alphas)), Proofs: make([]*DLEQProof, len(alphas))}
	copy(p.ManifestHash[:], manifestHash)
	for i, alpha := range alphas {
		D := g.NewElement().Mul(alpha, sk.x)
		w, err := nonce(rand, sk.x, dleqTranscript(manifestHash, pub.Key, sk.Index, X, alpha, D, D, D))
		if err != nil {
			return nil, err
		}
		A := g.NewElement().MulGen(w)
		B := g.NewElement().Mul(alpha, w)
		c := g.HashToScalar(dleqTranscript(manifestHash, pub.Key, sk.Index, X, alpha, D, A, B), []byte(dstDLEQ))
		z := g.NewScalar().Mul(c, sk.x)
		z.Add(z, w)
		p.D[i] = D
		p.Proofs[i] = &DLEQProof{A: A, B: B, Z: z}
	}
	return p, nil
}

// VerifyPartial checks every DLEQ proof of p against pub (K and X_j),
// manifestHash and the α's, in order.
func VerifyPartial(pub *PublicKey, manifestHash []byte, alphas []group.Element, p *Partial) error {
	if err := checkPub(pub); err != nil {
		return err
	}
	if len(manifestHash) != ManifestHashSize {
		return errors.New("threshold: manifest hash must be 32 bytes")
	}
	if err := checkAlphas(alphas); err != nil {
		return err
	}
	if p == nil || !bytes.Equal(p.ManifestHash[:], manifestHash) {
		return errors.New("threshold: partial is for another manifest")
	}
	if p.Trustee < 1 || p.Trustee > len(pub.Shares) {
		return fmt.Errorf("threshold: trustee %d out of range", p.Trustee)
	}
	if len(p.D) != len(alphas) || len(p.Proofs) != len(alphas) {
		return errors.New("threshold: partial has the wrong number of decryptions")
	}
	X := pub.Shares[p.Trustee-1]
	for i, alpha := range alphas {
		D, pf := p.D[i], p.Proofs[i]
		if D == nil || pf == nil || pf.A == nil || pf.B == nil || pf.Z == nil || D.IsIdentity() {
			return fmt.Errorf("threshold: partial %d: incomplete decryption %d", p.Trustee, i)
		}
		c := g.HashToScalar(dleqTranscript(manifestHash, pub.Key, p.Trustee, X, alpha, D, pf.A, pf.B), []byte(dstDLEQ))
		l1 := g.NewElement().MulGen(pf.Z)
		r1 := g.NewElement().Mul(X, c)
		r1.Add(r1, pf.A)
		l2 := g.NewElement().Mul(alpha, pf.Z)
		r2 := g.NewElement().Mul(D, c)
		r2.Add(r2, pf.B)
		if !l1.IsEqual(r1) || !l2.IsEqual(r2) {
			return fmt.Errorf("threshold: partial %d: invalid DLEQ proof for ciphertext %d", p.Trustee, i)
		}
	}
	return nil
}

// lagrangeAtZero returns λ_j = Π_{m∈S, m≠j} m/(m−j) for every j in S.
func lagrangeAtZero(S []int) []group.Scalar {
	out := make([]group.Scalar, len(S))
	for a, j := range S {
		num, den := g.NewScalar().SetUint64(1), g.NewScalar().SetUint64(1)
		for _, m := range S {
			if m == j {
				continue
			}
			num.Mul(num, scalarOf(m))
			den.Mul(den, g.NewScalar().Sub(scalarOf(m), scalarOf(j)))
		}
		out[a] = num.Mul(num, g.NewScalar().Inv(den))
	}
	return out
}

// interpolate computes Σ λ_j·D_j for each position (no checks).
func interpolate(partials []*Partial) []group.Element {
	S := make([]int, len(partials))
	for i, p := range partials {
		S[i] = p.Trustee
	}
	lam := lagrangeAtZero(S)
	out := make([]group.Element, len(partials[0].D))
	for i := range out {
		acc := g.Identity()
		for a, p := range partials {
			acc.Add(acc, g.NewElement().Mul(p.D[i], lam[a]))
		}
		out[i] = acc
	}
	return out
}

// Combine verifies every partial (see [VerifyPartial]) and interpolates them
// at 0 to x·α for each α (protocol §7). It needs at least pub.Threshold
// partials from distinct trustees; any such set gives the same result.
func Combine(pub *PublicKey, manifestHash []byte, alphas []group.Element, partials []*Partial) ([]group.Element, error) {
	if err := checkPub(pub); err != nil {
		return nil, err
	}
	if len(partials) < pub.Threshold {
		return nil, fmt.Errorf("threshold: need %d partials, have %d", pub.Threshold, len(partials))
	}
	seen := make([]int, 0, len(partials))
	for _, p := range partials {
		if err := VerifyPartial(pub, manifestHash, alphas, p); err != nil {
			return nil, err
		}
		if slices.Contains(seen, p.Trustee) {
			return nil, fmt.Errorf("threshold: trustee %d appears twice", p.Trustee)
		}
		seen = append(seen, p.Trustee)
	}
	return interpolate(partials), nil
}

// MarshalBinary encodes the proof as A ‖ B ‖ z.
func (p *DLEQProof) MarshalBinary() ([]byte, error) {
	if p == nil || p.A == nil || p.B == nil || p.Z == nil {
		return nil, errors.New("threshold: incomplete DLEQ proof")
	}
	b := append(encodeElement(p.A), encodeElement(p.B)...)
	return append(b, encodeScalar(p.Z)...), nil
}

// ParseDLEQProof decodes A ‖ B ‖ z strictly.
func ParseDLEQProof(b []byte) (*DLEQProof, error) {
	if len(b) != DLEQProofSize {
		return nil, fmt.Errorf("threshold: DLEQ proof must be %d bytes", DLEQProofSize)
	}
	A, err := decodeElement(b[:32])
	if err != nil {
		return nil, fmt.Errorf("threshold: DLEQ proof: %w", err)
	}
	B, err := decodeElement(b[32:64])
	if err != nil {
		return nil, fmt.Errorf("threshold: DLEQ proof: %w", err)
	}
	z, err := decodeScalar(b[64:])
	if err != nil {
		return nil, fmt.Errorf("threshold: DLEQ proof: %w", err)
	}
	return &DLEQProof{A: A, B: B, Z: z}, nil
}

// Consistent checks that the trustees' public shares and the election key
// come from one sharing of one secret (protocol §7, check
// manifest.trustees): the shares X_1 … X_n lie on one polynomial of degree
// < k "in the exponent" whose value at 0 is K. Interpolating the first k
// shares must give K at 0 and X_j at every other j. Without this check a
// manifest could carry public shares that no key ceremony made, and two
// sets of k valid partial decryptions could decrypt to different counts.
func (pk *PublicKey) Consistent() error {
	if err := checkPub(pk); err != nil {
		return err
	}
	k := pk.Threshold
	S := make([]int, k)
	for i := range S {
		S[i] = i + 1
	}
	at := func(x int) group.Element {
		acc := g.Identity()
		for a, j := range S {
			num, den := g.NewScalar().SetUint64(1), g.NewScalar().SetUint64(1)
			for _, m := range S {
				if m == j {
					continue
				}
				num.Mul(num, g.NewScalar().Sub(scalarOf(x), scalarOf(m)))
				den.Mul(den, g.NewScalar().Sub(scalarOf(j), scalarOf(m)))
			}
			acc.Add(acc, g.NewElement().Mul(pk.Shares[a], num.Mul(num, g.NewScalar().Inv(den))))
		}
		return acc
	}
	if !at(0).IsEqual(pk.Key) {
		return errors.New("threshold: the trustees' public shares do not interpolate to the election key")
	}
	for j := k + 1; j <= len(pk.Shares); j++ {
		if !at(j).IsEqual(pk.Shares[j-1]) {
			return fmt.Errorf("threshold: trustee %d's public share is not on the polynomial of the others", j)
		}
	}
	return nil
}
