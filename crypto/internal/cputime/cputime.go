// Package cputime reads the CPU time of the calling OS thread, for
// benchmarks that report CPU per operation: on a shared machine that figure
// stays meaningful where wall time does not (docs/benchmarks.md).
package cputime

import "time"

// Thread returns the user+system CPU time of the calling OS thread (Linux
// RUSAGE_THREAD), or 0 where it is unavailable. Callers lock the goroutine
// to its thread (runtime.LockOSThread) around what they measure.
func Thread() time.Duration { return thread() }
