package ranked

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/par"
	"github.com/unionvote/eballot/crypto/internal/testceremony"
	"github.com/unionvote/eballot/crypto/shuffle"
	"github.com/unionvote/eballot/crypto/stv"
)

// TestPipeline1000 runs an STV election of 1,000 ranked ballots through the
// cryptographic pipeline: a 2-of-3 key ceremony, encryption with proofs,
// parsing and batch verification (one ballot with an invalid ranking is
// found and left out as spoilt), packing, a cascade of three shuffles (one
// per trustee) verified as a whole, threshold decryption by two trustees,
// decoding, and both counts. The elected candidates and every stage equal
// the counts of the same rankings in the clear.
func TestPipeline1000(t *testing.T) {
	const ballots, n, seats = 1000, 6, 3
	keys, err := testceremony.Run("pipeline-1000", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	mh := sha256.Sum256([]byte("pipeline manifest"))
	c := &Contest{ManifestHash: mh, Key: keys.Key, Index: 0, Styles: 1, Candidates: n, MinRanked: 1, MaxRanked: n}

	// Voters: rankings drawn with a bias so that the count has surpluses
	// and exclusions.
	rng := mrand.New(mrand.NewPCG(1000, 26))
	clear := make([][]int, ballots)
	data := make([][]byte, ballots)
	for i := range clear {
		perm := rng.Perm(n)
		if rng.IntN(3) == 0 {
			j := slices.Index(perm, 0)
			perm[0], perm[j] = perm[j], perm[0]
		}
		clear[i] = perm[:1+rng.IntN(n)]
	}
	errs := make([]error, ballots)
	par.For(ballots, func(i int) {
		b, _, err := c.Encrypt(rand.Reader, 0, clear[i])
		if err != nil {
			errs[i] = err
			return
		}
		data[i], _ = b.MarshalBinary()
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Ballot 500 is replaced by one whose ranks were altered after proving.
	forged, _, _ := c.Encrypt(rand.Reader, 0, []int{1, 2})
	forged = rebuild(c, forged, func(x *Ballot) { x.ranks[1], x.ranks[2] = x.ranks[2], x.ranks[3] })
	data[500], _ = forged.MarshalBinary()

	parsed := make([]*Ballot, ballots)
	for i, d := range data {
		if parsed[i], err = c.Parse(d); err != nil {
			t.Fatalf("ballot %d: %v", i, err)
		}
	}
	bad := c.BatchVerify(parsed)
	if !slices.Equal(bad, []int{500}) {
		t.Fatalf("BatchVerify found %v, want [500]", bad)
	}
	valid := slices.Delete(slices.Clone(parsed), 500, 501)
	clear = slices.Delete(clear, 500, 501)

	// Mix: each trustee shuffles the previous output.
	in, err := c.MixInput(valid)
	if err != nil {
		t.Fatal(err)
	}
	base := c.MixStatement()
	var mixes []shuffle.Mix
	cur := in
	for round := range 3 {
		out, p, err := shuffle.Shuffle(rand.Reader, shuffle.RoundStatement(base, round), cur)
		if err != nil {
			t.Fatal(err)
		}
		mixes = append(mixes, shuffle.Mix{Output: out, Proof: p})
		cur = out
	}
	final, err := shuffle.VerifyCascade(base, in, mixes)
	if err != nil {
		t.Fatal(err)
	}
	// Decrypt with trustees 1 and 2, decode.
	var pds []*shuffle.PartialDecryption
	for _, j := range []int{1, 2} {
		pd, err := shuffle.PartialDecrypt(rand.Reader, keys.Public, keys.Shares[j-1], mh[:], final)
		if err != nil {
			t.Fatal(err)
		}
		pds = append(pds, pd)
	}
	pts, err := shuffle.Decrypt(keys.Public, mh[:], final, pds)
	if err != nil {
		t.Fatal(err)
	}
	var mixed [][]int
	for i, row := range pts {
		r, err := c.Decode(row)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		mixed = append(mixed, r)
	}
	// The mixed rankings are the cast rankings, in another order.
	key := func(r []int) string { b, _ := json.Marshal(r); return string(b) }
	a, b := make([]string, len(clear)), make([]string, len(mixed))
	for i := range clear {
		a[i], b[i] = key(clear[i]), key(mixed[i])
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Fatal("decrypted rankings differ from the cast rankings")
	}
	for _, rule := range []stv.Rule{stv.ERS97, stv.Meek} {
		count := func(rs [][]int) []byte {
			e := &stv.Election{Candidates: n, Seats: seats}
			for _, r := range rs {
				e.Ballots = append(e.Ballots, stv.Ballot{Weight: 1, Prefs: r})
			}
			res, err := stv.Count(rule, e)
			if err != nil {
				t.Fatal(err)
			}
			j, _ := json.Marshal(res)
			return j
		}
		reference, got := count(clear), count(mixed)
		if string(reference) != string(got) {
			t.Fatalf("%s: the count of the decrypted ballots differs from the count in the clear", rule)
		}
		var res stv.Result
		_ = json.Unmarshal(got, &res)
		t.Logf("%s: elected %v in %d stages", rule, res.Elected, len(res.Stages))
	}
}
