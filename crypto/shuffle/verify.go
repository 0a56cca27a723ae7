package shuffle

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/gtank/ristretto255"
)

// ErrInvalidProof is returned (wrapped, naming the equation that fails)
// when a shuffle proof does not verify: the output is not a permutation
// and re-encryption of the input under the statement. Maps to HTTP 422.
var ErrInvalidProof = errors.New("shuffle: invalid proof of shuffle")

// Verify checks that p proves out to be a re-encrypted permutation of in
// under st (protocol §9.4). It names the first check that fails: the
// shape ([ErrShape]: rows or width differ, as when a row is dropped or
// added), or the equation of the proof ([ErrInvalidProof]: t_1 to t_4, t̂).
// Any change to the statement, the lists or the commitments changes every
// challenge, so a tampered shuffle usually fails at t_1, the first check. Only public data is handled; arithmetic is
// variable-time, and the t̂ equations are checked together with random
// 128-bit weights (a false proof passes with probability about 2^-128).
func Verify(st *Statement, in, out *List, p *Proof) error {
	if err := st.check(); err != nil {
		return err
	}
	if in == nil || out == nil || p == nil {
		return fmt.Errorf("%w: missing list or proof", ErrShape)
	}
	n, w := in.Len(), in.Width()
	if out.Width() != w || p.w != w {
		return fmt.Errorf("%w: input width %d, output width %d, proof width %d", ErrShape, w, out.Width(), p.w)
	}
	if out.Len() != n || p.n != n {
		return fmt.Errorf("%w: input has %d rows, output %d, proof %d", ErrShape, n, out.Len(), p.n)
	}
	hgen, gs, gsum := generators(st.Label, n)
	K := st.Key.Fast()
	G := ristretto255.NewElement().Base()

	hStmt := statementHash(st, in, out)
	cEnc, rest := commitmentBytes(p.raw, n, w)
	hu, u := uChallenges(hStmt, cEnc, n)
	c := challenge(hu, rest)
	var negC ristretto255.Scalar
	negC.Negate(c)

	uPtr := scalarPtrs(u)
	spPtr := scalarPtrs(p.sp)
	col := func(es []ristretto255.Element, k int) []*ristretto255.Element {
		ps := make([]*ristretto255.Element, n)
		for i := range ps {
			ps[i] = &es[i*w+k]
		}
		return ps
	}

	// The multi-scalar multiplications, run concurrently.
	var cSum, cTilde, spG ristretto255.Element
	inA, inB := make([]ristretto255.Element, w), make([]ristretto255.Element, w)
	outA, outB := make([]ristretto255.Element, w), make([]ristretto255.Element, w)
	var chainOK bool
	jobs := []func(){
		func() {
			cSum.Zero()
			for j := range p.c {
				cSum.Add(&cSum, &p.c[j])
			}
		},
		func() { cTilde = *vtMSM(uPtr, elementPtrs(p.c)) },
		func() { spG = *vtMSM(spPtr, elementPtrs(gs)) },
		func() { chainOK = checkChain(p, hgen, c) },
	}
	for k := 0; k < w; k++ {
		jobs = append(jobs,
			func() { inA[k] = *vtMSM(uPtr, col(in.alpha, k)) },
			func() { inB[k] = *vtMSM(uPtr, col(in.beta, k)) },
			func() { outA[k] = *vtMSM(spPtr, col(out.alpha, k)) },
			func() { outB[k] = *vtMSM(spPtr, col(out.beta, k)) },
		)
	}
	parallelDo(jobs...)

	var lhs, rhs, x ristretto255.Element
	// t_1: s_1·G = t_1 + c·(Σ C_j − Σ G_i)
	x.Subtract(&cSum, gsum)
	lhs.ScalarBaseMult(&p.s1)
	rhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{c}, []*ristretto255.Element{&x})
	rhs.Add(&rhs, &p.t1)
	if lhs.Equal(&rhs) != 1 {
		return fmt.Errorf("%w: check t_1 (sum of the permutation commitment) fails", ErrInvalidProof)
	}
	// t_2: s_2·G = t_2 + c·(Ĉ_{N−1} − (Π u_j)·H)
	prod := scalarOne()
	for j := range u {
		prod.Multiply(prod, &u[j])
	}
	prod.Negate(prod)
	x.VarTimeMultiScalarMult([]*ristretto255.Scalar{prod}, []*ristretto255.Element{hgen})
	x.Add(&x, &p.chat[n-1])
	lhs.ScalarBaseMult(&p.s2)
	rhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{c}, []*ristretto255.Element{&x})
	rhs.Add(&rhs, &p.t2)
	if lhs.Equal(&rhs) != 1 {
		return fmt.Errorf("%w: check t_2 (end of the commitment chain) fails", ErrInvalidProof)
	}
	// t_3: s_3·G + Σ s'_i·G_i = t_3 + c·Σ u_j·C_j
	lhs.ScalarBaseMult(&p.s3)
	lhs.Add(&lhs, &spG)
	rhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{c}, []*ristretto255.Element{&cTilde})
	rhs.Add(&rhs, &p.t3)
	if lhs.Equal(&rhs) != 1 {
		return fmt.Errorf("%w: check t_3 (permuted challenges against the permutation commitment) fails", ErrInvalidProof)
	}
	// t_4: Σ s'_i·α̃_{i,k} − s_{4,k}·G = t^α_{4,k} + c·Σ u_j·α_{j,k}, and the
	// same for β with K.
	for k := 0; k < w; k++ {
		var negS ristretto255.Scalar
		negS.Negate(&p.s4[k])
		lhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{&negS}, []*ristretto255.Element{G})
		lhs.Add(&lhs, &outA[k])
		rhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{c}, []*ristretto255.Element{&inA[k]})
		rhs.Add(&rhs, &p.t4a[k])
		if lhs.Equal(&rhs) != 1 {
			return fmt.Errorf("%w: check t_4 (re-encryption) fails for column %d, α", ErrInvalidProof, k)
		}
		lhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{&negS}, []*ristretto255.Element{K})
		lhs.Add(&lhs, &outB[k])
		rhs.VarTimeMultiScalarMult([]*ristretto255.Scalar{c}, []*ristretto255.Element{&inB[k]})
		rhs.Add(&rhs, &p.t4b[k])
		if lhs.Equal(&rhs) != 1 {
			return fmt.Errorf("%w: check t_4 (re-encryption) fails for column %d, β", ErrInvalidProof, k)
		}
	}
	if !chainOK {
		return fmt.Errorf("%w: check t̂ (steps of the commitment chain) fails", ErrInvalidProof)
	}
	return nil
}

// checkChain checks ŝ_i·G + s'_i·Ĉ_{i−1} = t̂_i + c·Ĉ_i for every i
// (Ĉ_{−1} = H) as one random linear combination with 128-bit weights λ_i:
// (Σ λ_i ŝ_i)·G + λ_0 s'_0·H + Σ_{i<N−1} (λ_{i+1} s'_{i+1} − c λ_i)·Ĉ_i
// − c λ_{N−1}·Ĉ_{N−1} − Σ λ_i·t̂_i = 0.
func checkChain(p *Proof, hgen *ristretto255.Element, c *ristretto255.Scalar) bool {
	n := p.n
	lam := make([]ristretto255.Scalar, n)
	buf := make([]byte, 16*n)
	if _, err := rand.Read(buf); err != nil {
		return false
	}
	for i := range lam {
		var b [32]byte
		copy(b[:16], buf[16*i:])
		if lam[i].Decode(b[:]) != nil {
			return false // unreachable
		}
	}
	scalars := make([]ristretto255.Scalar, 0, 2*n+2)
	points := make([]*ristretto255.Element, 0, 2*n+2)
	var gCoef, t ristretto255.Scalar
	for i := 0; i < n; i++ {
		t.Multiply(&lam[i], &p.shat[i])
		gCoef.Add(&gCoef, &t)
	}
	scalars = append(scalars, gCoef)
	points = append(points, ristretto255.NewElement().Base())
	t.Multiply(&lam[0], &p.sp[0])
	scalars = append(scalars, t)
	points = append(points, hgen)
	for i := 0; i < n; i++ {
		var s, cl ristretto255.Scalar
		cl.Multiply(c, &lam[i])
		if i+1 < n {
			s.Multiply(&lam[i+1], &p.sp[i+1])
		}
		s.Subtract(&s, &cl)
		scalars = append(scalars, s)
		points = append(points, &p.chat[i])
		var nl ristretto255.Scalar
		nl.Negate(&lam[i])
		scalars = append(scalars, nl)
		points = append(points, &p.that[i])
	}
	sum := vtMSM(scalarPtrs(scalars), points)
	return sum.Equal(ristretto255.NewElement().Zero()) == 1
}
