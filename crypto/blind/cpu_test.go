package blind

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU returns the CPU time of the calling OS thread (Linux
// RUSAGE_THREAD), or 0 where unavailable.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if runtime.GOOS != "linux" || syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuLoop runs f b.N times (b.Loop) on one locked thread and reports its
// CPU time per op as "cpu-ns/op", which stays meaningful on a busy machine
// where ns/op (wall time) does not.
func cpuLoop(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if d := threadCPU() - start; d > 0 && n > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}
