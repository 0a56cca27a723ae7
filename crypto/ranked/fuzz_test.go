package ranked

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// FuzzParse: the ballot decoder never panics, accepts only canonical
// encodings, and whatever it accepts can be verified without panicking.
func FuzzParse(f *testing.F) {
	_, c := testContest(f, 3, 1, 3)
	for _, r := range [][]int{{0}, {2, 1, 0}} {
		b, _, err := c.Encrypt(rand.Reader, 0, r)
		if err != nil {
			f.Fatal(err)
		}
		data, _ := b.MarshalBinary()
		f.Add(data)
		f.Add(data[:39])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := c.Parse(data)
		if err != nil {
			return
		}
		e, _ := b.MarshalBinary()
		if !bytes.Equal(e, data) {
			t.Fatal("accepted a non-canonical ballot")
		}
		_ = c.Verify(b)
	})
}

// FuzzDecode: decoding decrypted points never panics and returns only
// valid rankings.
func FuzzDecode(f *testing.F) {
	_, c := testContest(f, 4, 1, 4)
	v := func(x uint64) []byte { p := encodedPoint(x); return p[:] }
	f.Add(v(1+2*5+0*25+3*125), make([]byte, 32))
	f.Add(v(0), v(7))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var pts [][32]byte
		for _, x := range [][]byte{a, b}[:c.MixWidth()] {
			var p [32]byte
			copy(p[:], x)
			pts = append(pts, p)
		}
		r, err := c.Decode(pts)
		if err != nil {
			return
		}
		if len(r) < c.MinRanked || len(r) > c.MaxRanked {
			t.Fatalf("ranking %v out of bounds", r)
		}
		seen := map[int]bool{}
		for _, x := range r {
			if x < 0 || x >= c.Candidates || seen[x] {
				t.Fatalf("invalid ranking %v", r)
			}
			seen[x] = true
		}
	})
}
