package msm

import (
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"

	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/internal/cputime"
)

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
				start := cputime.Thread()
				k := 0
				for b.Loop() {
					VarTimeMultiScalarMult(ristretto255.NewElement(), ss, ps)
					k++
				}
				if d := cputime.Thread() - start; d > 0 {
					b.ReportMetric(float64(d.Nanoseconds())/float64(k*n), "cpu-ns/point")
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k*n), "ns/point")
			})
		}
	}
}

// BenchmarkMSM compares the bucket method with gtank's Straus (wall time).
func BenchmarkMSM(b *testing.B) {
	for _, n := range []int{64, 1024, 16384} {
		for _, short := range []bool{false, true} {
			ss, ps := decodedInputs(n, short, false)
			name := fmt.Sprintf("n=%d/short=%v", n, short)
			b.Run("pippenger/"+name, func(b *testing.B) {
				for b.Loop() {
					VarTimeMultiScalarMult(ristretto255.NewElement(), ss, ps)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
			})
			if n <= 1024 {
				b.Run("straus/"+name, func(b *testing.B) {
					for b.Loop() {
						ristretto255.NewElement().VarTimeMultiScalarMult(ss, ps)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
				})
			}
		}
	}
}
