// Package par runs independent pieces of work on several goroutines: the one
// worker pool of the crypto packages (ballot checks, proof batches, mixing).
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls f(0) … f(n-1) on GOMAXPROCS goroutines and returns when all
// calls have returned.
func For(n int, f func(i int)) { N(n, runtime.GOMAXPROCS(0), f) }

// N calls f(0) … f(n-1) on up to procs goroutines (in order on the caller's
// goroutine when procs ≤ 1 or n ≤ 1) and returns when all calls have
// returned. Each index is handed out once, in increasing order.
func N(n, procs int, f func(i int)) {
	workers := min(n, procs)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
