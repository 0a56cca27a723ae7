package ranked_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/ranked"
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
	// ranks packed per ciphertext: 8 mix width: 1
}
