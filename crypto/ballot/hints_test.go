package ballot

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// TestHintsVectors: the hints of every valid vector are the vector's, and
// with them each ballot decodes to exactly the ballot decoded in full.
func TestHintsVectors(t *testing.T) {
	f := load(t)
	for _, v := range f.bf.Valid {
		bin, _ := hex.DecodeString(v.Binary)
		h, err := f.e.Hints(bin)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(h) != v.Hints || len(h) != f.e.HintsSize() {
			t.Fatalf("%s: hints differ from the vector", v.Name)
		}
		full, err := f.e.Parse(bin)
		if err != nil {
			t.Fatal(err)
		}
		hinted, err := f.e.ParseHinted(bin, h)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		again, _ := hinted.MarshalBinary()
		if !bytes.Equal(again, bin) || f.e.Verify(hinted) != nil {
			t.Fatalf("%s: the hinted decode differs", v.Name)
		}
		for qi := range full.Questions {
			for oi, s := range full.Questions[qi].Selections {
				if !s.Ciphertext.Alpha().IsEqual(hinted.Questions[qi].Selections[oi].Ciphertext.Alpha()) {
					t.Fatalf("%s: ciphertext %d/%d differs", v.Name, qi, oi)
				}
			}
		}
	}
}

// TestWrongHintNamed: "A wrong decompression hint is detected and named":
// every single-bit change of a ballot's hints, a hint of another element,
// and hints of the wrong length are ErrHint, never accepted; a ballot that
// does not decode without hints is ErrMalformed whatever its hints.
func TestWrongHintNamed(t *testing.T) {
	f := load(t)
	v := f.bf.Valid[0]
	bin, _ := hex.DecodeString(v.Binary)
	h, _ := hex.DecodeString(v.Hints)
	for i := range len(h) * 8 {
		w := bytes.Clone(h)
		w[i/8] ^= 1 << (i % 8)
		if _, err := f.e.ParseHinted(bin, w); !errors.Is(err, ErrHint) || errors.Is(err, ErrMalformed) {
			t.Fatalf("bit %d of the hints changed: %v", i, err)
		}
	}
	swapped := bytes.Clone(h)
	copy(swapped[:32], h[32:64])
	copy(swapped[32:64], h[:32])
	for name, w := range map[string][]byte{"swapped": swapped, "short": h[:len(h)-32], "long": append(bytes.Clone(h), h[:32]...), "none": {}} {
		_, err := f.e.ParseHinted(bin, w)
		if !errors.Is(err, ErrHint) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// An identity α (a malformed ballot) with the right-length hints.
	bad := bytes.Clone(bin)
	clear(bad[39 : 39+32])
	if _, err := f.e.ParseHinted(bad, h); !errors.Is(err, ErrMalformed) || errors.Is(err, ErrHint) {
		t.Fatalf("identity α: %v", err)
	}
	// A changed element (another valid point or none) with the old hints.
	for i := 0; i < 32*8; i += 7 {
		b := bytes.Clone(bin)
		b[39+32+i/8] ^= 1 << (i % 8) // β of the first selection
		_, errFull := f.e.Parse(b)
		_, err := f.e.ParseHinted(b, h)
		switch {
		case errFull != nil && !errors.Is(err, ErrMalformed):
			t.Fatalf("bit %d of β: full %v, hinted %v", i, errFull, err)
		case errFull == nil && !errors.Is(err, ErrHint):
			t.Fatalf("bit %d of β: another valid point accepted with the old hint: %v", i, err)
		}
	}
}

// FuzzParseHinted: with any hints, ParseHinted accepts exactly the ballots
// Parse accepts with their own hints, as the same bytes, and names every
// other hint ErrHint.
func FuzzParseHinted(f *testing.F) {
	fx := load(f)
	for _, v := range fx.bf.Valid {
		b, _ := hex.DecodeString(v.Binary)
		h, _ := hex.DecodeString(v.Hints)
		f.Add(b, h)
		w := bytes.Clone(h)
		w[100] ^= 1
		f.Add(b, w)
	}
	f.Fuzz(func(t *testing.T, data, hints []byte) {
		b, errFull := fx.e.Parse(data)
		hb, err := fx.e.ParseHinted(data, hints)
		if errFull != nil {
			if err == nil || errors.Is(err, ErrHint) {
				t.Fatalf("full %v, hinted %v", errFull, err)
			}
			return
		}
		own, _ := fx.e.Hints(data)
		if bytes.Equal(own, hints) != (err == nil) || err != nil && !errors.Is(err, ErrHint) {
			t.Fatalf("own hints %v, hinted %v", bytes.Equal(own, hints), err)
		}
		if err == nil {
			x, _ := b.MarshalBinary()
			y, _ := hb.MarshalBinary()
			if !bytes.Equal(x, y) {
				t.Fatal("different ballot")
			}
		}
	})
}
