// Package ext views a gtank/ristretto255 Element as its extended twisted
// Edwards coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, x·y = T/Z, so that
// code which needs the coordinates (the hinted decoder of crypto/internal/enc,
// the bucket multi-scalar multiplication of crypto/internal/msm) can read and
// write them with filippo.io/edwards25519/field.
//
// gtank/ristretto255 v0.1.2's Element is edwards25519.ProjP3{X, Y, Z, T
// radix51.FieldElement} with FieldElement [5]uint64, limbs of 51 bits — the
// layout of field.Element (l0 … l4). gtank exports no way to reach the
// coordinates, so [Of] reinterprets the Element in place (unsafe). [OK] is
// the result of a check made once at start-up that the layout is that one;
// callers must take a path through gtank's public API when it is false
// (TestLayout fails the build's tests if it ever is).
package ext

import (
	"bytes"
	"unsafe"

	"filippo.io/edwards25519/field"
	"github.com/gtank/ristretto255"
)

// Point is an Element's extended coordinates.
type Point struct{ X, Y, Z, T field.Element }

// Of returns the coordinates of e, in place: writes through the result
// change e. Use it only when [OK] is true.
func Of(e *ristretto255.Element) *Point {
	return (*Point)(unsafe.Pointer(e))
}

// OK reports whether gtank's Element has the layout [Point] assumes.
var OK = layoutOK()

// D is the Edwards d = −121665/121666 (RFC 7748, RFC 9496 §4.1).
var D = func() *field.Element {
	var n, m field.Element
	n.Mult32(new(field.Element).One(), 121665)
	m.Mult32(new(field.Element).One(), 121666)
	return n.Negate(&n).Multiply(&n, m.Invert(&m))
}()

// baseX is the little-endian encoding of the Ed25519 base point's x
// (RFC 8032 §5.1); its y is 4/5.
var baseX = [32]byte{
	0x1a, 0xd5, 0x25, 0x8f, 0x60, 0x2d, 0x56, 0xc9, 0xb2, 0xa7, 0x25, 0x95, 0x60, 0xc7, 0x2c, 0x69,
	0x5c, 0xdc, 0xd6, 0xfd, 0x31, 0xe2, 0xa4, 0xc0, 0xfe, 0x53, 0x6e, 0xcd, 0xd3, 0x36, 0x69, 0x21,
}

// onCurve reports whether p is a point of the curve −x² + y² = 1 + d·x²·y²
// in extended coordinates (Z ≠ 0, X·Y = Z·T).
func (p *Point) onCurve() bool {
	var xx, yy, zz, tt, l, r, a, b field.Element
	xx.Square(&p.X)
	yy.Square(&p.Y)
	zz.Square(&p.Z)
	tt.Square(&p.T)
	l.Subtract(&yy, &xx).Multiply(&l, &zz) // (−X² + Y²)·Z²
	r.Multiply(&tt, D).Multiply(&r, &zz)   // d·T²·Z² (= d·X²·Y²)
	r.Add(&r, a.Square(&zz))               // Z⁴ + d·X²·Y²
	a.Multiply(&p.X, &p.Y)
	b.Multiply(&p.Z, &p.T)
	return p.Z.Equal(new(field.Element)) == 0 && l.Equal(&r) == 1 && a.Equal(&b) == 1
}

// layoutOK reads gtank's base point through the view (it must be the
// Ed25519 base point, RFC 9496 §4.4), checks a few multiples are on the
// curve, and writes points through the view (scaled coordinates, a
// negation) to check gtank reads them back as the same elements.
func layoutOK() bool {
	if unsafe.Sizeof(ristretto255.Element{}) != unsafe.Sizeof(Point{}) {
		return false
	}
	var e ristretto255.Element
	e.Base()
	p := Of(&e)
	var zinv, x, y, t field.Element
	zinv.Invert(&p.Z)
	x.Multiply(&p.X, &zinv)
	y.Multiply(&p.Y, &zinv)
	t.Mult32(&y, 5)
	if !bytes.Equal(x.Bytes(), baseX[:]) || t.Equal(new(field.Element).Mult32(new(field.Element).One(), 4)) != 1 {
		return false
	}
	for i := 0; i < 4; i++ {
		p := Of(&e)
		if !p.onCurve() {
			return false
		}
		// (λX : λY : λZ : λT) is the same point.
		var l field.Element
		l.Mult32(&p.Y, 7).Add(&l, new(field.Element).One())
		var s ristretto255.Element
		q := Of(&s)
		q.X.Multiply(&p.X, &l)
		q.Y.Multiply(&p.Y, &l)
		q.Z.Multiply(&p.Z, &l)
		q.T.Multiply(&p.T, &l)
		if s.Equal(&e) != 1 || !bytes.Equal(s.Encode(nil), e.Encode(nil)) {
			return false
		}
		// (−X : Y : Z : −T) is −P.
		var n, g ristretto255.Element
		g.Negate(&e)
		*Of(&n) = Point{X: *new(field.Element).Negate(&p.X), Y: p.Y, Z: p.Z, T: *new(field.Element).Negate(&p.T)}
		if n.Equal(&g) != 1 || n.Equal(&e) == 1 {
			return false
		}
		e.Add(&e, &e)
	}
	return true
}
