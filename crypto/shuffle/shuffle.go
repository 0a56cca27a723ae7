package shuffle

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// Shuffle permutes the rows of in uniformly at random and re-encrypts every
// ciphertext under st.Key, and proves it (Terelius–Wikström, protocol
// §9.4). Randomness is read from rand (64 bytes per scalar, 8 bytes per
// permutation draw).
//
// The permutation and the re-encryption nonces are the secret that keeps
// the mix anonymous. Every scalar multiplication by a secret runs in
// constant time (gtank/ristretto255 ScalarBaseMult, ScalarMult and
// MultiScalarMult); the row copies and generator look-ups follow the
// permutation, so memory access patterns are not hidden (as in Verificatum
// and Belenios): run the mix on a machine that runs no untrusted code.
func Shuffle(rand io.Reader, st *Statement, in *List) (*List, *Proof, error) {
	if in == nil {
		return nil, nil, fmt.Errorf("%w: no input", ErrShape)
	}
	psi, err := randomPermutation(rand, in.Len())
	if err != nil {
		return nil, nil, err
	}
	out, p, _, err := Permute(rand, st, in, psi)
	return out, p, err
}

// Witness is the secret of a shuffle: output row i is input row
// Permutation[i], re-encrypted in column k with Nonces[i·w+k]. It is what a
// mix server must keep secret (and destroy); ranked ballots keep it to open
// an audited ballot.
type Witness struct {
	Permutation []int
	Nonces      []group.Scalar
}

// Permute is [Shuffle] with a permutation chosen by the caller (output row
// i is input row perm[i]); the re-encryption nonces are drawn from rand.
// It returns the witness. A ranked ballot uses it to place the rank values
// at the candidates (crypto/ranked).
func Permute(rand io.Reader, st *Statement, in *List, perm []int) (*List, *Proof, *Witness, error) {
	if err := st.check(); err != nil {
		return nil, nil, nil, err
	}
	if in == nil {
		return nil, nil, nil, fmt.Errorf("%w: no input", ErrShape)
	}
	n, w := in.Len(), in.Width()
	if !isPermutation(perm, n) {
		return nil, nil, nil, fmt.Errorf("shuffle: not a permutation of %d rows", n)
	}
	rho, err := randomScalars(rand, n*w)
	if err != nil {
		return nil, nil, nil, err
	}
	out := reencrypt(st, in, perm, rho)
	p, err := prove(rand, st, in, out, perm, rho)
	if err != nil {
		return nil, nil, nil, err
	}
	wit := &Witness{Permutation: append([]int(nil), perm...), Nonces: make([]group.Scalar, len(rho))}
	for i := range rho {
		wit.Nonces[i] = enc.G.NewScalar()
		if err := wit.Nonces[i].UnmarshalBinary(rho[i].Encode(nil)); err != nil {
			panic("shuffle: re-decode nonce") // unreachable
		}
	}
	return out, p, wit, nil
}

func isPermutation(perm []int, n int) bool {
	if len(perm) != n {
		return false
	}
	seen := make([]bool, n)
	for _, j := range perm {
		if j < 0 || j >= n || seen[j] {
			return false
		}
		seen[j] = true
	}
	return true
}

// reencrypt returns the list whose row i is row psi[i] of in plus
// (ρ_{i,k}·G, ρ_{i,k}·K) in column k.
func reencrypt(st *Statement, in *List, psi []int, rho []ristretto255.Scalar) *List {
	n, w := in.Len(), in.Width()
	out := newList(n, w)
	K := st.Key.Fast()
	_ = parallelRange(n, func(lo, hi int) error {
		var a, b ristretto255.Element
		for i := lo; i < hi; i++ {
			j := psi[i]
			for k := 0; k < w; k++ {
				x := i*w + k
				a.ScalarBaseMult(&rho[x])
				b.ScalarMult(&rho[x], K)
				out.alpha[x].Add(&in.alpha[j*w+k], &a)
				out.beta[x].Add(&in.beta[j*w+k], &b)
				out.alpha[x].Encode(out.enc[x*CiphertextSize : x*CiphertextSize])
				out.beta[x].Encode(out.enc[x*CiphertextSize+32 : x*CiphertextSize+32])
			}
		}
		return nil
	})
	return out
}

// prove makes the proof that out is in permuted by psi (out row i = in row
// psi[i]) and re-encrypted with the nonces rho (indexed by output row).
// With a wrong witness it makes a proof that does not verify (tests).
func prove(rand io.Reader, st *Statement, in, out *List, psi []int, rho []ristretto255.Scalar) (*Proof, error) {
	n, w := in.Len(), in.Width()
	hgen, gs, _ := generators(st.Label, n)
	K := st.Key.Fast()
	inv := make([]int, n)
	for i, j := range psi {
		inv[j] = i
	}
	p := newProof(n, w)

	// Permutation commitment C_j = r_j·G + G_{π⁻¹(j)} (input j goes to
	// output row π⁻¹(j)).
	r, err := randomScalars(rand, n)
	if err != nil {
		return nil, err
	}
	cEnc := make([]byte, 32*n)
	_ = parallelRange(n, func(lo, hi int) error {
		for j := lo; j < hi; j++ {
			p.c[j].ScalarBaseMult(&r[j])
			p.c[j].Add(&p.c[j], &gs[inv[j]])
			p.c[j].Encode(cEnc[32*j : 32*j])
		}
		return nil
	})
	hStmt := statementHash(st, in, out)
	hu, u := uChallenges(hStmt, cEnc, n)
	up := make([]ristretto255.Scalar, n) // u'_i = u_{ψ(i)}
	for i, j := range psi {
		up[i] = u[j]
	}

	// Commitment chain Ĉ_i = r̂_i·G + u'_i·Ĉ_{i−1}, Ĉ_{−1} = H, computed in
	// closed form Ĉ_i = R̂_i·G + U_i·H so that the rows are independent.
	rhat, err := randomScalars(rand, n)
	if err != nil {
		return nil, err
	}
	R := make([]ristretto255.Scalar, n)
	U := make([]ristretto255.Scalar, n)
	one := scalarOne()
	for i := 0; i < n; i++ {
		if i == 0 {
			R[0] = rhat[0]
			U[0] = up[0]
			continue
		}
		R[i].Multiply(&up[i], &R[i-1])
		R[i].Add(&R[i], &rhat[i])
		U[i].Multiply(&up[i], &U[i-1])
	}

	// Commitments of the Σ-protocol.
	om, err := randomScalars(rand, 3+w+2*n)
	if err != nil {
		return nil, err
	}
	om1, om2, om3, om4 := &om[0], &om[1], &om[2], om[3:3+w]
	omhat, omp := om[3+w:3+w+n], om[3+w+n:]
	_ = parallelRange(n, func(lo, hi int) error {
		var a, b ristretto255.Element
		var s1, s2 ristretto255.Scalar
		for i := lo; i < hi; i++ {
			a.ScalarBaseMult(&R[i])
			b.ScalarMult(&U[i], hgen)
			p.chat[i].Add(&a, &b)
			// t̂_i = ω̂_i·G + ω'_i·Ĉ_{i−1} = (ω̂_i + ω'_i·R̂_{i−1})·G + (ω'_i·U_{i−1})·H
			if i == 0 {
				s1 = omhat[0]
				s2.Multiply(&omp[0], one)
			} else {
				s1.Multiply(&omp[i], &R[i-1])
				s1.Add(&s1, &omhat[i])
				s2.Multiply(&omp[i], &U[i-1])
			}
			a.ScalarBaseMult(&s1)
			b.ScalarMult(&s2, hgen)
			p.that[i].Add(&a, &b)
		}
		return nil
	})
	omPtr := scalarPtrs(omp)
	var a ristretto255.Element
	p.t1.ScalarBaseMult(om1)
	p.t2.ScalarBaseMult(om2)
	col := func(es []ristretto255.Element, k int) []*ristretto255.Element {
		ps := make([]*ristretto255.Element, n)
		for i := range ps {
			ps[i] = &es[i*w+k]
		}
		return ps
	}
	jobs := []func(){func() { p.t3 = *ctMSM(omPtr, elementPtrs(gs)) }}
	for k := 0; k < w; k++ {
		jobs = append(jobs,
			func() { p.t4a[k] = *ctMSM(omPtr, col(out.alpha, k)) },
			func() { p.t4b[k] = *ctMSM(omPtr, col(out.beta, k)) })
	}
	parallelDo(jobs...)
	p.t3.Add(&p.t3, a.ScalarBaseMult(om3))
	for k := 0; k < w; k++ {
		var neg ristretto255.Scalar
		neg.Negate(&om4[k])
		p.t4a[k].Add(&p.t4a[k], a.ScalarBaseMult(&neg))
		p.t4b[k].Add(&p.t4b[k], a.ScalarMult(&neg, K))
	}

	// Challenge and responses.
	p.encodeCommitments()
	_, rest := commitmentBytes(p.raw, n, w)
	c := challenge(hu, rest)
	var sum, t ristretto255.Scalar
	for j := range r {
		sum.Add(&sum, &r[j])
	}
	p.s1.Multiply(c, &sum)
	p.s1.Add(&p.s1, om1)
	p.s2.Multiply(c, &R[n-1])
	p.s2.Add(&p.s2, om2)
	sum.Zero()
	for j := range r {
		t.Multiply(&r[j], &u[j])
		sum.Add(&sum, &t)
	}
	p.s3.Multiply(c, &sum)
	p.s3.Add(&p.s3, om3)
	for k := 0; k < w; k++ {
		sum.Zero()
		for i := 0; i < n; i++ {
			t.Multiply(&up[i], &rho[i*w+k])
			sum.Add(&sum, &t)
		}
		p.s4[k].Multiply(c, &sum)
		p.s4[k].Add(&p.s4[k], &om4[k])
	}
	for i := 0; i < n; i++ {
		p.shat[i].Multiply(c, &rhat[i])
		p.shat[i].Add(&p.shat[i], &omhat[i])
		p.sp[i].Multiply(c, &up[i])
		p.sp[i].Add(&p.sp[i], &omp[i])
	}
	p.encode()
	return p, nil
}

// encodeCommitments fills p.raw with the header and the elements (the
// scalars are not known yet), enough for [commitmentBytes].
func (p *Proof) encodeCommitments() {
	p.encode() // the scalars are still zero; encode again at the end
}

func scalarOne() *ristretto255.Scalar {
	var b [32]byte
	b[0] = 1
	s := ristretto255.NewScalar()
	if err := s.Decode(b[:]); err != nil {
		panic("shuffle: scalar one") // unreachable
	}
	return s
}

func scalarPtrs(s []ristretto255.Scalar) []*ristretto255.Scalar {
	out := make([]*ristretto255.Scalar, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

func elementPtrs(e []ristretto255.Element) []*ristretto255.Element {
	out := make([]*ristretto255.Element, len(e))
	for i := range e {
		out[i] = &e[i]
	}
	return out
}

// randomScalars reads n uniform scalars (64 bytes each, reduced mod ℓ).
func randomScalars(rand io.Reader, n int) ([]ristretto255.Scalar, error) {
	out := make([]ristretto255.Scalar, n)
	buf := make([]byte, 64*min(n, 4096))
	for i := 0; i < n; {
		m := min(n-i, len(buf)/64)
		if _, err := io.ReadFull(rand, buf[:64*m]); err != nil {
			return nil, fmt.Errorf("shuffle: read randomness: %w", err)
		}
		for k := 0; k < m; k++ {
			out[i+k].FromUniformBytes(buf[64*k : 64*k+64])
		}
		i += m
	}
	clear(buf)
	return out, nil
}

// randomPermutation returns a uniform permutation of 0 … n−1
// (Fisher–Yates; each draw is 8 bytes of rand with rejection, so it is
// exactly uniform).
func randomPermutation(rand io.Reader, n int) ([]int, error) {
	psi := make([]int, n)
	for i := range psi {
		psi[i] = i
	}
	var b [8]byte
	for i := n - 1; i > 0; i-- {
		bound := uint64(i + 1)
		limit := ^uint64(0) - (^uint64(0)%bound+1)%bound // largest multiple of bound, minus 1
		var x uint64
		for {
			if _, err := io.ReadFull(rand, b[:]); err != nil {
				return nil, fmt.Errorf("shuffle: read randomness: %w", err)
			}
			x = binary.LittleEndian.Uint64(b[:])
			if x <= limit {
				break
			}
		}
		j := int(x % bound)
		psi[i], psi[j] = psi[j], psi[i]
	}
	return psi, nil
}
