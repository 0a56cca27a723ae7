package par

import (
	"sync/atomic"
	"testing"
)

func TestEveryIndexOnce(t *testing.T) {
	for _, procs := range []int{0, 1, 2, 7} {
		for _, n := range []int{0, 1, 2, 100} {
			counts := make([]atomic.Int32, n)
			N(n, procs, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("procs %d n %d: index %d called %d times", procs, n, i, c)
				}
			}
		}
	}
}
