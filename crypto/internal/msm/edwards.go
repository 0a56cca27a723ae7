package msm

import (
	"filippo.io/edwards25519/field"
	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/internal/ext"
)

// Point formulas for the twisted Edwards curve −x² + y² = 1 + d·x²·y² in
// extended coordinates (Hisil–Wong–Carter–Dawson 2008, "Twisted Edwards
// curves revisited", §3.1–3.2 with a = −1; the forms of
// filippo.io/edwards25519, whose internal types these mirror). They are
// complete: they hold for every pair of points, the identity and equal
// points included.

// affineNiels is a point with Z = 1 ready to be added: y+x, y−x, 2d·x·y.
type affineNiels struct{ ypx, ymx, t2d field.Element }

// projCached is a point ready to be added: Y+X, Y−X, Z, 2d·T.
type projCached struct{ ypx, ymx, z, t2d field.Element }

// p1xp1 is a completed point ((X : Z), (Y : T)), the output of the
// addition and doubling formulas.
type p1xp1 struct{ X, Y, Z, T field.Element }

// projP2 is (X : Y : Z), enough to double.
type projP2 struct{ X, Y, Z field.Element }

var d2 = new(field.Element).Add(ext.D, ext.D)

var one = new(field.Element).One()

// precompute sets m.pre to the affine Niels form of every point whose
// scalar is non-zero (the others are left as they were). Points with Z ≠ 1
// are normalised with one batched inversion (Montgomery's trick: 3
// multiplications a point and one inversion).
func (m *multiplier) precompute(points []*ristretto255.Element) {
	m.pre = resize(m.pre, len(points))
	pre, todo, prod := m.pre, m.todo[:0], m.prod[:0]
	defer func() { m.todo, m.prod = todo, prod }()
	acc := *one
	for i, e := range points {
		if m.nbits[i] == 0 {
			continue
		}
		p := ext.Of(e)
		if p.Z == *one { // the limbs both decoders write
			pre[i].set(&p.X, &p.Y, &p.T)
			continue
		}
		todo = append(todo, i)
		prod = append(prod, acc) // product of the Z before this one
		acc.Multiply(&acc, &p.Z)
	}
	if len(todo) == 0 {
		return
	}
	var inv, zinv, x, y, t field.Element
	inv.Invert(&acc) // Z ≠ 0 for every point
	for j := len(todo) - 1; j >= 0; j-- {
		i := todo[j]
		p := ext.Of(points[i])
		zinv.Multiply(&inv, &prod[j]) // 1/Z_j
		inv.Multiply(&inv, &p.Z)      // 1/(Z_0 ⋯ Z_{j−1})
		x.Multiply(&p.X, &zinv)
		y.Multiply(&p.Y, &zinv)
		t.Multiply(&x, &y)
		pre[i].set(&x, &y, &t)
	}
}

// set sets a to the point with affine coordinates x, y and t = x·y.
func (a *affineNiels) set(x, y, t *field.Element) {
	a.ypx.Add(y, x)
	a.ymx.Subtract(y, x)
	a.t2d.Multiply(t, d2)
}

// negate sets v = −p.
func negate(v, p *ext.Point) {
	v.X.Negate(&p.X)
	v.Y = p.Y
	v.Z = p.Z
	v.T.Negate(&p.T)
}

func (v *projCached) from(p *ext.Point) {
	v.ypx.Add(&p.Y, &p.X)
	v.ymx.Subtract(&p.Y, &p.X)
	v.z = p.Z
	v.t2d.Multiply(&p.T, d2)
}

func (v *projP2) fromP3(p *ext.Point) {
	v.X, v.Y, v.Z = p.X, p.Y, p.Z
}

// add sets v = p + q (8 multiplications).
func (v *p1xp1) add(p *ext.Point, q *projCached) {
	var ypx, ymx, pp, mm, tt2d, zz2 field.Element
	ypx.Add(&p.Y, &p.X)
	ymx.Subtract(&p.Y, &p.X)
	pp.Multiply(&ypx, &q.ypx)
	mm.Multiply(&ymx, &q.ymx)
	tt2d.Multiply(&p.T, &q.t2d)
	zz2.Multiply(&p.Z, &q.z)
	zz2.Add(&zz2, &zz2)
	v.X.Subtract(&pp, &mm)
	v.Y.Add(&pp, &mm)
	v.Z.Add(&zz2, &tt2d)
	v.T.Subtract(&zz2, &tt2d)
}

// addAffine sets v = p + q, or p − q if neg (3 multiplications): −q is
// (y−x, y+x, −2d·x·y), so the negation is free.
func (v *p1xp1) addAffine(p *ext.Point, q *affineNiels, neg bool) {
	qpx, qmx := &q.ypx, &q.ymx
	if neg {
		qpx, qmx = qmx, qpx
	}
	var ypx, ymx, pp, mm, tt2d, z2 field.Element
	ypx.Add(&p.Y, &p.X)
	ymx.Subtract(&p.Y, &p.X)
	pp.Multiply(&ypx, qpx)
	mm.Multiply(&ymx, qmx)
	tt2d.Multiply(&p.T, &q.t2d)
	z2.Add(&p.Z, &p.Z)
	v.X.Subtract(&pp, &mm)
	v.Y.Add(&pp, &mm)
	if neg {
		v.Z.Subtract(&z2, &tt2d)
		v.T.Add(&z2, &tt2d)
	} else {
		v.Z.Add(&z2, &tt2d)
		v.T.Subtract(&z2, &tt2d)
	}
}

// double sets v = 2p (4 squarings).
func (v *p1xp1) double(p *projP2) {
	var xx, yy, zz2, xpy field.Element
	xx.Square(&p.X)
	yy.Square(&p.Y)
	zz2.Square(&p.Z)
	zz2.Add(&zz2, &zz2)
	xpy.Add(&p.X, &p.Y)
	xpy.Square(&xpy)
	v.Y.Add(&yy, &xx)
	v.Z.Subtract(&yy, &xx)
	v.X.Subtract(&xpy, &v.Y)
	v.T.Subtract(&zz2, &v.Z)
}

// toP3 sets r to v in extended coordinates (4 multiplications).
func (v *p1xp1) toP3(r *ext.Point) {
	r.X.Multiply(&v.X, &v.T)
	r.Y.Multiply(&v.Y, &v.Z)
	r.Z.Multiply(&v.Z, &v.T)
	r.T.Multiply(&v.X, &v.Y)
}

// toP2 sets r to v in projective coordinates (3 multiplications).
func (v *p1xp1) toP2(r *projP2) {
	r.X.Multiply(&v.X, &v.T)
	r.Y.Multiply(&v.Y, &v.Z)
	r.Z.Multiply(&v.Z, &v.T)
}
