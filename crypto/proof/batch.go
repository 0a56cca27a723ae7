package proof

import (
	"crypto/rand"
	"runtime"

	"github.com/unionvote/eballot/crypto/internal/par"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/msm"
)

// BatchChunk is the largest number of proofs whose group equations
// [BatchVerify] combines into one multi-scalar multiplication. A batch is
// split into about one chunk per core (at most BatchChunk proofs each, a
// few megabytes of scratch per worker).
const BatchChunk = 16384

// batchLeaf is the chunk size at which a failing chunk is checked proof by
// proof instead of being halved again.
const batchLeaf = 8

// BatchVerify verifies proofs ps[i] against statements sts[i] and returns
// the sorted indices of the proofs that do not verify (nil if all do).
//
// Each proof's challenge hash is checked individually (on all cores). The
// group equations of a chunk of proofs are combined with independent random
// 128-bit weights (from crypto/rand) into one variable-time multi-scalar
// multiplication (bucket method, crypto/internal/msm), so a chunk with an
// invalid proof passes with probability at most about 2^-128. A failing
// chunk is halved and each half re-checked with fresh weights, down to a
// few proofs that are checked one at a time with [Verify], which names
// every bad item. Chunks are spread over GOMAXPROCS goroutines. Statements
// and proofs must not be modified concurrently.
func BatchVerify(sts []*Statement, ps []*Proof) []int {
	return BatchVerifyN(sts, ps, 0)
}

// BatchVerifyN is [BatchVerify] on at most procs goroutines (procs ≤ 0
// means GOMAXPROCS). A caller that already runs one batch per core (a
// pipeline) passes 1: a single chunk then makes one larger, cheaper
// multi-scalar multiplication.
func BatchVerifyN(sts []*Statement, ps []*Proof, procs int) []int {
	n := min(len(sts), len(ps))
	bad := make([]bool, max(len(sts), len(ps)))
	for i := n; i < len(bad); i++ {
		bad[i] = true // every index without a partner is bad
	}
	if n == 0 {
		return badList(bad)
	}
	if procs <= 0 {
		procs = runtime.GOMAXPROCS(0)
	}

	// Pass 1: shape and challenge of every proof, on all cores.
	const hashBlock = 256
	parallelBlocks(n, hashBlock, procs, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			st, p := sts[i], ps[i]
			if st.check() != nil || p == nil || p.Branches() != len(st.Values) || !checkChallenge(st, p) {
				bad[i] = true
			}
		}
	})
	idx := make([]int, 0, n)
	for i := range n {
		if !bad[i] {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return badList(bad)
	}

	// Pass 2: one combined check per chunk, chunks over all cores.
	chunks := max(procs, (len(idx)+BatchChunk-1)/BatchChunk)
	chunks = min(chunks, (len(idx)+batchLeaf-1)/batchLeaf)
	size := (len(idx) + chunks - 1) / chunks
	parallelBlocks(len(idx), size, procs, func(lo, hi int) {
		var bv batchVerifier
		bv.check(sts, ps, idx[lo:hi], bad)
	})
	return badList(bad)
}

func badList(bad []bool) []int {
	var out []int
	for i, b := range bad {
		if b {
			out = append(out, i)
		}
	}
	return out
}

// parallelBlocks runs f on [lo, hi) blocks of at most size items covering
// [0, n), on up to procs goroutines.
func parallelBlocks(n, size, procs int, f func(lo, hi int)) {
	blocks := (n + size - 1) / size
	workers := min(procs, blocks)
	if workers <= 1 {
		for lo := 0; lo < n; lo += size {
			f(lo, min(lo+size, n))
		}
		return
	}
	par.N(blocks, workers, func(k int) { f(k*size, min((k+1)*size, n)) })
}

// batchVerifier holds the reusable buffers of one worker.
type batchVerifier struct {
	scalars []*ristretto255.Scalar
	points  []*ristretto255.Element
	pool    []ristretto255.Scalar
	rnd     []byte
	slot    map[*elgamal.Ciphertext]int
}

// check verifies the group equations of the proofs sts[i], ps[i] for i in
// idx (whose shapes and challenges are already checked), marking bad ones.
func (bv *batchVerifier) check(sts []*Statement, ps []*Proof, idx []int, bad []bool) {
	if len(idx) <= batchLeaf {
		for _, i := range idx {
			if Verify(sts[i], ps[i]) != nil {
				bad[i] = true
			}
		}
		return
	}
	if bv.combined(sts, ps, idx) {
		return
	}
	// Bisect with fresh weights: the cost is O(bad · log n) combined checks.
	h := len(idx) / 2
	bv.check(sts, ps, idx[:h], bad)
	bv.check(sts, ps, idx[h:], bad)
}

// combined reports whether a random linear combination of the group
// equations of the proofs in idx holds. For branch j of a proof with
// weights ρ, ρ' it checks
//
//	ρ(A_j + c_j α − z_j G) + ρ'(B_j + c_j β − c_j v_j G − z_j K) = 0,
//
// summed over every branch and proof. A_j and B_j get the 128-bit weights
// themselves (short scalars: half the cost in the bucket method); α, β, G
// and each distinct K get one full-width coefficient each.
func (bv *batchVerifier) combined(sts []*Statement, ps []*Proof, idx []int) bool {
	total := 0
	for _, i := range idx {
		total += ps[i].Branches()
	}
	nPoints := 2*total + 2*len(idx) + 2
	bv.scalars = bv.scalars[:0]
	bv.points = bv.points[:0]
	if cap(bv.pool) < nPoints+4 {
		bv.pool = make([]ristretto255.Scalar, 0, nPoints+4)
	}
	bv.pool = bv.pool[:0]
	need := 16 * 2 * total
	if cap(bv.rnd) < need {
		bv.rnd = make([]byte, need)
	}
	rnd := bv.rnd[:need]
	if _, err := rand.Read(rnd); err != nil {
		panic("proof: crypto/rand failed: " + err.Error()) // crypto/rand never fails
	}

	// negG accumulates −Σ(ρ z + ρ' c v); one −Σ ρ' z per distinct key.
	negG := bv.scalar()
	type keyCoef struct {
		key  *ristretto255.Element
		coef *ristretto255.Scalar
	}
	var keys []keyCoef
	var buf [32]byte
	var t, cv ristretto255.Scalar
	// Where each ciphertext's α coefficient is (β's follows), for Parts.
	clear(bv.slot)
	if bv.slot == nil {
		bv.slot = make(map[*elgamal.Ciphertext]int)
	}
	wi := 0
	for _, i := range idx {
		st, p := sts[i], ps[i]
		K := st.Key.Fast()
		var kc *ristretto255.Scalar
		for _, e := range keys {
			if e.key == K {
				kc = e.coef
				break
			}
		}
		if kc == nil {
			kc = bv.scalar()
			keys = append(keys, keyCoef{K, kc})
		}
		alpha, beta := st.Ciphertext.Fast()
		aCoef, bCoef := bv.scalar(), bv.scalar()
		for j := range p.a {
			rho, rho2 := bv.scalar(), bv.scalar()
			copy(buf[:16], rnd[16*wi:16*wi+16])
			_ = rho.Decode(buf[:]) // < 2^128 < ℓ: always canonical
			copy(buf[:16], rnd[16*wi+16:16*wi+32])
			_ = rho2.Decode(buf[:])
			wi += 2
			c, z := &p.c[j], &p.z[j]
			aCoef.Add(aCoef, t.Multiply(rho, c))
			negG.Subtract(negG, t.Multiply(rho, z))
			kc.Subtract(kc, t.Multiply(rho2, z))
			t.Multiply(rho2, c) // ρ' c
			bCoef.Add(bCoef, &t)
			switch v := st.Values[j]; v {
			case 0:
			case 1:
				negG.Subtract(negG, &t)
			default:
				negG.Subtract(negG, cv.Multiply(&t, scalarU32(v)))
			}
			bv.scalars = append(bv.scalars, rho, rho2)
			bv.points = append(bv.points, &p.a[j], &p.b[j])
		}
		if bv.fold(st, aCoef, bCoef) {
			continue
		}
		bv.slot[st.Ciphertext] = len(bv.scalars)
		bv.scalars = append(bv.scalars, aCoef, bCoef)
		bv.points = append(bv.points, alpha, beta)
	}
	bv.scalars = append(bv.scalars, negG)
	bv.points = append(bv.points, ristretto255.NewElement().Base())
	for _, e := range keys {
		bv.scalars = append(bv.scalars, e.coef)
		bv.points = append(bv.points, e.key)
	}
	var sum ristretto255.Element
	msm.VarTimeMultiScalarMult(&sum, bv.scalars, bv.points)
	return sum.Equal(ristretto255.NewElement()) == 1
}

// fold adds the α and β coefficients of st to those of its Parts, if every
// part is already in the combination and Σ Parts = st.Ciphertext.
func (bv *batchVerifier) fold(st *Statement, aCoef, bCoef *ristretto255.Scalar) bool {
	if len(st.Parts) == 0 {
		return false
	}
	var sa, sb ristretto255.Element
	for k, c := range st.Parts {
		if c == nil {
			return false
		}
		if _, ok := bv.slot[c]; !ok {
			return false
		}
		a, b := c.Fast()
		if k == 0 {
			sa, sb = *a, *b
		} else {
			sa.Add(&sa, a)
			sb.Add(&sb, b)
		}
	}
	alpha, beta := st.Ciphertext.Fast()
	if sa.Equal(alpha) != 1 || sb.Equal(beta) != 1 {
		return false
	}
	for _, c := range st.Parts {
		k := bv.slot[c]
		bv.scalars[k].Add(bv.scalars[k], aCoef)
		bv.scalars[k+1].Add(bv.scalars[k+1], bCoef)
	}
	return true
}

func (bv *batchVerifier) scalar() *ristretto255.Scalar {
	if len(bv.pool) == cap(bv.pool) {
		// Never reallocate: earlier pointers into the pool must stay valid.
		bv.pool = make([]ristretto255.Scalar, 0, 64)
	}
	bv.pool = append(bv.pool, ristretto255.Scalar{})
	return &bv.pool[len(bv.pool)-1]
}
