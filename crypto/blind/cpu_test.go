package blind

import (
	"runtime"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/cputime"
)

// cpuLoop runs f b.N times (b.Loop) on one locked thread and reports its
// CPU time per op as "cpu-ns/op", which stays meaningful on a busy machine
// where ns/op (wall time) does not.
func cpuLoop(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := cputime.Thread()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if d := cputime.Thread() - start; d > 0 && n > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}
