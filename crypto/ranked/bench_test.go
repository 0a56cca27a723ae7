package ranked

import (
	"crypto/rand"
	"fmt"
	"testing"
)

// BenchmarkBallot measures one ranked ballot of n candidates: encryption
// with proofs (the voter's device, here in Go) and verification (ledger and
// scrutineer).
func BenchmarkBallot(b *testing.B) {
	for _, n := range []int{6, 10, 20} {
		_, c := testContest(b, n, 1, n)
		ranking := make([]int, n)
		for i := range ranking {
			ranking[i] = n - 1 - i
		}
		var ballot *Ballot
		b.Run(fmt.Sprintf("encrypt/n=%d", n), func(b *testing.B) {
			for range b.N {
				var err error
				if ballot, _, err = c.Encrypt(rand.Reader, 0, ranking); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("verify/n=%d", n), func(b *testing.B) {
			for range b.N {
				if err := c.Verify(ballot); err != nil {
					b.Fatal(err)
				}
			}
		})
		bs := make([]*Ballot, 200)
		for i := range bs {
			bs[i] = ballot
		}
		b.Run(fmt.Sprintf("batch-verify-200/n=%d", n), func(b *testing.B) {
			for range b.N {
				if bad := c.BatchVerify(bs); bad != nil {
					b.Fatal(bad)
				}
			}
		})
	}
}
