package cputime

import (
	"runtime"
	"testing"
)

// TestThreadAdvances: spinning on a locked thread makes its CPU time grow.
func TestThreadAdvances(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatal("thread CPU time is only read on Linux")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := Thread()
	x := 0
	for Thread()-start < 2e6 { // 2 ms of CPU
		x++
	}
	if x == 0 {
		t.Fatal("no work done")
	}
}
