package proof

import (
	"crypto/rand"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gtank/ristretto255"
)

// BatchChunk is the number of proofs combined into one multi-scalar
// multiplication by [BatchVerify]; it bounds the memory of a batch to a few
// hundred kilobytes per worker.
const BatchChunk = 128

// BatchVerify verifies proofs ps[i] against statements sts[i] and returns
// the sorted indices of the proofs that do not verify (nil if all do).
//
// Each proof's challenge hash is checked individually. The group equations
// of a chunk of [BatchChunk] proofs are combined with independent random
// 128-bit weights (from crypto/rand) into one variable-time multi-scalar
// multiplication, so a chunk with an invalid proof passes with probability
// at most about 2^-128. A failing chunk is re-checked one proof at a time
// with [Verify] to name the bad items. Chunks are spread over GOMAXPROCS
// goroutines. Statements and proofs must not be modified concurrently.
func BatchVerify(sts []*Statement, ps []*Proof) []int {
	n := len(sts)
	if len(ps) != n {
		// Every index without a partner is bad.
		if len(ps) < n {
			n = len(ps)
		}
	}
	bad := make([]bool, max(len(sts), len(ps)))
	for i := n; i < len(bad); i++ {
		bad[i] = true
	}
	chunks := (n + BatchChunk - 1) / BatchChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var bv batchVerifier
			for {
				k := int(next.Add(1) - 1)
				if k >= chunks {
					return
				}
				lo, hi := k*BatchChunk, min((k+1)*BatchChunk, n)
				bv.run(sts[lo:hi], ps[lo:hi], bad[lo:hi])
			}
		}()
	}
	wg.Wait()
	var out []int
	for i, b := range bad {
		if b {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

// batchVerifier holds reusable buffers of one worker.
type batchVerifier struct {
	scalars []*ristretto255.Scalar
	points  []*ristretto255.Element
	pool    []ristretto255.Scalar
	rnd     []byte
}

func (bv *batchVerifier) scalar() *ristretto255.Scalar {
	bv.pool = append(bv.pool, ristretto255.Scalar{})
	return &bv.pool[len(bv.pool)-1]
}

// run verifies one chunk, marking bad items.
func (bv *batchVerifier) run(sts []*Statement, ps []*Proof, bad []bool) {
	// Pre-pass: shape and challenge checks; count branches for buffers.
	total := 0
	ok := make([]bool, len(sts))
	for i := range sts {
		st, p := sts[i], ps[i]
		if st.check() != nil || p == nil || p.Branches() != len(st.Values) || !checkChallenge(st, p) {
			bad[i] = true
			continue
		}
		ok[i] = true
		total += p.Branches()
	}
	if total == 0 {
		return
	}
	// Points: 2 per branch (A, B) + 2 per proof (α, β) + G and K for each
	// distinct key (normally one).
	bv.scalars = bv.scalars[:0]
	bv.points = bv.points[:0]
	bv.pool = make([]ristretto255.Scalar, 0, 4*total+4*len(sts)+4)
	need := 32 * 2 * total
	if cap(bv.rnd) < need {
		bv.rnd = make([]byte, need)
	}
	rnd := bv.rnd[:need]
	clear(rnd)
	// 128-bit weights: fill the low 16 bytes of each 32-byte slot.
	tmp := make([]byte, 16*2*total)
	if _, err := rand.Read(tmp); err != nil {
		panic("proof: crypto/rand failed: " + err.Error()) // crypto/rand never fails
	}
	for k := 0; k < 2*total; k++ {
		copy(rnd[32*k:32*k+16], tmp[16*k:16*k+16])
	}

	gCoef := bv.scalar()
	type keyCoef struct {
		key  *ristretto255.Element
		coef *ristretto255.Scalar
	}
	var keys []keyCoef
	var rho, rho2, t ristretto255.Scalar
	wi := 0
	for i := range sts {
		if !ok[i] {
			continue
		}
		st, p := sts[i], ps[i]
		K := st.Key.Fast()
		var kc *ristretto255.Scalar
		for _, e := range keys {
			if e.key == K {
				kc = e.coef
			}
		}
		if kc == nil {
			kc = bv.scalar()
			keys = append(keys, keyCoef{K, kc})
		}
		alpha, beta := st.Ciphertext.Fast()
		aCoef, bCoef := bv.scalar(), bv.scalar()
		for j := range p.a {
			_ = rho.Decode(rnd[32*wi : 32*wi+32])
			_ = rho2.Decode(rnd[32*wi+32 : 32*wi+64])
			wi += 2
			// ρ(z G − A − c α) + ρ'(z K − B − c β + c v G) = 0
			gCoef.Add(gCoef, t.Multiply(&rho, &p.z[j]))
			cv := ristretto255.NewScalar().Multiply(&p.c[j], scalarU32(st.Values[j]))
			gCoef.Add(gCoef, t.Multiply(&rho2, cv))
			kc.Add(kc, t.Multiply(&rho2, &p.z[j]))
			aCoef.Add(aCoef, t.Multiply(&rho, &p.c[j]))
			bCoef.Add(bCoef, t.Multiply(&rho2, &p.c[j]))
			na, nb := bv.scalar(), bv.scalar()
			na.Negate(&rho)
			nb.Negate(&rho2)
			bv.scalars = append(bv.scalars, na, nb)
			bv.points = append(bv.points, &p.a[j], &p.b[j])
		}
		aCoef.Negate(aCoef)
		bCoef.Negate(bCoef)
		bv.scalars = append(bv.scalars, aCoef, bCoef)
		bv.points = append(bv.points, alpha, beta)
	}
	bv.scalars = append(bv.scalars, gCoef)
	bv.points = append(bv.points, ristretto255.NewElement().Base())
	for _, e := range keys {
		bv.scalars = append(bv.scalars, e.coef)
		bv.points = append(bv.points, e.key)
	}
	sum := ristretto255.NewElement().VarTimeMultiScalarMult(bv.scalars, bv.points)
	if sum.Equal(ristretto255.NewElement().Zero()) == 1 {
		return
	}
	// Fall back to one-by-one.
	for i := range sts {
		if ok[i] && Verify(sts[i], ps[i]) != nil {
			bad[i] = true
		}
	}
}
