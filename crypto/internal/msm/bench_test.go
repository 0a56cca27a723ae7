package msm

import (
	"crypto/rand"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gtank/ristretto255"
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

// decodedInputs returns n decoded points (Z = 1, as a verifier reads them
// from an export) and scalars of 128 bits (the random weights of a batch
// verification) or full width.
func decodedInputs(n int, short bool) ([]*ristretto255.Scalar, []*ristretto255.Element) {
	ss := make([]*ristretto255.Scalar, n)
	ps := make([]*ristretto255.Element, n)
	var b [64]byte
	for i := range n {
		_, _ = rand.Read(b[:])
		p := ristretto255.NewElement().FromUniformBytes(b[:])
		ps[i] = ristretto255.NewElement()
		if err := ps[i].Decode(p.Encode(nil)); err != nil {
			panic(err)
		}
		_, _ = rand.Read(b[:])
		if short {
			clear(b[16:])
			ss[i] = ristretto255.NewScalar()
			_ = ss[i].Decode(b[:32])
		} else {
			ss[i] = ristretto255.NewScalar().FromUniformBytes(b[:])
		}
	}
	return ss, ps
}

// BenchmarkMSMCPU measures the bucket MSM on decoded points, as CPU time of
// its (locked) thread per point: "cpu-ns/point" stays meaningful on a
// shared machine where wall time does not.
//
//	go test ./crypto/internal/msm -run '^$' -bench MSMCPU -count 3
func BenchmarkMSMCPU(b *testing.B) {
	for _, n := range []int{4096, 65536} {
		for _, bits := range []int{128, 253} {
			ss, ps := decodedInputs(n, bits == 128)
			b.Run(fmt.Sprintf("n=%d/bits=%d", n, bits), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				start := threadCPU()
				k := 0
				for b.Loop() {
					VarTimeMultiScalarMult(ristretto255.NewElement(), ss, ps)
					k++
				}
				if d := threadCPU() - start; d > 0 {
					b.ReportMetric(float64(d.Nanoseconds())/float64(k*n), "cpu-ns/point")
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k*n), "ns/point")
			})
		}
	}
}
