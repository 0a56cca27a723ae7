// Package proof implements the disjunctive Chaum–Pedersen range proof of the
// eBallot protocol (docs/protocol.md §4.1): a non-interactive proof that an
// exponential ElGamal ciphertext (α, β) under the election key K encrypts
// m·G with m in a public list V = [v_0 … v_{n-1}]. One implementation serves
// both selections (V = [0, 1]) and question sums (V = [min … max]).
//
// What it proves: knowledge of r with α = r·G and β − v_t·G = r·K for some
// branch t, without revealing t (special-honest-verifier zero knowledge made
// non-interactive with strong Fiat–Shamir: the challenge hashes the manifest
// hash, K, the style/question/option position, V, the ciphertext and all
// commitments, so a proof cannot be replayed under another statement).
//
// What it assumes: discrete log is hard in ristretto255; the challenge hash
// H_s("eballot-v1/range", ·) (RFC 9380 expand_message_xmd, SHA-512) behaves
// as a random oracle; the prover's randomness is uniform.
//
// The prover runs in constant time with respect to the secret value and
// nonce (every branch is computed both ways with circl and selected with
// constant-time moves). Verification ([Verify], [BatchVerify]) handles public
// data only and uses gtank's variable-time arithmetic; [BatchVerify] checks
// many proofs with one random linear combination per chunk.
//
// Encoding: n × (A_j ‖ B_j ‖ c_j ‖ z_j), 128 bytes a branch.
package proof

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// Protocol constants.
const (
	// BranchSize is the encoded size of one branch A ‖ B ‖ c ‖ z.
	BranchSize = 128
	// MaxBranches bounds n = len(V).
	MaxBranches = 256
	// SumOption is the option index of a question's sum proof (protocol §4.1).
	SumOption = 0xffff
	// DST is the hash-to-scalar domain tag of the challenge.
	DST = "eballot-v1/range"
)

var (
	// ErrInvalidProof is returned when a proof does not verify.
	ErrInvalidProof = errors.New("proof: invalid proof")
	// ErrHint is returned (wrapped) by [ParseProofHinted] when a
	// decompression hint is wrong for a valid element.
	ErrHint = enc.ErrHint
	// ErrMalformed is returned when a proof encoding is malformed: wrong
	// length, a non-canonical element or scalar.
	ErrMalformed = errors.New("proof: malformed proof")
	// ErrStatement is returned for an ill-formed statement (no values, too
	// many values, a manifest hash that is not 32 bytes, nil fields).
	ErrStatement = errors.New("proof: invalid statement")
	// ErrWitness is returned by [Prove] when the witness value is not in V.
	ErrWitness = errors.New("proof: witness value not in statement values")
)

// Statement is the public statement of a range proof.
type Statement struct {
	// ManifestHash is SHA-256 of the canonical manifest (32 bytes).
	ManifestHash []byte
	// Key is the election key K.
	Key *elgamal.PublicKey
	// Style, Question and Option locate the ciphertext in the ballot;
	// Option is [SumOption] for a question's sum proof.
	Style, Question, Option uint16
	// Values is V.
	Values []uint32
	// Ciphertext is (α, β).
	Ciphertext *elgamal.Ciphertext
	// Parts optionally lists ciphertexts whose homomorphic sum is
	// Ciphertext (a question's selections for its sum proof). It is only a
	// hint for [BatchVerify]: when the parts' own proofs are in the same
	// combined check and Σ Parts = Ciphertext holds (checked), the sum's
	// coefficients are moved onto the parts, saving two full-width points.
	// It never changes the result.
	Parts []*elgamal.Ciphertext
}

// Witness is the prover's secret: the encrypted value (an element of V) and
// the encryption nonce r.
type Witness struct {
	Value uint32
	Nonce group.Scalar
}

// Proof is a decoded range proof. It is immutable.
type Proof struct {
	a, b []ristretto255.Element
	c, z []ristretto255.Scalar
	raw  []byte
}

func (st *Statement) check() error {
	if st == nil || st.Key == nil || st.Ciphertext == nil || len(st.ManifestHash) != 32 ||
		len(st.Values) == 0 || len(st.Values) > MaxBranches {
		return ErrStatement
	}
	return nil
}

// ParseProof strictly decodes a proof of n branches: the length must be
// exactly n·128 bytes, and every element and scalar canonical.
func ParseProof(b []byte, n int) (*Proof, error) { return ParseProofHinted(b, n, nil) }

// ParseProofHinted is [ParseProof] with the decompression hints of the 2n
// elements A_0, B_0, A_1, … (docs/protocol.md §4.5: 32 bytes each, in the
// order of the encoding; nil decodes in full). A wrong hint is an error
// that wraps [ErrHint], not [ErrMalformed].
func ParseProofHinted(b []byte, n int, hints []byte) (*Proof, error) {
	if n <= 0 || n > MaxBranches || len(b) != n*BranchSize {
		return nil, fmt.Errorf("%w: length %d for %d branches", ErrMalformed, len(b), n)
	}
	if hints != nil && len(hints) != 2*n*enc.HintSize {
		return nil, fmt.Errorf("%w: %d bytes of hints for %d elements", ErrHint, len(hints), 2*n)
	}
	p := &Proof{
		a: make([]ristretto255.Element, n), b: make([]ristretto255.Element, n),
		c: make([]ristretto255.Scalar, n), z: make([]ristretto255.Scalar, n),
		raw: append([]byte(nil), b...),
	}
	for j := 0; j < n; j++ {
		br := b[j*BranchSize:]
		if err := enc.DecodeFastAt(&p.a[j], br[0:32], hints, 2*j, false); err != nil {
			return nil, elementError("A", j, err)
		}
		if err := enc.DecodeFastAt(&p.b[j], br[32:64], hints, 2*j+1, false); err != nil {
			return nil, elementError("B", j, err)
		}
		if err := enc.DecodeFastScalar(&p.c[j], br[64:96]); err != nil {
			return nil, fmt.Errorf("%w: c_%d: %w", ErrMalformed, j, err)
		}
		if err := enc.DecodeFastScalar(&p.z[j], br[96:128]); err != nil {
			return nil, fmt.Errorf("%w: z_%d: %w", ErrMalformed, j, err)
		}
	}
	return p, nil
}

// Bytes returns the encoding of the proof.
func (p *Proof) Bytes() []byte { return append([]byte(nil), p.raw...) }

// Branches returns n, the number of branches.
func (p *Proof) Branches() int { return len(p.a) }

// transcript builds T up to (but excluding) the commitments, then appends
// the commitments taken from the encoded proof (A_j ‖ B_j of each branch).
func transcript(st *Statement, commitments func(dst []byte) []byte) []byte {
	n := len(st.Values)
	t := make([]byte, 0, 4+32+4+32+6+4+4*n+64+64*n)
	t = enc.AppendLP(t, st.ManifestHash)
	t = enc.AppendLP(t, st.Key.Bytes())
	t = enc.AppendU16(t, st.Style)
	t = enc.AppendU16(t, st.Question)
	t = enc.AppendU16(t, st.Option)
	t = enc.AppendU32(t, uint32(n))
	for _, v := range st.Values {
		t = enc.AppendU32(t, v)
	}
	t = append(t, st.Ciphertext.Bytes()...)
	return commitments(t)
}

func challenge(t []byte) group.Scalar {
	return enc.G.HashToScalar(t, []byte(DST))
}

// Prove returns a proof that st.Ciphertext encrypts w.Value ∈ st.Values with
// nonce w.Nonce. All randomness (64 bytes per scalar) is read from rand.
// The running time does not depend on which branch is true.
func Prove(rand io.Reader, st *Statement, w *Witness) (*Proof, error) {
	if err := st.check(); err != nil {
		return nil, err
	}
	if w == nil || w.Nonce == nil {
		return nil, ErrWitness
	}
	g := enc.G
	n := len(st.Values)
	alpha, beta := st.Ciphertext.Alpha(), st.Ciphertext.Beta()
	K := st.Key.Element()

	isReal := make([]int, n)
	found := 0
	for j, v := range st.Values {
		isReal[j] = subtle.ConstantTimeEq(int32(v^w.Value), 0)
		found += isReal[j]
	}
	if found != 1 { // reveals only whether the witness is valid
		return nil, ErrWitness
	}

	A := make([]group.Element, n)
	B := make([]group.Element, n)
	cs := make([]group.Scalar, n)
	zs := make([]group.Scalar, n)
	ws := make([]group.Scalar, n)
	sumOthers := g.NewScalar()
	zero := g.NewScalar()
	for j := 0; j < n; j++ {
		var err error
		if cs[j], err = enc.RandomScalar(rand); err != nil {
			return nil, fmt.Errorf("proof: prove: %w", err)
		}
		if zs[j], err = enc.RandomScalar(rand); err != nil {
			return nil, fmt.Errorf("proof: prove: %w", err)
		}
		if ws[j], err = enc.RandomScalar(rand); err != nil {
			return nil, fmt.Errorf("proof: prove: %w", err)
		}
		// Simulated: A = z·G − c·α, B = z·K − c·(β − v·G).
		vG := g.NewElement().MulGen(g.NewScalar().SetUint64(uint64(st.Values[j])))
		bv := g.NewElement().Add(beta, vG.Neg(vG))
		aSim := g.NewElement().MulGen(zs[j])
		ca := g.NewElement().Mul(alpha, cs[j])
		aSim.Add(aSim, ca.Neg(ca))
		bSim := g.NewElement().Mul(K, zs[j])
		cb := g.NewElement().Mul(bv, cs[j])
		bSim.Add(bSim, cb.Neg(cb))
		// Real: A = w·G, B = w·K.
		aReal := g.NewElement().MulGen(ws[j])
		bReal := g.NewElement().Mul(K, ws[j])
		A[j] = g.NewElement().CSelect(isReal[j], aReal, aSim)
		B[j] = g.NewElement().CSelect(isReal[j], bReal, bSim)
		sumOthers.Add(sumOthers, g.NewScalar().CSelect(isReal[j], zero, cs[j]))
	}
	enc0 := make([][]byte, 2*n)
	for j := 0; j < n; j++ {
		enc0[2*j] = enc.MarshalElement(A[j])
		enc0[2*j+1] = enc.MarshalElement(B[j])
	}
	t := transcript(st, func(dst []byte) []byte {
		for _, e := range enc0 {
			dst = append(dst, e...)
		}
		return dst
	})
	c := challenge(t)
	ct := g.NewScalar().Sub(c, sumOthers)
	zt := g.NewScalar().Mul(ct, w.Nonce)
	out := make([]byte, 0, n*BranchSize)
	for j := 0; j < n; j++ {
		cj := g.NewScalar().CSelect(isReal[j], ct, cs[j])
		zReal := g.NewScalar().Add(ws[j], zt)
		zj := g.NewScalar().CSelect(isReal[j], zReal, zs[j])
		out = append(out, enc0[2*j]...)
		out = append(out, enc0[2*j+1]...)
		out = append(out, enc.MarshalScalar(cj)...)
		out = append(out, enc.MarshalScalar(zj)...)
	}
	return ParseProof(out, n)
}

// checkChallenge verifies Σ c_j = H_s(T).
func checkChallenge(st *Statement, p *Proof) bool {
	t := transcript(st, func(dst []byte) []byte {
		for j := range p.a {
			dst = append(dst, p.raw[j*BranchSize:j*BranchSize+64]...)
		}
		return dst
	})
	c := enc.FastScalar(challenge(t))
	sum := ristretto255.NewScalar()
	for j := range p.c {
		sum.Add(sum, &p.c[j])
	}
	return sum.Equal(c) == 1
}

// Verify checks p against st: Σ c_j = H_s("eballot-v1/range", T) and, for
// every branch j, z_j·G = A_j + c_j·α and z_j·K = B_j + c_j·(β − v_j·G).
// It returns [ErrInvalidProof] (wrapped) on failure.
func Verify(st *Statement, p *Proof) error {
	if err := st.check(); err != nil {
		return err
	}
	if p == nil || p.Branches() != len(st.Values) {
		return fmt.Errorf("%w: branch count", ErrInvalidProof)
	}
	if !checkChallenge(st, p) {
		return fmt.Errorf("%w: challenge", ErrInvalidProof)
	}
	alpha, beta := st.Ciphertext.Fast()
	K := st.Key.Fast()
	G := ristretto255.NewElement().Base()
	var lhs ristretto255.Element
	var negC, cv ristretto255.Scalar
	for j := range p.a {
		negC.Negate(&p.c[j])
		// A_j =? z_j·G − c_j·α
		lhs.VarTimeDoubleScalarBaseMult(&negC, alpha, &p.z[j])
		if lhs.Equal(&p.a[j]) != 1 {
			return fmt.Errorf("%w: branch %d", ErrInvalidProof, j)
		}
		// B_j =? z_j·K − c_j·β + c_j·v_j·G
		cv.Multiply(&p.c[j], scalarU32(st.Values[j]))
		lhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{&p.z[j], &negC, &cv},
			[]*ristretto255.Element{K, beta, G})
		if lhs.Equal(&p.b[j]) != 1 {
			return fmt.Errorf("%w: branch %d", ErrInvalidProof, j)
		}
	}
	return nil
}

func scalarU32(v uint32) *ristretto255.Scalar {
	var b [32]byte
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	s := ristretto255.NewScalar()
	if err := s.Decode(b[:]); err != nil {
		panic("proof: small scalar") // unreachable
	}
	return s
}

// ProveCommitted finishes a proof whose commitments the caller computed:
// commit is A_0 ‖ B_0 ‖ … ‖ A_{n-1} ‖ B_{n-1} (64 bytes a branch), with
// A_t = w·G and B_t = w·K for the true branch t, and for every other branch
// j, A_j = z_j·G − c_j·α and B_j = z_j·K − c_j·(β − v_j·G) for the given
// cs[j] and zs[j] (cs[t] and zs[t] are ignored). It computes the challenge
// and c_t = H_s(T) − Σ_{j≠t} c_j, z_t = w + c_t·r.
//
// It is for generators of test data that make commitments faster than
// [Prove] (crypto/verify/fixture derives them by point additions from the
// previous ballot's): it runs in variable time, reads no randomness and
// trusts the commitments — a wrong one yields a proof that fails
// verification. Members' ballots use [Prove].
func ProveCommitted(st *Statement, t int, nonce, w *ristretto255.Scalar, commit []byte, cs, zs []ristretto255.Scalar) (*Proof, error) {
	if err := st.check(); err != nil {
		return nil, err
	}
	n := len(st.Values)
	if t < 0 || t >= n || len(commit) != 64*n || len(cs) != n || len(zs) != n || nonce == nil || w == nil {
		return nil, ErrWitness
	}
	tr := transcript(st, func(dst []byte) []byte { return append(dst, commit...) })
	ct := enc.FastScalar(challenge(tr))
	for j := range n {
		if j != t {
			ct.Subtract(ct, &cs[j])
		}
	}
	zt := ristretto255.NewScalar().Multiply(ct, nonce)
	zt.Add(zt, w)
	out := make([]byte, 0, n*BranchSize)
	for j := range n {
		out = append(out, commit[64*j:64*j+64]...)
		if j == t {
			out = ct.Encode(out)
			out = zt.Encode(out)
		} else {
			out = cs[j].Encode(out)
			out = zs[j].Encode(out)
		}
	}
	return ParseProof(out, n)
}

// elementError names a commitment that did not decode: a wrong hint, or a
// malformed element.
func elementError(name string, j int, err error) error {
	if errors.Is(err, enc.ErrHint) {
		return fmt.Errorf("%s_%d: %w", name, j, err)
	}
	return fmt.Errorf("%w: %s_%d: %w", ErrMalformed, name, j, err)
}
