// Package msm computes variable-time multi-scalar multiplications
// Σ s_i·P_i over ristretto255 for the public verifiers (batch proof
// verification). It uses the bucket method (Pippenger): every scalar is
// written in signed radix 2^c digits d ∈ [−2^(c−1), 2^(c−1)], and for each
// digit position w the points are thrown into buckets by |d| (negated when
// d < 0), the buckets are summed with a running sum (Σ_k k·B_k in
// 2·2^(c−1) additions) and the window sums are combined by c doublings each.
//
// A point takes part only in the windows where its digit is non-zero, so
// short scalars (for example the 128-bit random weights of a batch
// verification) cost about half of full-width ones, and zero scalars cost
// nothing. The window width c is chosen from the number of points and their
// scalar lengths.
//
// The arithmetic is on extended twisted Edwards coordinates with
// filippo.io/edwards25519/field, reading and writing gtank/ristretto255's
// Elements through the view of crypto/internal/ext (when that view's layout
// check fails, gtank's own VarTimeMultiScalarMult is used instead). Each
// input point is converted once to affine Niels form (y+x, y−x, 2d·x·y),
// so that adding it to a bucket is a mixed addition of 7 field
// multiplications, and subtracting it costs the same (swap y+x and y−x,
// negate 2d·x·y). Decoded points already have Z = 1; the others are
// normalised with one batched inversion. The result is the same Edwards
// point as gtank's Element.Add would give (in other projective
// coordinates). The scratch space is kept in a sync.Pool between calls.
//
// Nothing here is constant-time: never pass secret scalars.
package msm

import (
	"encoding/binary"
	"math/bits"
	"sync"

	"filippo.io/edwards25519/field"

	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/internal/ext"
)

// smallN is the size below which gtank's Straus implementation is used.
const smallN = 32

// forceC, if set, overrides the window width (tests).
var forceC int

// maxC bounds the window width (2^(maxC−1) buckets of 160 bytes).
const maxC = 16

// VarTimeMultiScalarMult sets dst = Σ scalars[i]·points[i] and returns dst.
// The slices must have the same length (it panics otherwise). The time
// depends on the inputs; use it for public values only.
func VarTimeMultiScalarMult(dst *ristretto255.Element, scalars []*ristretto255.Scalar, points []*ristretto255.Element) *ristretto255.Element {
	if len(scalars) != len(points) {
		panic("msm: mismatched slice lengths")
	}
	n := len(scalars)
	if n == 0 {
		return dst.Zero()
	}
	if n < smallN || !ext.OK {
		return dst.VarTimeMultiScalarMult(scalars, points)
	}
	m := pool.Get().(*multiplier)
	defer pool.Put(m)
	return m.run(dst, scalars, points)
}

// multiplier holds the scratch space of one multiplication, kept between
// calls (pool) so that a verifier's batches do not allocate it each time.
type multiplier struct {
	limbs   [][5]uint64 // scalars as little-endian limbs (one spare limb)
	nbits   []int       // bit length of each scalar
	hist    [257]int    // number of scalars of each bit length
	carry   []uint8     // signed-digit carry of each scalar
	pre     []affineNiels
	todo    []int // precompute: the points with Z ≠ 1
	prod    []field.Element
	buckets []ext.Point
	used    []bool
	sums    []ext.Point // each window's sum
	sumSet  []bool
}

var pool = sync.Pool{New: func() any { return new(multiplier) }}

// resize returns s with length n, reusing its array when large enough
// (the contents are not cleared).
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (m *multiplier) run(dst *ristretto255.Element, scalars []*ristretto255.Scalar, points []*ristretto255.Element) *ristretto255.Element {
	n := len(scalars)
	m.limbs = resize(m.limbs, n)
	m.nbits = resize(m.nbits, n)
	m.hist = [257]int{}
	maxBits := 0
	var buf [32]byte
	for i, s := range scalars {
		b := s.Encode(buf[:0])
		l := &m.limbs[i]
		for k := 0; k < 4; k++ {
			l[k] = binary.LittleEndian.Uint64(b[8*k:])
		}
		l[4] = 0
		nb := 0
		for k := 3; k >= 0; k-- {
			if l[k] != 0 {
				nb = 64*k + bits.Len64(l[k])
				break
			}
		}
		m.nbits[i] = nb
		m.hist[nb]++
		maxBits = max(maxBits, nb)
	}
	if maxBits == 0 {
		return dst.Zero()
	}
	c := chooseWindow(&m.hist, maxBits)
	if forceC != 0 {
		c = forceC
	}
	m.precompute(points)
	// Signed digits need one more bit for the final carry.
	windows := (maxBits + 1 + c - 1) / c
	half := 1 << (c - 1)
	m.buckets = resize(m.buckets, half+1)
	m.used = resize(m.used, half+1)
	clear(m.used)

	// Digits are computed window by window from the bottom, keeping one
	// carry per scalar: d = raw + carry, and if d > 2^(c−1) then d −= 2^c
	// and the next carry is 1. So d ∈ (−2^(c−1), 2^(c−1)], and since
	// windows·c ≥ maxBits+1 the top digit never carries out.
	m.carry = resize(m.carry, n)
	clear(m.carry)
	carry := m.carry
	mask := uint64(1)<<c - 1

	var acc ext.Point
	accSet := false
	var sum p1xp1
	// Digits are produced from the lowest window up, but the result is
	// accumulated from the top: keep each window's sum, then combine.
	m.sums = resize(m.sums, windows)
	m.sumSet = resize(m.sumSet, windows)
	sums, sumSet := m.sums, m.sumSet
	for w := 0; w < windows; w++ {
		off := w * c
		top := 0
		for i := range n {
			if m.nbits[i] <= off && carry[i] == 0 {
				continue
			}
			l := &m.limbs[i]
			q, r := off/64, uint(off%64)
			raw := l[q] >> r
			if r != 0 && q+1 < 5 {
				raw |= l[q+1] << (64 - r)
			}
			d := int(raw&mask) + int(carry[i])
			if d > half {
				d -= 1 << c
				carry[i] = 1
			} else {
				carry[i] = 0
			}
			switch {
			case d > 0:
				if m.used[d] {
					sum.addAffine(&m.buckets[d], &m.pre[i], false)
					sum.toP3(&m.buckets[d])
				} else {
					m.buckets[d] = *ext.Of(points[i])
					m.used[d] = true
				}
				top = max(top, d)
			case d < 0:
				if m.used[-d] {
					sum.addAffine(&m.buckets[-d], &m.pre[i], true)
					sum.toP3(&m.buckets[-d])
				} else {
					negate(&m.buckets[-d], ext.Of(points[i]))
					m.used[-d] = true
				}
				top = max(top, -d)
			}
		}
		// Σ_k k·B_k = Σ_k (B_top + … + B_k).
		var run, total ext.Point
		var cached projCached
		runSet, totalSet := false, false
		for k := top; k >= 1; k-- {
			if m.used[k] {
				if runSet {
					cached.from(&m.buckets[k])
					sum.add(&run, &cached)
					sum.toP3(&run)
				} else {
					run = m.buckets[k]
					runSet = true
				}
				m.used[k] = false
			}
			if runSet {
				if totalSet {
					cached.from(&run)
					sum.add(&total, &cached)
					sum.toP3(&total)
				} else {
					total = run
					totalSet = true
				}
			}
		}
		sums[w], sumSet[w] = total, totalSet
	}
	var p2 projP2
	var cached projCached
	for w := windows - 1; w >= 0; w-- {
		if accSet {
			p2.fromP3(&acc)
			for j := range c {
				sum.double(&p2)
				if j < c-1 {
					sum.toP2(&p2)
				} else {
					sum.toP3(&acc)
				}
			}
		}
		if sumSet[w] {
			if accSet {
				cached.from(&sums[w])
				sum.add(&acc, &cached)
				sum.toP3(&acc)
			} else {
				acc = sums[w]
				accSet = true
			}
		}
	}
	if !accSet {
		return dst.Zero()
	}
	*ext.Of(dst) = acc
	return dst
}

// chooseWindow picks the c that minimises the estimated number of point
// additions: about one per non-zero digit, 2·2^(c−1) per window to sum the
// buckets, and c doublings per window.
func chooseWindow(hist *[257]int, maxBits int) int {
	best, bestCost := 1, -1
	for c := 2; c <= maxC; c++ {
		cost := 0
		for nb, k := range hist {
			if k == 0 || nb == 0 {
				continue
			}
			cost += k * ((nb + c) / c) // windows with a possibly non-zero digit
		}
		windows := (maxBits + c) / c
		cost += windows * (2<<(c-1) + c)
		if bestCost < 0 || cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best
}
