package msm

import (
	"bytes"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"filippo.io/edwards25519/field"
	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/internal/ext"
)

// naive returns Σ s_i·P_i with one scalar multiplication per point.
func naive(scalars []*ristretto255.Scalar, points []*ristretto255.Element) *ristretto255.Element {
	acc := ristretto255.NewElement()
	var t ristretto255.Element
	for i := range scalars {
		acc.Add(acc, t.ScalarMult(scalars[i], points[i]))
	}
	return acc
}

func randScalar(r *mrand.Rand, kind int) *ristretto255.Scalar {
	var b [64]byte
	s := ristretto255.NewScalar()
	switch kind {
	case 0: // zero
	case 1: // full width
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		s.FromUniformBytes(b[:])
	case 2: // 128-bit
		var c [32]byte
		for i := range 16 {
			c[i] = byte(r.Uint32())
		}
		if err := s.Decode(c[:]); err != nil {
			panic(err)
		}
	case 3: // ℓ − 1 (the largest scalar)
		one := ristretto255.NewScalar()
		var c [32]byte
		c[0] = 1
		_ = one.Decode(c[:])
		s.Negate(one)
	case 4: // small
		var c [32]byte
		c[0] = byte(r.Uint32())
		_ = s.Decode(c[:])
	case 5: // 2^k boundaries: all ones up to a window edge
		var c [32]byte
		k := r.IntN(252)
		for j := 0; j <= k; j++ {
			c[j/8] |= 1 << (j % 8)
		}
		_ = s.Decode(c[:])
	}
	return s
}

// randPoint returns a random point in one of three representations: as
// the hash-to-group map leaves it (Z ≠ 1), decoded (Z = 1, as in exports),
// or with its coordinates scaled by a random λ (Z = λ·Z).
func randPoint(r *mrand.Rand) *ristretto255.Element {
	var b [64]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	e := ristretto255.NewElement().FromUniformBytes(b[:])
	switch r.IntN(3) {
	case 1:
		if err := e.Decode(e.Encode(nil)); err != nil {
			panic(err)
		}
		if p := ext.Of(e); p.Z != *one {
			panic("decoded point with Z ≠ 1")
		}
	case 2:
		var l field.Element
		if _, err := l.SetBytes(b[32:]); err != nil || l.Equal(new(field.Element)) == 1 {
			break
		}
		p := ext.Of(e)
		p.X.Multiply(&p.X, &l)
		p.Y.Multiply(&p.Y, &l)
		p.Z.Multiply(&p.Z, &l)
		p.T.Multiply(&p.T, &l)
	}
	return e
}

// sameEdwards reports whether a and b are the same Edwards point (not only
// the same ristretto255 element): X₁Z₂ = X₂Z₁ and Y₁Z₂ = Y₂Z₁.
func sameEdwards(a, b *ristretto255.Element) bool {
	p, q := ext.Of(a), ext.Of(b)
	var l, r field.Element
	if l.Multiply(&p.X, &q.Z).Equal(r.Multiply(&q.X, &p.Z)) != 1 {
		return false
	}
	return l.Multiply(&p.Y, &q.Z).Equal(r.Multiply(&q.Y, &p.Z)) == 1
}

func check(t *testing.T, scalars []*ristretto255.Scalar, points []*ristretto255.Element) {
	t.Helper()
	want := naive(scalars, points)
	got := VarTimeMultiScalarMult(ristretto255.NewElement(), scalars, points)
	if got.Equal(want) != 1 || !sameEdwards(got, want) {
		t.Fatalf("n=%d: MSM differs from the naive sum", len(scalars))
	}
	if len(scalars) > 0 {
		var m multiplier
		got = m.run(ristretto255.NewElement(), scalars, points)
		if got.Equal(want) != 1 || !sameEdwards(got, want) || !bytes.Equal(got.Encode(nil), want.Encode(nil)) {
			t.Fatalf("n=%d: bucket MSM differs from the naive sum", len(scalars))
		}
		straus := ristretto255.NewElement().VarTimeMultiScalarMult(scalars, points)
		if !sameEdwards(got, straus) {
			t.Fatalf("n=%d: bucket MSM differs from gtank's VarTimeMultiScalarMult", len(scalars))
		}
	}
}

func TestSizes(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 3, 5, 31, 32, 33, 64, 100, 257, 1000, 5000}
	if testing.Short() {
		sizes = sizes[:10]
	}
	for _, n := range sizes {
		for _, kind := range []int{-1, 0, 1, 2, 3} {
			t.Run(fmt.Sprintf("n=%d/kind=%d", n, kind), func(t *testing.T) {
				ss := make([]*ristretto255.Scalar, n)
				ps := make([]*ristretto255.Element, n)
				for i := range n {
					k := kind
					if k < 0 {
						k = r.IntN(6)
					}
					ss[i] = randScalar(r, k)
					ps[i] = randPoint(r)
				}
				check(t, ss, ps)
			})
		}
	}
}

// randInputs returns n random scalars of every kind and random points.
func randInputs(r *mrand.Rand, n int) ([]*ristretto255.Scalar, []*ristretto255.Element) {
	ss := make([]*ristretto255.Scalar, n)
	ps := make([]*ristretto255.Element, n)
	for i := range n {
		ss[i] = randScalar(r, r.IntN(6))
		ps[i] = randPoint(r)
	}
	return ss, ps
}

func TestRandomSizes(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	for range 20 {
		n := r.IntN(600)
		ss, ps := randInputs(r, n)
		check(t, ss, ps)
	}
}

func TestSpecialPoints(t *testing.T) {
	r := mrand.New(mrand.NewPCG(5, 6))
	const n = 300
	p := randPoint(r)
	ss := make([]*ristretto255.Scalar, n)
	ps := make([]*ristretto255.Element, n)
	for i := range n {
		ss[i] = randScalar(r, r.IntN(6))
		switch i % 4 {
		case 0:
			ps[i] = ristretto255.NewElement() // identity
		case 1:
			ps[i] = p // the same pointer repeated
		case 2:
			ps[i] = ristretto255.NewElement().Negate(p) // cancels
		default:
			ps[i] = randPoint(r)
		}
	}
	check(t, ss, ps)
	// All identity points, all zero scalars.
	for i := range n {
		ps[i] = ristretto255.NewElement()
	}
	check(t, ss, ps)
	for i := range n {
		ss[i] = ristretto255.NewScalar()
		ps[i] = randPoint(r)
	}
	check(t, ss, ps)
	// Sums that cancel exactly: s·P + (ℓ−s)·P.
	for i := 0; i < n; i += 2 {
		ss[i] = randScalar(r, 1)
		ss[i+1] = ristretto255.NewScalar().Negate(ss[i])
		ps[i+1] = ps[i]
	}
	if got := VarTimeMultiScalarMult(ristretto255.NewElement(), ss, ps); got.Equal(ristretto255.NewElement()) != 1 {
		t.Fatal("cancelling sum is not the identity")
	}
}

func TestMaxScalars(t *testing.T) {
	r := mrand.New(mrand.NewPCG(7, 8))
	for _, n := range []int{40, 500} {
		ss := make([]*ristretto255.Scalar, n)
		ps := make([]*ristretto255.Element, n)
		for i := range n {
			ss[i] = randScalar(r, 3)
			ps[i] = randPoint(r)
		}
		check(t, ss, ps)
	}
}

func TestWindowsAllWidths(t *testing.T) {
	// Force every window width on the same input.
	r := mrand.New(mrand.NewPCG(9, 10))
	const n = 70
	ss := make([]*ristretto255.Scalar, n)
	ps := make([]*ristretto255.Element, n)
	for i := range n {
		ss[i] = randScalar(r, r.IntN(6))
		ps[i] = randPoint(r)
	}
	want := naive(ss, ps)
	for c := 1; c <= maxC; c++ {
		forceC = c
		var m multiplier
		got := m.run(ristretto255.NewElement(), ss, ps)
		forceC = 0
		if got.Equal(want) != 1 || !sameEdwards(got, want) {
			t.Fatalf("c=%d: wrong result", c)
		}
	}
}

func TestMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	VarTimeMultiScalarMult(ristretto255.NewElement(), make([]*ristretto255.Scalar, 1), nil)
}

func FuzzMSM(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint16(40))
	f.Add([]byte{0xff, 0xff}, uint16(33))
	f.Fuzz(func(t *testing.T, seed []byte, n uint16) {
		n %= 200
		var s1, s2 uint64
		for i, b := range seed {
			if i < 8 {
				s1 = s1<<8 | uint64(b)
			} else {
				s2 = s2<<8 | uint64(b)
			}
		}
		r := mrand.New(mrand.NewPCG(s1, s2))
		ss := make([]*ristretto255.Scalar, n)
		ps := make([]*ristretto255.Element, n)
		for i := range int(n) {
			ss[i] = randScalar(r, r.IntN(6))
			if r.IntN(8) == 0 && i > 0 {
				ps[i] = ps[r.IntN(i)]
			} else {
				ps[i] = randPoint(r)
			}
		}
		check(t, ss, ps)
	})
}

// TestReuse: one multiplier's scratch reused across calls of different
// sizes, window widths and zero scalars (as the pool does) gives the same
// results as fresh ones.
func TestReuse(t *testing.T) {
	r := mrand.New(mrand.NewPCG(11, 12))
	var m multiplier
	for _, n := range []int{500, 40, 300, 33, 1000, 64} {
		ss, ps := randInputs(r, n)
		want := naive(ss, ps)
		if got := m.run(ristretto255.NewElement(), ss, ps); !sameEdwards(got, want) {
			t.Fatalf("n=%d: reused multiplier differs from the naive sum", n)
		}
	}
}
