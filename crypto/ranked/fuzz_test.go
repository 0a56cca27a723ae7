package ranked

import (
	"bytes"
	"testing"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/vectortest"
)

// FuzzParse: the ballot decoder never panics, accepts only canonical
// encodings, and whatever it accepts can be verified without panicking.
func FuzzParse(f *testing.F) {
	// The contest of crypto/testdata/ranked_v1.json, seeded with its
	// valid and invalid ballots.
	var v rankedVectors
	vectortest.Load(f, "ranked_v1.json", &v)
	mustHex := func(s string) []byte { return vectortest.Unhex(f, s) }
	key, err := elgamal.ParsePublicKey(mustHex(v.ElectionKey))
	if err != nil {
		f.Fatal(err)
	}
	c := &Contest{Key: key, Index: v.Contest.Index, Styles: v.Contest.Styles, Candidates: v.Contest.Candidates,
		MinRanked: v.Contest.MinRanked, MaxRanked: v.Contest.MaxRanked}
	copy(c.ManifestHash[:], mustHex(v.ManifestHash))
	for _, b := range v.Valid {
		f.Add(mustHex(b.Ballot))
	}
	for _, b := range v.Invalid {
		f.Add(mustHex(b.Ballot))
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
