package stv

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkCount counts 100,000 random rankings of 10 candidates for 4
// seats under each rule (docs/benchmarks.md).
func BenchmarkCount(b *testing.B) {
	rng := rand.New(rand.NewPCG(10, 100000))
	e := &Election{Candidates: 10, Seats: 4}
	for range 100000 {
		perm := rng.Perm(10)
		// Skewed first preferences so that surpluses and exclusions occur.
		if rng.IntN(4) == 0 {
			perm[0], perm[3] = perm[3], perm[0]
		}
		e.Ballots = append(e.Ballots, Ballot{Weight: 1, Prefs: perm[:1+rng.IntN(10)]})
	}
	for _, rule := range []Rule{ERS97, Meek} {
		b.Run(fmt.Sprintf("%s/ballots=100000/candidates=10", rule), func(b *testing.B) {
			for range b.N {
				if _, err := Count(rule, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
