package threshold_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/cloudflare/circl/group"
	"github.com/unionvote/eballot/crypto/threshold"
)

// A 2-of-3 key ceremony, a partial decryption by each trustee, and the
// combination of two of them.
func Example() {
	const ceremony, n, k = "example-ballot", 3, 2
	g := group.Ristretto255

	// Round 1: every trustee deals; dealings are public, shares go to
	// their recipients (encrypted by the ceremony tool).
	var dealings []*threshold.Dealing
	received := make([][]*threshold.Share, n+1)
	for i := 1; i <= n; i++ {
		d, shares, err := threshold.Deal(rand.Reader, ceremony, n, k, i)
		if err != nil {
			panic(err)
		}
		dealings = append(dealings, d)
		for _, s := range shares {
			received[s.Recipient] = append(received[s.Recipient], s)
		}
	}
	// Round 2: each trustee checks its shares (Finalise does) and derives
	// its key share. Everybody gets the same public key.
	secrets := make([]*threshold.SecretShare, n+1)
	var pub *threshold.PublicKey
	for j := 1; j <= n; j++ {
		p, sk, err := threshold.Finalise(ceremony, n, k, dealings, j, received[j])
		if err != nil {
			panic(err)
		}
		pub, secrets[j] = p, sk
	}

	// Encrypt m = 5 as (α, β) = (r·G, m·G + r·K).
	r := g.RandomScalar(rand.Reader)
	alpha := g.NewElement().MulGen(r)
	beta := g.NewElement().Mul(pub.Key, r)
	beta.Add(beta, g.NewElement().MulGen(g.NewScalar().SetUint64(5)))

	// Tally: trustees 1 and 3 publish partial decryptions; anyone combines.
	mh := sha256.Sum256([]byte("manifest"))
	p1, _ := threshold.PartialDecrypt(rand.Reader, pub, secrets[1], mh[:], []group.Element{alpha})
	p3, _ := threshold.PartialDecrypt(rand.Reader, pub, secrets[3], mh[:], []group.Element{alpha})
	xa, err := threshold.Combine(pub, mh[:], []group.Element{alpha}, []*threshold.Partial{p1, p3})
	if err != nil {
		panic(err)
	}
	mG := g.NewElement().Add(beta, g.NewElement().Neg(xa[0]))
	for m := uint64(0); m < 10; m++ {
		if mG.IsEqual(g.NewElement().MulGen(g.NewScalar().SetUint64(m))) {
			fmt.Println("m =", m)
		}
	}
	// Output: m = 5
}
