package shuffle

import (
	"runtime"
	"sync"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/internal/msm"
)

// minChunk is the smallest amount of work given to one goroutine.
const minChunk = 64

// parallelRange calls f on disjoint sub-ranges [lo, hi) covering [0, n),
// on up to GOMAXPROCS goroutines, and returns the error of the lowest
// failing sub-range (so that a report names the first bad item).
func parallelRange(n int, f func(lo, hi int) error) error {
	procs := runtime.GOMAXPROCS(0)
	chunks := min(procs, (n+minChunk-1)/minChunk)
	if chunks <= 1 {
		return f(0, n)
	}
	errs := make([]error, chunks)
	var wg sync.WaitGroup
	for c := 0; c < chunks; c++ {
		lo, hi := c*n/chunks, (c+1)*n/chunks
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[c] = f(lo, hi)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parallelDo runs the functions concurrently on up to GOMAXPROCS
// goroutines and waits for all of them.
func parallelDo(fs ...func()) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, f := range fs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f()
		}()
	}
	wg.Wait()
}

// msmChunks splits an n-point multi-scalar multiplication into pieces of
// at most maxPiece points, computes them on up to GOMAXPROCS goroutines
// with mult and sums the results. (Small pieces bound the memory of
// gtank's constant-time MultiScalarMult, about 1.3 KB of tables a point.)
func msmChunks(scalars []*ristretto255.Scalar, points []*ristretto255.Element, maxPiece int,
	mult func(dst *ristretto255.Element, s []*ristretto255.Scalar, p []*ristretto255.Element)) *ristretto255.Element {
	n := len(points)
	procs := runtime.GOMAXPROCS(0)
	pieces := max(min(procs, n/1024), (n+maxPiece-1)/maxPiece, 1)
	parts := make([]ristretto255.Element, pieces)
	for c := range parts {
		parts[c].Zero()
	}
	jobs := make([]func(), pieces)
	for c := range jobs {
		a, b := c*n/pieces, (c+1)*n/pieces
		jobs[c] = func() { mult(&parts[c], scalars[a:b], points[a:b]) }
	}
	parallelDo(jobs...)
	sum := ristretto255.NewElement().Zero()
	for c := range parts {
		sum.Add(sum, &parts[c])
	}
	return sum
}

// ctMSM is Σ s_i·P_i in constant time with respect to the scalars (gtank's
// Straus with constant-time table lookups); for secret scalars.
func ctMSM(scalars []*ristretto255.Scalar, points []*ristretto255.Element) *ristretto255.Element {
	return msmChunks(scalars, points, 4096, func(dst *ristretto255.Element, s []*ristretto255.Scalar, p []*ristretto255.Element) {
		if len(p) == 0 {
			dst.Zero()
			return
		}
		// gtank v0.1.2's MultiScalarMult adds to the receiver's current
		// value instead of starting from the identity (its other
		// multiplications reset it): it must be set to the identity first,
		// or the result is a degenerate point that Equal matches with
		// anything.
		dst.Zero()
		dst.MultiScalarMult(s, p)
	})
}

// vtMSM is Σ s_i·P_i in variable time (bucket method); public data only.
func vtMSM(scalars []*ristretto255.Scalar, points []*ristretto255.Element) *ristretto255.Element {
	return msmChunks(scalars, points, MaxRows, func(dst *ristretto255.Element, s []*ristretto255.Scalar, p []*ristretto255.Element) {
		msm.VarTimeMultiScalarMult(dst, s, p)
	})
}
