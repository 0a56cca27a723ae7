package enc

import (
	"bytes"
	"errors"

	"filippo.io/edwards25519/field"
	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/internal/ext"
)

// Decompression hints (docs/protocol.md §4.5, export format version 4).
//
// Decoding a ristretto255 element (RFC 9496 §4.3.1) costs one inverse square
// root: SQRT_RATIO_M1(1, w) with w = v·u2², a field exponentiation of about
// 250 squarings. A hint is that value, h, shipped next to the element (outside
// every hash): the decoder checks it with h²·w = 1 instead of computing it.
// If 1/w is a square it has exactly two square roots ±h, one of them
// non-negative (w ≠ 0, p odd), and SQRT_RATIO_M1 returns that one; if 1/w is
// not a square, or w = 0, no h passes. So the check "h canonical, h
// non-negative, h²·w = 1" accepts exactly the h that SQRT_RATIO_M1 returns,
// and the decoder then does every other step of RFC 9496 §4.3.1 (canonical
// s, s non-negative, t non-negative, y ≠ 0) unchanged: the same encodings are
// accepted, giving the same points, as with [DecodeFast].

// HintSize is the size of one hint: a canonical little-endian field element.
const HintSize = 32

// ErrHint is returned for a hint that is not the canonical encoding of the
// non-negative inverse square root the element needs, for a valid element.
var ErrHint = errors.New("wrong decompression hint")

var (
	feOne = new(field.Element).One()
	// feD is the Edwards d = −121665/121666 (RFC 7748, RFC 9496 §4.1).
	feD = ext.D
)

// decodeFE decodes a canonical field element (< p, top bit clear).
func decodeFE(fe *field.Element, b []byte) bool {
	if _, err := fe.SetBytes(b); err != nil {
		return false
	}
	return bytes.Equal(fe.Bytes(), b)
}

// hintPre runs RFC 9496 §4.3.1 up to the inverse square root: it checks s
// and returns u1, u2, v and w = v·u2² (the argument of SQRT_RATIO_M1(1, w)).
func hintPre(s, u1, u2, v, w *field.Element, b []byte) bool {
	if !decodeFE(s, b) || s.IsNegative() == 1 {
		return false
	}
	var ss, u2sq field.Element
	ss.Square(s)
	u1.Subtract(feOne, &ss)
	u2.Add(feOne, &ss)
	u2sq.Square(u2)
	v.Square(u1).Multiply(v, feD).Negate(v).Subtract(v, &u2sq)
	w.Multiply(v, &u2sq)
	return true
}

// Hint returns the decompression hint of a canonical element encoding b (the
// exporter's side). It returns [ErrElement] if b is not a valid encoding.
func Hint(b []byte) ([]byte, error) {
	if len(b) != ElementSize {
		return nil, ErrLength
	}
	var s, u1, u2, v, w, h field.Element
	if !hintPre(&s, &u1, &u2, &v, &w, b) {
		return nil, ErrElement
	}
	if _, sq := h.SqrtRatio(feOne, &w); sq != 1 {
		return nil, ErrElement
	}
	// The remaining checks of RFC 9496 §4.3.1 (t non-negative, y ≠ 0).
	var e ristretto255.Element
	if !decodeHinted(&e, b, h.Bytes()) {
		return nil, ErrElement
	}
	return h.Bytes(), nil
}

// gtank exports no way to build an Element from coordinates, so the hinted
// decoder writes them in place through the view of crypto/internal/ext;
// fastPath (checked once, below, and by TestHintLayout) falls back to a
// full decode if the layout is ever not the one that view assumes.
var fastPath = ext.OK && layoutOK()

// layoutOK decodes a few points both ways and compares the results, limbs
// and encodings.
func layoutOK() bool {
	var p ristretto255.Element
	p.Base()
	for i := 0; i < 4; i++ {
		b := p.Encode(nil)
		var full, hinted ristretto255.Element
		if full.Decode(b) != nil {
			return false
		}
		h, err := Hint(b)
		if err != nil || !decodeHinted(&hinted, b, h) {
			return false
		}
		f, g := ext.Of(&full), ext.Of(&hinted)
		if f.X.Equal(&g.X) != 1 || f.Y.Equal(&g.Y) != 1 || f.Z.Equal(&g.Z) != 1 || f.T.Equal(&g.T) != 1 ||
			full.Equal(&hinted) != 1 || !bytes.Equal(hinted.Encode(nil), b) {
			return false
		}
		p.Add(&p, &p)
	}
	return true
}

// decodeHinted is RFC 9496 §4.3.1 with SQRT_RATIO_M1 replaced by the check
// of h. It writes e only on success.
func decodeHinted(e *ristretto255.Element, b, hb []byte) bool {
	var s, u1, u2, v, w, h, t0 field.Element
	if !hintPre(&s, &u1, &u2, &v, &w, b) {
		return false
	}
	if !decodeFE(&h, hb) || h.IsNegative() == 1 {
		return false
	}
	if t0.Square(&h).Multiply(&t0, &w).Equal(feOne) != 1 {
		return false
	}
	// den_x = h·u2; den_y = h·den_x·v; x = |2·s·den_x|; y = u1·den_y; t = x·y.
	var denX, denY, x, y, t field.Element
	denX.Multiply(&h, &u2)
	denY.Multiply(&h, &denX).Multiply(&denY, &v)
	x.Add(&s, &s).Multiply(&x, &denX)
	x.Absolute(&x)
	y.Multiply(&u1, &denY)
	t.Multiply(&x, &y)
	if t.IsNegative() == 1 || y.Equal(new(field.Element)) == 1 {
		return false
	}
	*ext.Of(e) = ext.Point{X: x, Y: y, Z: *feOne, T: t}
	return true
}

// DecodeFastHinted is [DecodeFast] with a decompression hint h: it accepts
// and rejects exactly the encodings DecodeFast does, and in addition
// returns [ErrHint] when b is a valid encoding but h is not its hint (not 32
// bytes, not canonical, the negative root, or not a root). e is written only
// on success.
func DecodeFastHinted(e *ristretto255.Element, b, h []byte, nonIdentity bool) error {
	if len(b) != ElementSize {
		return ErrLength
	}
	if nonIdentity && [32]byte(b) == identityEnc {
		return ErrIdentity
	}
	if len(h) == HintSize && fastPath && decodeHinted(e, b, h) {
		return nil
	}
	// Slow path: a bad element or a bad hint, named apart (or the layout
	// check failed: then every element is decoded in full and its hint
	// compared).
	var full ristretto255.Element
	if err := full.Decode(b); err != nil {
		return ErrElement
	}
	want, err := Hint(b)
	if err != nil || !bytes.Equal(want, h) {
		return ErrHint
	}
	*e = full
	return nil
}

// DecodeFastAt decodes element b with the i-th hint of hints, or in full
// when hints is nil (the callers' one switch between the two decoders).
func DecodeFastAt(e *ristretto255.Element, b, hints []byte, i int, nonIdentity bool) error {
	if hints == nil {
		return DecodeFast(e, b, nonIdentity)
	}
	return DecodeFastHinted(e, b, hints[i*HintSize:(i+1)*HintSize], nonIdentity)
}
