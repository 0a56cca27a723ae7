package ranked

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallel calls f(i) for every i < n on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	procs := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range procs {
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
