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
// verification) or full width; with mixed, one scalar in four is full
// width (the batch check of compact yes/no ballots: per ballot six 128-bit
// weights and two full-width coefficients).
func decodedInputs(n int, short, mixed bool) ([]*ristretto255.Scalar, []*ristretto255.Element) {
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
		if short && (!mixed || i%4 != 3) {
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
//
// n=16384 with one full-width scalar in four is a batch of 2,048 compact
// yes/no ballots (crypto/verify's default batch).
func BenchmarkMSMCPU(b *testing.B) {
	for _, n := range []int{4096, 16384, 65536} {
		for _, bits := range []string{"128", "253", "3x128+253"} {
			if (n == 16384) != (bits == "3x128+253") {
				continue
			}
			ss, ps := decodedInputs(n, bits != "253", bits == "3x128+253")
			b.Run(fmt.Sprintf("n=%d/bits=%s", n, bits), func(b *testing.B) {
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
