package ext

import (
	"testing"

	"filippo.io/edwards25519/field"
)

// TestLayout: the view must match gtank/ristretto255's Element in the
// version go.mod names, or the hinted decoder and the bucket MSM would
// silently fall back to their slow paths.
func TestLayout(t *testing.T) {
	if !OK {
		t.Fatal("gtank/ristretto255 Element layout is not extended coordinates of field.Element: fast paths off")
	}
	// d·121666 = −121665.
	var a, b field.Element
	a.Mult32(D, 121666)
	b.Mult32(new(field.Element).One(), 121665).Negate(&b)
	if a.Equal(&b) != 1 {
		t.Fatal("d is not -121665/121666")
	}
}

// TestLayoutCheckFails: the check can fail (a point off the curve).
func TestLayoutCheckFails(t *testing.T) {
	p := Point{}
	p.X.One()
	p.Y.One()
	p.Z.One()
	p.T.One()
	if p.onCurve() {
		t.Fatal("(1, 1) accepted as a curve point")
	}
	var id Point
	id.Y.One()
	id.Z.One()
	if !id.onCurve() {
		t.Fatal("identity rejected")
	}
}
