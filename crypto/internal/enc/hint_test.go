package enc

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"filippo.io/edwards25519/field"
	"github.com/gtank/ristretto255"
)

// TestHintLayout: the hinted decoder writes gtank's Element in place; the
// check made at start-up must pass with the gtank version in go.mod, or
// every hinted decode would silently take the slow path.
func TestHintLayout(t *testing.T) {
	if !fastPath {
		t.Fatal("gtank/ristretto255 Element layout is not the one the hinted decoder writes: fast path off")
	}
	if feD.Equal(new(field.Element).Negate(new(field.Element).Multiply(mustFE("41db010000000000000000000000000000000000000000000000000000000000"), new(field.Element).Invert(mustFE("42db010000000000000000000000000000000000000000000000000000000000"))))) != 1 {
		t.Fatal("d is not -121665/121666")
	}
}

func randomPoints(t testing.TB, n int) [][]byte {
	var out [][]byte
	var p ristretto255.Element
	for i := 0; i < n; i++ {
		var u [64]byte
		if _, err := rand.Read(u[:]); err != nil {
			t.Fatal(err)
		}
		p.FromUniformBytes(u[:])
		out = append(out, p.Encode(nil))
	}
	out = append(out, make([]byte, 32), ristretto255.NewElement().Base().Encode(nil))
	return out
}

// TestHintedDecodeDifferential: with the right hint, the same point as a
// full decode; a wrong hint is refused by name (ErrHint), never accepted.
func TestHintedDecodeDifferential(t *testing.T) {
	for _, b := range randomPoints(t, 2000) {
		h, err := Hint(b)
		if err != nil {
			t.Fatalf("Hint(%x): %v", b, err)
		}
		var full, hinted ristretto255.Element
		if err := DecodeFast(&full, b, false); err != nil {
			t.Fatal(err)
		}
		if err := DecodeFastHinted(&hinted, b, h, false); err != nil {
			t.Fatalf("hinted decode of %x: %v", b, err)
		}
		if full.Equal(&hinted) != 1 || !bytes.Equal(hinted.Encode(nil), b) {
			t.Fatalf("hinted decode of %x differs", b)
		}
		// The other root, h+p (non-canonical), any other value, a short hint.
		var hf, neg field.Element
		if _, err := hf.SetBytes(h); err != nil {
			t.Fatal(err)
		}
		neg.Negate(&hf)
		bad := [][]byte{neg.Bytes(), addP(h), flip(h), h[:31], nil}
		for _, w := range bad {
			var x ristretto255.Element
			if err := DecodeFastHinted(&x, b, w, false); !errors.Is(err, ErrHint) {
				t.Fatalf("element %x with wrong hint %x: %v, want ErrHint", b, w, err)
			}
		}
	}
}

// addP returns the 32-byte encoding of h + p when it fits (h < 19 + 2^255 − p
// never happens for random h; otherwise h with its top bit set, also
// non-canonical).
func addP(h []byte) []byte {
	out := bytes.Clone(h)
	out[31] |= 0x80
	return out
}

func flip(h []byte) []byte {
	out := bytes.Clone(h)
	out[0] ^= 1
	return out
}

// TestHintedDecodeRejects: invalid encodings are refused as elements
// (ErrElement), whatever the hint, exactly as DecodeFast refuses them.
func TestHintedDecodeRejects(t *testing.T) {
	for i := 0; i < 20000; i++ {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			b[31] &= 0x7f
			b[0] &^= 1
		}
		hints := [][]byte{make([]byte, 32), b}
		var w, s, u1, u2, v field.Element
		if hintPre(&s, &u1, &u2, &v, &w, b) {
			var h field.Element
			h.SqrtRatio(feOne, &w) // the candidate root even if 1/w is not a square
			hints = append(hints, h.Bytes())
		}
		var ref ristretto255.Element
		refErr := DecodeFast(&ref, b, false)
		if _, err := Hint(b); (err == nil) != (refErr == nil) {
			t.Fatalf("%x: full decode %v, Hint %v", b, refErr, err)
		}
		for _, h := range hints {
			var x ristretto255.Element
			err := DecodeFastHinted(&x, b, h, false)
			switch {
			case refErr != nil && !errors.Is(err, ErrElement):
				t.Fatalf("%x: full decode %v, hinted %v", b, refErr, err)
			case refErr == nil && err == nil && x.Equal(&ref) != 1:
				t.Fatalf("%x: accepted as another point", b)
			}
		}
	}
}

func FuzzDecodeFastHinted(f *testing.F) {
	for _, b := range randomPoints(f, 8) {
		h, _ := Hint(b)
		f.Add(b, h)
		f.Add(b, flip(h))
	}
	f.Fuzz(func(t *testing.T, b, h []byte) {
		var full, hinted ristretto255.Element
		errFull := DecodeFast(&full, b, true)
		errHinted := DecodeFastHinted(&hinted, b, h, true)
		if errFull != nil {
			if errHinted == nil || errors.Is(errHinted, ErrHint) {
				t.Fatalf("%x: full %v, hinted %v", b, errFull, errHinted)
			}
			return
		}
		want, _ := Hint(b)
		if bytes.Equal(want, h) != (errHinted == nil) {
			t.Fatalf("%x hint %x: %v", b, h, errHinted)
		}
		if errHinted == nil && full.Equal(&hinted) != 1 {
			t.Fatal("different point")
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	pts := randomPoints(b, 64)
	hints := make([][]byte, len(pts))
	for i, p := range pts {
		hints[i], _ = Hint(p)
	}
	var e ristretto255.Element
	b.Run("full", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if err := DecodeFast(&e, pts[i%len(pts)], false); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("hinted", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if err := DecodeFastHinted(&e, pts[i%len(pts)], hints[i%len(pts)], false); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("hint", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := Hint(pts[i%len(pts)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// mustFE decodes a hex field element constant.
func mustFE(h string) *field.Element {
	var b [32]byte
	for i := range b {
		b[i] = unhex(h[2*i])<<4 | unhex(h[2*i+1])
	}
	fe, err := new(field.Element).SetBytes(b[:])
	if err != nil || !bytes.Equal(fe.Bytes(), b[:]) {
		panic("enc: bad field constant")
	}
	return fe
}

func unhex(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}
