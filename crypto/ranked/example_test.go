package ranked_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/ranked"
	"github.com/unionvote/eballot/crypto/shuffle"
)

// Encrypt a ranking with its proofs, parse and verify it, and audit it.
func ExampleContest_Encrypt() {
	sk, _ := elgamal.GenerateKey(rand.Reader)
	c := &ranked.Contest{ManifestHash: sha256.Sum256([]byte("manifest")), Key: sk.PublicKey(), Index: 0,
		Styles: 1, Candidates: 4, MinRanked: 1, MaxRanked: 4}

	b, opening, err := c.Encrypt(rand.Reader, 0, []int{2, 0}) // candidate 2 first, then 0
	if err != nil {
		panic(err)
	}
	data, _ := b.MarshalBinary()
	fmt.Println("bytes:", len(data))

	parsed, err := c.Parse(data)
	if err != nil {
		panic(err)
	}
	fmt.Println("valid ranking:", c.Verify(parsed) == nil)
	fmt.Println("audit matches:", c.CheckAudit(parsed, opening) == nil)
	fmt.Println("ranks packed per ciphertext:", c.DigitsPerCiphertext(), "mix width:", c.MixWidth())
	// Output:
	// bytes: 3151
	// valid ranking: true
	// audit matches: true
	// ranks packed per ciphertext: 4 mix width: 1
}

// Ballots are packed for the mix; after the trustees' shuffles and
// decryption (crypto/shuffle), each row decodes to a ranking. Here the
// election key's secret is known (tests only) so the rows are decrypted
// directly.
func ExampleContest_MixInput() {
	sk, _ := elgamal.GenerateKey(rand.Reader)
	c := &ranked.Contest{ManifestHash: sha256.Sum256([]byte("manifest")), Key: sk.PublicKey(), Index: 0,
		Styles: 1, Candidates: 3, MinRanked: 1, MaxRanked: 3}
	var ballots []*ranked.Ballot
	for _, r := range [][]int{{1, 0}, {2}} {
		b, _, _ := c.Encrypt(rand.Reader, 0, r)
		ballots = append(ballots, b)
	}
	in, err := c.MixInput(ballots)
	if err != nil {
		panic(err)
	}
	out, _, _ := shuffle.Shuffle(rand.Reader, shuffle.RoundStatement(c.MixStatement(), 0), in)
	seen := map[string]bool{}
	for i := 0; i < out.Len(); i++ {
		var pts [][32]byte
		for _, ct := range out.Row(i) {
			var p [32]byte
			copy(p[:], enc(sk.Decrypt(ct)))
			pts = append(pts, p)
		}
		r, err := c.Decode(pts)
		if err != nil {
			panic(err)
		}
		seen[fmt.Sprint(r)] = true
	}
	fmt.Println(seen["[1 0]"], seen["[2]"])
	// Output: true true
}

func enc(e interface{ MarshalBinary() ([]byte, error) }) []byte {
	b, _ := e.MarshalBinary()
	return b
}
